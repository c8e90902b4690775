"""``GeoFormerCalculator``: the ASE calculator of GeoFormer models."""

from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from ase_geoformer.batch import Batch, DenseBatch, check_structure, dense_batch, neighbour_list_batch
from ase_geoformer.checkpoint import DTYPES
from ase_geoformer.nn.committee import EnergyModel, GeoFormerCommittee, VectorizedMembers
from ase_geoformer.nn.model import GeoFormer
from ase_geoformer.predict import (
    batch_atomic_energies,
    compiled_atomic_energies,
    compiled_member_energies,
    member_energies,
    predict,
    predict_members,
)
from ase_geoformer.zoo import resolve_checkpoint


class GeoFormerCalculator(Calculator):
    """Energies (eV), forces (eV/Å), per-atom energies and, for periodic cells, stress (eV/Å^3).

    A committee returns the mean of its members' predictions and, as a measure of their
    disagreement, ``energy_deviation`` (eV: the root mean square deviation of the members' energies
    from their mean) and ``force_deviations`` (eV/Å, one per atom: the root mean square over members
    of ``|F_i - mean F_i|``; its maximum over atoms is DP-GEN's model deviation). Single models do not
    have these two properties.

    Args:
        model: a shipped model name (e.g. ``"ethanol"``), a checkpoint path, or a ``GeoFormer`` or
            ``GeoFormerCommittee`` module (copied, so the caller's module is left as it is). ``None``
            loads the default shipped model.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...; ``None`` picks CUDA when available.
        dtype: ``"float64"`` (default, for MD and finite differences) or ``"float32"``; set on this
            calculator's copy of the model only, never as torch's global default.
        dense_max_atoms: molecules up to this size use the dense all-pairs path; larger or
            periodic structures use the neighbour-list path. Both give the same energies.
        compile: run the model through ``torch.compile`` (CUDA graphs on CUDA): same energies
            and forces, faster calls, but the first call compiles (tens of seconds on CPU, minutes for
            a committee), and a call with new sizes may compile again. Worth it for MD runs of
            thousands of steps.

    For a molecule whose atoms do not change between calls (MD), the species, masks and pair
    layout are built once; each call sends only positions to the device and brings back one
    tensor of results.
    """

    implemented_properties = [
        "energy", "free_energy", "forces", "energies", "stress", "energy_deviation", "force_deviations"
    ]

    def __init__(
        self,
        model: str | os.PathLike | EnergyModel | None = None,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype = "float64",
        dense_max_atoms: int = 128,
        compile: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.device = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
        self.dtype = _resolve_dtype(dtype)
        self.dense_max_atoms = int(dense_max_atoms)
        self._atomic_energies = compiled_atomic_energies(self.device) if compile else batch_atomic_energies
        self._molecule: tuple[bytes, DenseBatch] | None = None
        if isinstance(model, (GeoFormer, GeoFormerCommittee)):
            self.checkpoint, module = None, copy.deepcopy(model)
        elif isinstance(model, torch.nn.Module):
            raise TypeError(
                "model must be a GeoFormer or GeoFormerCommittee module, a checkpoint path or a shipped model name, "
                f"got {type(model).__name__}"
            )
        else:
            self.checkpoint = resolve_checkpoint(model)
            module = self.checkpoint.model
        self.model: EnergyModel = module.to(device=self.device, dtype=self.dtype).eval()
        self.model.requires_grad_(False)
        self.species = self.model.species
        self._members = VectorizedMembers(self.model) if isinstance(self.model, GeoFormerCommittee) else None
        self._member_energies = compiled_member_energies() if compile else member_energies

    def check_state(self, atoms: Atoms, tol: float = 1e-15) -> list[str]:
        """ASE's checks, plus ``"info"`` when ``atoms.info`` changed since the last calculation."""
        changes = super().check_state(atoms, tol)
        if self.atoms is not None and not _same_info(atoms.info, self.atoms.info):
            changes.append("info")
        return changes

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: list[str] | tuple[str, ...] = ("energy",),
        system_changes: list[str] = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        check_structure(atoms)
        batch = self._batch(atoms)
        compute_stress = bool(atoms.pbc.all()) and "stress" in properties
        outputs = self._member_predictions(batch, compute_stress)
        n = len(atoms)
        keys = ["energy", "atomic_energies", "forces", *(["stress"] if compute_stress else [])]
        values = _mean_and_deviations(outputs, keys, n).detach().cpu().double().numpy()
        energy = float(values[0])
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "energies": values[1 : n + 1],
            "forces": values[n + 1 : 4 * n + 1].reshape(n, 3),
        }
        end = 4 * n + 1
        if compute_stress:
            self.results["stress"] = full_3x3_to_voigt_6_stress(values[end : end + 9].reshape(3, 3))
            end += 9
        if len(outputs["energy"]) > 1:
            self.results["energy_deviation"] = float(values[end])
            self.results["force_deviations"] = values[end + 1 : end + 1 + n]

    def _member_predictions(self, batch: Batch, compute_stress: bool) -> dict[str, torch.Tensor]:
        """Each member's ``predict`` outputs, stacked on a first axis ``(M, ...)`` (M = 1 for a single model)."""
        if self._members is not None:
            return predict_members(self._members, batch, True, compute_stress, energies=self._member_energies)
        output = predict(self.model, batch, True, compute_stress, atomic_energies=self._atomic_energies)
        return {key: value.unsqueeze(0) for key, value in output.items()}

    def _batch(self, atoms: Atoms) -> Batch:
        """The model input. A molecule on the dense path keeps its species and masks while its atoms stay the same."""
        if atoms.pbc.any() or len(atoms) > self.dense_max_atoms:
            return neighbour_list_batch([atoms], self.species, self.model.r_max, self.device, self.dtype)
        key = atoms.numbers.tobytes()
        if self._molecule is None or self._molecule[0] != key:
            self._molecule = (key, dense_batch([atoms], self.species, self.device, self.dtype))
            return self._molecule[1]
        positions = torch.from_numpy(atoms.positions).to(device=self.device, dtype=self.dtype)
        return self._molecule[1].with_positions(positions.unsqueeze(0))


