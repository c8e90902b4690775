"""Trained models shipped with the package (the top-level ``trained/`` folder, installed as ``ase_geoformer.trained``)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from ase_geoformer.checkpoint import Checkpoint, load_checkpoint
from ase_geoformer.errors import ModelNotFoundError
from ase_geoformer.nn.committee import GeoFormerCommittee, member_models

DEFAULT_MODEL = "ethanol-committee"
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


def trained_molecule(checkpoint: Checkpoint) -> str | None:
    """The molecule a checkpoint was trained on (for a committee: that of all members), from its provenance.

    ``None`` when the provenance does not record one (a model trained on a data file) or a
    committee's members disagree. Its errors are stored in the metrics as ``"<molecule> test_01"``.
    """
    if isinstance(checkpoint.model, GeoFormerCommittee):
        provenances = [member.get("provenance", {}) for member in checkpoint.provenance.get("members", [])]
    else:
        provenances = [checkpoint.provenance]
    molecules = {provenance.get("training_config", {}).get("molecule") for provenance in provenances}
    return molecules.pop() if len(molecules) == 1 else None


def describe_shipped_models() -> list[dict[str, object]]:
    """Name, molecule, elements, parameter count, committee size and stored test errors of each installed model."""
    from ase.data import chemical_symbols

    rows = []
    for name, path in sorted(shipped_models().items()):
        checkpoint = load_checkpoint(path)
        molecule = trained_molecule(checkpoint)
        test = checkpoint.metrics.get(f"{molecule} test_01", {})
        rows.append({
            "name": name,
            "molecule": molecule,
            "elements": "".join(chemical_symbols[z] for z in checkpoint.model.species),
            "parameters": sum(p.numel() for p in checkpoint.model.parameters()),
            "members": len(member_models(checkpoint.model)),
            "test_01_energy_mae_meV": test.get("energy_mae_meV"),
            "test_01_force_mae_meV_per_A": test.get("force_mae_meV_per_A"),
            "path": str(path),
        })
    return rows


def main() -> None:
    """``geoformer-models``: list the installed models with their test_01 errors; a committee costs one call per member."""
    print("| model | elements | parameters | test_01 energy MAE (meV) | test_01 force MAE (meV/Å) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for row in describe_shipped_models():
        energy, forces = row["test_01_energy_mae_meV"], row["test_01_force_mae_meV_per_A"]
        notes = (["default"] if row["name"] == DEFAULT_MODEL else []) + ([f"committee of {row['members']}"] if row["members"] > 1 else [])
        note = f" ({', '.join(notes)})" if notes else ""
        print(f"| {row['name']}{note} | {row['elements']} | "
              f"{row['parameters']:,} | {'n/a' if energy is None else f'{energy:.2f}'} | "
              f"{'n/a' if forces is None else f'{forces:.2f}'} |")
