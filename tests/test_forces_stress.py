"""Forces equal -dE/dR and stress equals (1/V) dE/dstrain, by central finite differences."""

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.calculator import PropertyNotImplementedError
from ase.calculators.fd import calculate_numerical_stress

from conftest import all_architectures, calculator, energy

PATHS = {"dense": {}, "neighbour_list": {"dense_max_atoms": 0}}


def numerical_forces(atoms, calc, step=1e-4):
    forces = np.zeros((len(atoms), 3))
    for i in range(len(atoms)):
        for k in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[i, k] += step
            minus.positions[i, k] -= step
            forces[i, k] = -(energy(plus, calc) - energy(minus, calc)) / (2 * step)
    return forces


@all_architectures
@pytest.mark.parametrize("path", PATHS)
def test_forces_are_minus_energy_gradient(model, glycine, path):
    calc = calculator(model, **PATHS[path])
    atoms = glycine.copy()
    atoms.calc = calc
    analytic = atoms.get_forces()
    numeric = numerical_forces(glycine, calc)
    assert np.abs(analytic).max() > 1e-3
    np.testing.assert_allclose(analytic, numeric, atol=1e-7)


def periodic_box() -> Atoms:
    """A small, skewed, fully periodic box of H, C, N, O (cell shorter than r_max)."""
    rng = np.random.default_rng(7)
    cell = np.array([[3.6, 0.0, 0.0], [0.4, 3.9, 0.0], [-0.3, 0.5, 4.2]])
    atoms = Atoms(numbers=[6, 8, 7, 1, 1, 6], cell=cell, pbc=True)
    atoms.set_scaled_positions(rng.uniform(size=(6, 3)))
    return atoms


def test_periodic_forces_are_minus_energy_gradient(model):
    atoms = periodic_box()
    calc = calculator(model)
    atoms.calc = calc
    np.testing.assert_allclose(atoms.get_forces(), numerical_forces(periodic_box(), calc), atol=1e-7)


@all_architectures
def test_stress_is_strain_derivative(model):
    atoms = periodic_box()
    atoms.calc = calculator(model)
    analytic = atoms.get_stress(voigt=False)
    numeric = calculate_numerical_stress(atoms, eps=1e-5, voigt=False)
    assert np.abs(analytic).max() > 1e-4
    np.testing.assert_allclose(analytic, numeric, atol=1e-8)


def test_stress_needs_a_periodic_cell(model, ethanol):
    ethanol.calc = calculator(model)
    with pytest.raises(PropertyNotImplementedError):
        ethanol.get_stress()