def _mean_and_deviations(outputs: dict[str, torch.Tensor], keys: list[str], n: int) -> torch.Tensor:
    """One flat tensor, so that results reach the host in one transfer: the members' mean of ``keys``
    (energy, ``n`` atomic energies, ``3n`` forces[, 9 stress]), then, for two or more members, the
    energy deviation and the ``n`` per-atom force deviations. ``outputs`` are stacked per member ``(M, ...)``."""
    num_members = len(outputs["energy"])
    per_member = torch.cat([outputs[key].reshape(num_members, -1) for key in keys], dim=1)
    parts = [per_member.mean(dim=0)]
    if num_members > 1:
        energies = per_member[:, 0]
        forces = per_member[:, n + 1 : 4 * n + 1].reshape(num_members, n, 3)
        energy_deviation = (energies - energies.mean()).pow(2).mean().sqrt()
        force_deviations = (forces - forces.mean(dim=0)).pow(2).sum(dim=-1).mean(dim=0).sqrt()
        parts += [energy_deviation.reshape(1), force_deviations]
    return torch.cat(parts)


def _resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    raise ValueError(f"dtype must be 'float64' or 'float32' (or torch.float64/torch.float32), got {dtype!r}")


def _same_info(a: dict, b: dict) -> bool:
    """Equality of two ``atoms.info`` dicts that may hold numpy arrays."""
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        other = b[key]
        if isinstance(value, np.ndarray) or isinstance(other, np.ndarray):
            if not np.array_equal(np.asarray(value), np.asarray(other)):
                return False
        elif value != other:
            return False
    return True
