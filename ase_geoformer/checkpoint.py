"""The checkpoint format: a plain dictionary that ``torch.load(weights_only=True)`` reads.

A checkpoint never pickles modules or classes, so loading one cannot run code. Its keys:

- ``format`` (``"ase-geoformer-checkpoint"``) and ``format_version`` (int),
- ``config``: ``GeoFormerConfig.to_dict()``; ``species``: the atomic numbers, ascending,
- ``dtype``: dtype of the stored tensors; ``state_dict``: parameters and buffers,
- ``units``: ``{"energy": "eV", "length": "Å"}``,
- ``energy_statistics``: readout scale and shift and per-element reference energies (eV),
- ``provenance`` and ``metrics``: JSON-compatible dicts (training data, command, measured MAEs),
- ``sha256``: a digest of everything above, so that a modified file is refused.

Format version 2 holds a ``GeoFormerCommittee``: ``members``, a list of each member's ``config``,
``species``, ``dtype`` and ``energy_statistics``, takes the place of those keys, and the state dict
is the committee's (``members.0.…``, ``members.1.…``). Single models are still written as version 1,
so that older versions of ase-geoformer read them.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ase_geoformer.config import GeoFormerConfig
from ase_geoformer.errors import CheckpointError
from ase_geoformer.io_utils import atomic_path
from ase_geoformer.nn.committee import EnergyModel, GeoFormerCommittee
from ase_geoformer.nn.model import GeoFormer

FORMAT_NAME = "ase-geoformer-checkpoint"
SINGLE_MODEL_VERSION = 1
COMMITTEE_VERSION = 2
FORMAT_VERSION = COMMITTEE_VERSION  # the newest version this code reads
UNITS = {"energy": "eV", "length": "Å"}
DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model or committee (on CPU, in the stored dtype) and its metadata."""

    model: EnergyModel
    path: Path
    provenance: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(
    path: str | os.PathLike,
    model: EnergyModel,
    provenance: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> None:
    """Write ``model`` (a GeoFormer or a committee) with its metadata to ``path`` atomically (a killed write leaves the old file)."""
    if isinstance(model, GeoFormerCommittee):
        description = {
            "format_version": COMMITTEE_VERSION,
            "species": list(model.species),
            "members": [_model_description(member) for member in model.members],
        }
    else:
        description = {"format_version": SINGLE_MODEL_VERSION, **_model_description(model)}
    content: dict[str, Any] = {
        "format": FORMAT_NAME,
        **description,
        "units": dict(UNITS),
        "provenance": _json_compatible(provenance or {}, "provenance"),
        "metrics": _json_compatible(metrics or {}, "metrics"),
        "state_dict": {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()},
    }
    content["sha256"] = _digest(content)
    with atomic_path(path) as temporary:
        torch.save(content, temporary)


def _model_description(model: GeoFormer) -> dict[str, Any]:
    """Config, species, dtype and readout statistics of one model: what rebuilds it before its weights load."""
    readout = model.readout
    return {
        "config": model.config.to_dict(),
        "species": list(model.species),
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "energy_statistics": {
            "scale": float(readout.scale),
            "shift": float(readout.shift),
            "reference_energies": {
                str(z): float(e) for z, e in zip(model.species, readout.reference_energies.tolist())
            },
        },
    }


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load and validate the raw checkpoint dictionary; raise ``CheckpointError`` naming the problem."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}: check the path (or pass a shipped model name)")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{path} is corrupt, truncated, or not a checkpoint at all (it is no PyTorch archive). "
            "Copy or download it again, or pass a file written by ase_geoformer.save_checkpoint"
        )
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        objects = sorted(set(re.findall(r"GLOBAL (\S+)", str(error))))
        raise CheckpointError(
            f"{path} is not a GeoFormer checkpoint: it holds pickled Python objects ({', '.join(objects) or 'unknown'}), "
            "which could run code, so it was refused. Re-save the model with ase_geoformer.save_checkpoint"
        ) from error
    except Exception as error:
        raise CheckpointError(
            f"{path} is corrupt or truncated and cannot be read ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}). Copy or download it again"
        ) from error
    if not isinstance(content, dict) or content.get("format") != FORMAT_NAME:
        raise CheckpointError(
            f"{path} is not a GeoFormer checkpoint (it lacks format={FORMAT_NAME!r}); pass a file written by "
            "ase_geoformer.save_checkpoint or the training command"
        )
    version = content.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{path} has an invalid format version {version!r}; the file is damaged or foreign")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {version}, newer than this ase-geoformer reads "
            f"(up to {FORMAT_VERSION}): upgrade ase-geoformer (pip install -U ase-geoformer)"
        )
    described_by = "members" if version >= COMMITTEE_VERSION else "config"
    missing = [key for key in (described_by, "species", "state_dict", "sha256") if key not in content]
    if missing:
        raise CheckpointError(f"{path} lacks the entries {missing}; the file is damaged or foreign")
    if content["sha256"] != _digest({k: v for k, v in content.items() if k != "sha256"}):
        raise CheckpointError(
            f"{path} was modified after it was written: its contents do not match its sha256 digest. "
            "Use an unmodified copy of the checkpoint"
        )
    return content


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Rebuild the model (or committee) of a checkpoint on CPU, in the dtype it was stored in."""
    content = read_checkpoint(path)
    if content["format_version"] >= COMMITTEE_VERSION:
        if not isinstance(content["members"], list) or not content["members"]:
            raise CheckpointError(f"{path} is a committee checkpoint without members; the file is damaged or foreign")
        members = [_empty_model(member, path) for member in content["members"]]
        try:
            model: EnergyModel = GeoFormerCommittee(members)
        except ValueError as error:
            raise CheckpointError(f"{path} holds an invalid committee: {error}") from error
    else:
        model = _empty_model(content, path)
    if list(model.species) != list(content["species"]):
        raise CheckpointError(f"{path}: species {content['species']} disagree with the config's {list(model.species)}")
    try:
        model.load_state_dict(content["state_dict"])
    except RuntimeError as error:
        raise CheckpointError(f"{path} does not match the GeoFormer architecture of its config: {error}") from error
    return Checkpoint(
        model=model.eval(),
        path=Path(path),
        provenance=content.get("provenance", {}),
        metrics=content.get("metrics", {}),
    )


def _empty_model(description: dict[str, Any], path: str | os.PathLike) -> GeoFormer:
    """A GeoFormer built from a config and dtype (``_model_description``), before its weights load."""
    try:
        config = GeoFormerConfig.from_dict(description["config"])
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{path} holds an invalid model config: {error}") from error
    dtype = DTYPES.get(description.get("dtype"))
    if dtype is None:
        raise CheckpointError(f"{path} stores tensors of dtype {description.get('dtype')!r}; expected float32 or float64")
    return GeoFormer(config).to(dtype)


def _json_compatible(data: dict[str, Any], name: str) -> dict[str, Any]:
    try:
        return json.loads(json.dumps(data))
    except TypeError as error:
        raise TypeError(f"checkpoint {name} must hold JSON-compatible values only: {error}") from error


def _digest(content: dict[str, Any]) -> str:
    """sha256 over the metadata (as canonical JSON) and every tensor's name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    metadata = {k: v for k, v in content.items() if k != "state_dict"}
    digest.update(json.dumps(metadata, sort_keys=True, ensure_ascii=True).encode())
    state_dict = content.get("state_dict")
    if not isinstance(state_dict, dict):
        raise CheckpointError("the checkpoint's state_dict is not a dictionary of tensors; the file is damaged or foreign")
    for name in sorted(state_dict):
        tensor = state_dict[name]
        if not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"the checkpoint's state_dict entry {name!r} is not a tensor; the file is damaged")
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
