"""The package version: the lstmconv repository's VERSION file (pyproject.toml reads it through python/VERSION)."""

from __future__ import annotations

from pathlib import Path


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("lstmw")
        except PackageNotFoundError:
            pass
    except ImportError:  # pragma: no cover - Python < 3.8
        pass
    source = Path(__file__).resolve().parents[2] / "VERSION"  # running from a checkout
    return source.read_text(encoding="utf-8").strip() if source.is_file() else "0+unknown"


__version__ = _version()
