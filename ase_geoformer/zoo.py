"""Trained models shipped with the package (the top-level ``trained/`` folder, installed as ``ase_geoformer.trained``)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from ase_geoformer.checkpoint import Checkpoint, load_checkpoint
from ase_geoformer.errors import ModelNotFoundError

DEFAULT_MODEL = "ethanol"
CHECKPOINT_SUFFIX = ".pt"


def shipped_models() -> dict[str, Path]:
    """Names and checkpoint paths of the installed trained models."""
    folder = resources.files("ase_geoformer.trained")
    return {
        entry.name.removesuffix(CHECKPOINT_SUFFIX): Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(CHECKPOINT_SUFFIX)
    }


def shipped_model_path(name: str) -> Path:
    """Checkpoint path of the shipped model ``name``; ``ModelNotFoundError`` names the alternatives."""
    models = shipped_models()
    if name in models:
        return models[name]
    available = ", ".join(sorted(models)) or "none yet"
    raise ModelNotFoundError(
        f"no shipped model named {name!r} (installed models: {available}). Pass model= a checkpoint path "
        "(a .pt file written by ase_geoformer.save_checkpoint or the training command) or a GeoFormer module"
    )


def resolve_checkpoint(model: str | os.PathLike | None = None) -> Checkpoint:
    """Load a shipped model by name, a checkpoint by path, or (``None``) the default shipped model."""
    if model is None:
        if DEFAULT_MODEL not in shipped_models():
            raise ModelNotFoundError(
                f"the default shipped model {DEFAULT_MODEL!r} is not installed. Pass model='path/to/checkpoint.pt' "
                "(written by ase_geoformer.save_checkpoint or the training command), or reinstall ase-geoformer"
            )
        return load_checkpoint(shipped_model_path(DEFAULT_MODEL))
    if isinstance(model, str) and model in shipped_models():
        return load_checkpoint(shipped_model_path(model))
    path = Path(model)
    if path.suffix or path.exists() or os.sep in str(model):
        return load_checkpoint(path)
    return load_checkpoint(shipped_model_path(str(model)))
