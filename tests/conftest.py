"""Shared fixtures: small random-weight models (float64) and test structures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import molecule

from ase_geoformer import GeoFormer, GeoFormerCalculator, GeoFormerConfig
from ase_geoformer.nn.embedding import NeighbourSpeciesFilter

SPECIES = (1, 6, 7, 8)

all_architectures = pytest.mark.parametrize(
    "model", [False, True], ids=["species_blind", "neighbour_species"], indirect=True
)
"""Runs a test that takes the ``model`` fixture once per architecture option (``neighbour_species``)."""


def small_config(**overrides) -> GeoFormerConfig:
    settings = dict(species=SPECIES, channels=32, num_heads=4, num_blocks=2, num_radial=8, r_max=4.0, gate_hidden=16)
    settings.update(overrides)
    return GeoFormerConfig(**settings)


def random_model(config: GeoFormerConfig | None = None, seed: int = 0) -> GeoFormer:
    """A float64 model with random weights and non-trivial energy statistics."""
    torch.manual_seed(seed)
    model = GeoFormer(config or small_config()).double()
    for module in model.modules():
        if isinstance(module, NeighbourSpeciesFilter):  # starts at ones (species-blind): make it matter
            torch.nn.init.normal_(module.weights.weight, mean=1.0, std=0.5)
    species = model.config.species
    model.readout.set_energy_statistics(scale=0.7, shift=-0.3, reference_energies=[-0.5 * z for z in species])
    return model


def calculator(model: GeoFormer, **kwargs) -> GeoFormerCalculator:
    return GeoFormerCalculator(model=model, device="cpu", **kwargs)


def energy(atoms: Atoms, calc: GeoFormerCalculator) -> float:
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy()


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A proper rotation matrix (det +1)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


@pytest.fixture
def model(request) -> GeoFormer:
    """The small random model; ``all_architectures`` asks for it with and without ``neighbour_species``."""
    return random_model(small_config(neighbour_species=getattr(request, "param", False)))


@pytest.fixture
def ethanol() -> Atoms:
    atoms = molecule("CH3CH2OH")
    atoms.rattle(0.05, seed=1)
    return atoms


@pytest.fixture
def glycine() -> Atoms:
    """A molecule with all four species H, C, N, O, slightly distorted."""
    atoms = molecule("CH3CONH2")
    atoms.rattle(0.05, seed=2)
    return atoms
