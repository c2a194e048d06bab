"""One version: the VERSION file, `lstmconv --version`, the writer's provenance.converter and the Python package."""

from __future__ import annotations

import lstmw
from conftest import FIXTURES, REPO, run_cli


def test_versions_agree(tmp_path):
    version = (REPO / "VERSION").read_text().strip()
    assert lstmw.__version__ == version
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith(f"lstmconv {version} ("), result.stdout
    out = tmp_path / "m.lstmw"
    imported = run_cli("import", str(FIXTURES / "pytorch/lstm_1layer/model.safetensors"), "-o", str(out))
    assert imported.returncode == 0, imported.stderr
    assert lstmw.load(out).provenance["converter"] == f"lstmconv {version}"
