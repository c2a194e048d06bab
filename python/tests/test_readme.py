"""The README's "From Python" example runs as written (from the repository root)."""

from __future__ import annotations

import os
import re

from conftest import REPO


def test_readme_from_python_block_runs():
    text = (REPO / "README.md").read_text()
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1
    previous = os.getcwd()
    os.chdir(REPO)
    try:
        exec(compile(blocks[0], "README.md (From Python)", "exec"), {})
    finally:
        os.chdir(previous)
