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
from ase_geoformer.nn.model import GeoFormer
from ase_geoformer.predict import batch_atomic_energies, compiled_atomic_energies, predict
from ase_geoformer.zoo import resolve_checkpoint


class GeoFormerCalculator(Calculator):
    """Energies (eV), forces (eV/Å), per-atom energies and, for periodic cells, stress (eV/Å^3).

    Args:
        model: a shipped model name (e.g. ``"ethanol"``), a checkpoint path, or a ``GeoFormer``
            module (copied, so the caller's module is left as it is). ``None`` loads the default
            shipped model.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...; ``None`` picks CUDA when available.
        dtype: ``"float64"`` (default, for MD and finite differences) or ``"float32"``; set on this
            calculator's copy of the model only, never as torch's global default.
        dense_max_atoms: molecules up to this size use the dense all-pairs path; larger or
            periodic structures use the neighbour-list path. Both give the same energies.
        compile: run the model through ``torch.compile`` (CUDA graphs on CUDA): same energies
            and forces, faster calls, but the first call compiles (tens of seconds on CPU), and a
            call with new sizes may compile again. Worth it for MD runs of thousands of steps.

    For a molecule whose atoms do not change between calls (MD), the species, masks and pair
    layout are built once; each call sends only positions to the device and brings back one
    tensor of results.
    """

    implemented_properties = ["energy", "free_energy", "forces", "energies", "stress"]

    def __init__(
        self,
        model: str | os.PathLike | GeoFormer | None = None,
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
        if isinstance(model, GeoFormer):
            self.checkpoint, module = None, copy.deepcopy(model)
        elif isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a GeoFormer module, a checkpoint path or a shipped model name, got {type(model).__name__}")
        else:
            self.checkpoint = resolve_checkpoint(model)
            module = self.checkpoint.model
        self.model: GeoFormer = module.to(device=self.device, dtype=self.dtype).eval()
        self.model.requires_grad_(False)
        self.species = self.model.config.species

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
        periodic = bool(atoms.pbc.all())
        output = predict(
            self.model,
            self._batch(atoms),
            compute_forces=True,
            compute_stress=periodic and "stress" in properties,
            atomic_energies=self._atomic_energies,
        )
        n = len(atoms)
        parts = [output["energy"].reshape(1), output["atomic_energies"].reshape(n), output["forces"].reshape(3 * n)]
        if "stress" in output:
            parts.append(output["stress"].reshape(9))
        values = torch.cat(parts).detach().cpu().double().numpy()
        energy = float(values[0])
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "energies": values[1 : n + 1],
            "forces": values[n + 1 : 4 * n + 1].reshape(n, 3),
        }
        if "stress" in output:
            self.results["stress"] = full_3x3_to_voigt_6_stress(values[4 * n + 1 :].reshape(3, 3))

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
