"""Batched evaluation equals the calculator structure by structure, on both paths."""

from __future__ import annotations

import numpy as np
import torch
from ase.build import bulk, molecule
from conftest import calculator

from ase_geoformer.batched import evaluate_structures


def test_many_structures_at_once_equal_one_by_one(model):
    structures = [molecule(name) for name in ("CH3CH2OH", "H2O", "CH3CONH2", "CH4", "HCOOH")]
    for number, atoms in enumerate(structures):
        atoms.rattle(0.05, seed=number)
    crystal = bulk("C", "diamond", a=3.6, cubic=True)
    crystal.rattle(0.05, seed=9)
    structures.insert(2, crystal)
    results = evaluate_structures(structures, model, device="cpu", batch_size=2)
    calc = calculator(model)
    for atoms, result in zip(structures, results):
        atoms = atoms.copy()
        atoms.calc = calc
        assert abs(result["energy"] - atoms.get_potential_energy()) < 1e-10
        np.testing.assert_allclose(result["forces"], atoms.get_forces(), atol=1e-10)
        np.testing.assert_allclose(result["energies"], atoms.get_potential_energies(), atol=1e-10)


def test_the_callers_model_is_left_unchanged(model):
    evaluate_structures([molecule("H2O")], model, device="cpu", dtype="float32")
    assert next(model.parameters()).dtype == torch.float64
