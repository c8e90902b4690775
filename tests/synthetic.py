"""Synthetic data for tests: a small labelled data set from an analytic potential (ASE's Morse), and rMD17-format
npz files of random numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase.build import molecule
from ase.calculators.morse import MorsePotential
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from ase_geoformer.data import AtomsDataset


def morse_frames(count: int, seed: int = 0, rattle: float = 0.05) -> list:
    """``count`` distorted methanol molecules with Morse energies (eV) and forces (eV/Å)."""
    rng = np.random.default_rng(seed)
    base = molecule("CH3OH")
    potential = MorsePotential(epsilon=0.3, r0=1.2, rho0=3.0)
    frames = []
    for _ in range(count):
        atoms = base.copy()
        atoms.positions += rng.normal(scale=rattle, size=atoms.positions.shape)
        atoms.calc = potential
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        frames.append(atoms)
    return frames


def morse_dataset(count: int, seed: int = 0) -> AtomsDataset:
    frames = morse_frames(count, seed)
    return AtomsDataset.from_frames(
        numbers=frames[0].numbers,
        positions=np.stack([a.positions for a in frames]),
        energies=np.array([a.get_potential_energy() for a in frames]),
        forces=np.stack([a.get_forces() for a in frames]),
        source="morse",
    )


def write_morse_extxyz(path: Path, count: int, seed: int = 0) -> Path:
    write(path, morse_frames(count, seed), format="extxyz")
    return path


def write_rmd17_npz(path: Path, frames: int = 4, seed: int = 0, **changes) -> dict:
    """A water file in rMD17's format and units (kcal/mol, Å) of random numbers; ``changes`` replace keys (None
    drops one). Returns the raw content."""
    rng = np.random.default_rng(seed)
    content = {
        "nuclear_charges": np.array([8, 1, 1], dtype=np.uint8),
        "coords": rng.normal(size=(frames, 3, 3)),
        "energies": rng.normal(size=frames) - 47000.0,
        "forces": rng.normal(size=(frames, 3, 3)),
        "old_indices": np.arange(100, 100 + frames),
    }
    content.update(changes)
    np.savez(path, **{k: v for k, v in content.items() if v is not None})
    return content
