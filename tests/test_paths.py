"""Dense and neighbour-list paths agree; batches equal single structures; periodic = supercell."""

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk, molecule

from ase_geoformer import dense_batch, neighbour_list_batch, predict
from conftest import SPECIES, all_architectures, calculator, random_model
from test_forces_stress import periodic_box


def evaluate(atoms, calc):
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_potential_energies()


@all_architectures
@pytest.mark.parametrize("name", ["CH3CH2OH", "CH3CONH2", "C6H6", "CH3COOH"])
def test_dense_and_neighbour_list_paths_agree(model, name):
    atoms = molecule(name)
    atoms.rattle(0.1, seed=8)
    dense = evaluate(atoms, calculator(model))
    sparse = evaluate(atoms, calculator(model, dense_max_atoms=0))
    assert abs(dense[0] - sparse[0]) < 1e-10
    np.testing.assert_allclose(dense[1], sparse[1], atol=1e-10)
    np.testing.assert_allclose(dense[2], sparse[2], atol=1e-10)


def test_large_molecule_beyond_cutoff_agrees():
    """A molecule larger than r_max, so some pairs are out of range on the dense path."""
    model = random_model()
    atoms = Atoms("".join(np.random.default_rng(9).choice(["H", "C", "N", "O"], 30)))
    atoms.positions = np.random.default_rng(10).uniform(0, 9, size=(30, 3))
    dense = evaluate(atoms, calculator(model))
    sparse = evaluate(atoms, calculator(model, dense_max_atoms=0))
    assert abs(dense[0] - sparse[0]) < 1e-10
    np.testing.assert_allclose(dense[1], sparse[1], atol=1e-10)


@all_architectures
def test_padded_batch_equals_single_structures(model):
    structures = [molecule(name) for name in ("CH4", "CH3CH2OH", "CH3CONH2")]
    batch = dense_batch(structures, SPECIES, "cpu", torch.float64)
    together = predict(model, batch)
    for b, atoms in enumerate(structures):
        alone = predict(model, dense_batch([atoms], SPECIES, "cpu", torch.float64))
        n = len(atoms)
        assert abs(together["energy"][b] - alone["energy"][0]) < 1e-10
        torch.testing.assert_close(together["forces"][b, :n], alone["forces"][0], atol=1e-10, rtol=0)
    assert together["forces"][0, len(structures[0]) :].abs().max() == 0


@all_architectures
def test_neighbour_list_batch_equals_single_structures(model):
    structures = [molecule("CH3CH2OH"), periodic_box()]
    together = predict(model, neighbour_list_batch(structures, SPECIES, model.r_max, "cpu", torch.float64))
    for g, atoms in enumerate(structures):
        alone = predict(model, neighbour_list_batch([atoms], SPECIES, model.r_max, "cpu", torch.float64))
        assert abs(together["energy"][g] - alone["energy"][0]) < 1e-10


@all_architectures
@pytest.mark.parametrize("repeat", [(2, 1, 1), (2, 2, 2)])
def test_periodic_box_agrees_with_explicit_supercell(model, repeat):
    atoms = periodic_box()
    supercell = atoms.repeat(repeat)
    e_cell, f_cell, _ = evaluate(atoms, calculator(model))
    e_super, f_super, _ = evaluate(supercell, calculator(model))
    copies = int(np.prod(repeat))
    assert abs(e_super - copies * e_cell) < 1e-10 * copies * abs(e_cell)
    np.testing.assert_allclose(f_super, np.tile(f_cell, (copies, 1)), atol=1e-10)
    s_cell = calculator(model).get_property("stress", atoms)
    s_super = calculator(model).get_property("stress", supercell)
    np.testing.assert_allclose(s_super, s_cell, atol=1e-10)


def test_periodic_crystal_sees_its_images(model):
    """In a two-atom diamond cell most neighbours are images; without them the energy differs."""
    crystal = bulk("C", "diamond", a=3.57)
    isolated = crystal.copy()
    isolated.pbc = False
    assert abs(evaluate(crystal, calculator(model))[0] - evaluate(isolated, calculator(model))[0]) > 1e-3
