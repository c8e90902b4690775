"""Trained models shipped with the package (the top-level ``trained/`` folder, installed as ``ase_geoformer.trained``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

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
