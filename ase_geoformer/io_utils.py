"""Atomic file writes: a killed process never leaves a truncated file behind."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(temporary)
    temporary.chmod(0o644)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def write_mapping(path: str | os.PathLike, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON, or as YAML for a ``.yaml``/``.yml`` path (needs PyYAML), atomically."""
    path = Path(path)
    if path.suffix in (".yaml", ".yml"):
        text = _yaml().safe_dump(data, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(data, indent=2) + "\n"
    atomic_write_text(path, text)


def read_mapping(path: str | os.PathLike) -> dict[str, Any]:
    """Read a mapping written by ``write_mapping`` (JSON or YAML by file extension)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no config file at {path}")
    text = path.read_text()
    data = _yaml().safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a mapping of settings (name: value)")
    return data


def _yaml():
    try:
        import yaml
    except ImportError as error:
        raise ImportError("YAML config files need PyYAML: pip install pyyaml (or use a .json file)") from error
    return yaml


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (figures are only written to files)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: str | os.PathLike) -> None:
    """Write ``figure`` as PNG atomically and close it."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot().close(figure)
