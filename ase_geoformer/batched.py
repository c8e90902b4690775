"""Energies and forces of many structures in few forward passes (screening, MD replicas)."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import Any

import torch
from ase import Atoms

from ase_geoformer.batch import check_structure, dense_batch, neighbour_list_batch
from ase_geoformer.checkpoint import DTYPES
from ase_geoformer.nn.committee import EnergyModel, GeoFormerCommittee
from ase_geoformer.nn.model import GeoFormer
from ase_geoformer.predict import predict
from ase_geoformer.zoo import resolve_checkpoint


def evaluate_structures(
    structures: Sequence[Atoms],
    model: EnergyModel | str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    dtype: str = "float64",
    batch_size: int = 64,
) -> list[dict[str, Any]]:
    """Energy (eV), per-atom energies (eV) and forces (eV/Å) of each structure, in input order.

    Molecules go through the dense path in padded batches of ``batch_size``; periodic structures
    through the neighbour-list path, also batched. ``model`` is a module, a shipped name or a
    checkpoint path (``None``: the default model); a module is copied, never changed.
    """
    model = copy.deepcopy(model) if isinstance(model, (GeoFormer, GeoFormerCommittee)) else resolve_checkpoint(model).model
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch_dtype = DTYPES[dtype]
    model = model.to(device=device, dtype=torch_dtype).eval()
    for atoms in structures:
        check_structure(atoms)
    results: list[dict[str, Any]] = [{} for _ in structures]
    molecules = [i for i, atoms in enumerate(structures) if not atoms.pbc.any()]
    periodic = [i for i, atoms in enumerate(structures) if atoms.pbc.any()]
    for group, build in ((molecules, _dense), (periodic, _neighbour_list)):
        for start in range(0, len(group), batch_size):
            chunk = group[start : start + batch_size]
            batch = build([structures[i] for i in chunk], model, device, torch_dtype)
            output = predict(model, batch, compute_forces=True)
            energies = output["energy"].detach().double().cpu().numpy()
            atomic = output["atomic_energies"].detach().double().cpu().numpy()
            forces = output["forces"].detach().double().cpu().numpy()
            offset = 0
            for position, index in enumerate(chunk):
                n = len(structures[index])
                if build is _dense:
                    part_atomic, part_forces = atomic[position, :n], forces[position, :n]
                else:
                    part_atomic, part_forces = atomic[offset : offset + n], forces[offset : offset + n]
                    offset += n
                results[index] = {"energy": float(energies[position]), "energies": part_atomic, "forces": part_forces}
    return results


def _dense(structures: list[Atoms], model: EnergyModel, device: torch.device, dtype: torch.dtype):
    return dense_batch(structures, model.species, device, dtype)


def _neighbour_list(structures: list[Atoms], model: EnergyModel, device: torch.device, dtype: torch.dtype):
    return neighbour_list_batch(structures, model.species, model.r_max, device, dtype)

