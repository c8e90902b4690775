"""Energy and forces stay continuous as an atom is dragged out through r_max."""

import numpy as np
import pytest
from ase import Atoms

from conftest import all_architectures, calculator

R_MAX = 4.0  # the small test config's cutoff


def drag(model, atoms: Atoms, mover: int, anchor: int, direction: np.ndarray, distances: np.ndarray, **kwargs):
    """Energy and force on ``mover`` (along ``direction``) as its distance from ``anchor`` runs over ``distances``."""
    calc = calculator(model, **kwargs)
    energies, forces = [], []
    for d in distances:
        moved = atoms.copy()
        moved.positions[mover] = atoms.positions[anchor] + d * direction
        moved.calc = calc
        energies.append(moved.get_potential_energy())
        forces.append(moved.get_forces()[mover] @ direction)
    return np.array(energies), np.array(forces)


def line_of_atoms() -> tuple[Atoms, np.ndarray]:
    """C - O - H roughly on a line; the H is dragged so its distance from the C crosses r_max
    while it stays bonded to the O (the attention normalisation of the C changes)."""
    direction = np.array([1.0, 0.05, 0.0]) / np.linalg.norm([1.0, 0.05, 0.0])
    atoms = Atoms("COH", positions=[[0, 0, 0], 2.6 * direction + [0, 0.3, 0], 3.0 * direction])
    return atoms, direction


@all_architectures
@pytest.mark.parametrize("leaves_everything", [False, True])
@pytest.mark.parametrize("kwargs", [{}, {"dense_max_atoms": 0}], ids=["dense", "neighbour_list"])
def test_no_jump_in_energy_or_force_at_cutoff(model, kwargs, leaves_everything):
    atoms, direction = line_of_atoms()
    if leaves_everything:  # the H leaves both other atoms: it ends isolated
        atoms = atoms[[0, 2]]
    mover = len(atoms) - 1
    # Well inside the cutoff of the anchor the dragged atom feels a force: the test is not vacuous.
    _, inside = drag(model, atoms, mover, 0, direction, np.array([R_MAX - 1.0]), **kwargs)
    assert abs(inside[0]) > 1e-3
    # Steps across r_max: a jump would not shrink with the step; a continuous energy and
    # force change by O(delta) or less.
    energy_steps, force_steps = [], []
    for delta in (1e-2, 1e-3, 1e-4):
        energies, forces = drag(model, atoms, mover, 0, direction, np.array([R_MAX - delta, R_MAX + delta]), **kwargs)
        energy_steps.append(abs(energies[1] - energies[0]))
        force_steps.append(abs(forces[1] - forces[0]))
    for coarse, fine in zip(energy_steps, energy_steps[1:]):
        assert fine <= 0.2 * coarse + 1e-12
    for coarse, fine in zip(force_steps, force_steps[1:]):
        assert fine <= 0.2 * coarse + 1e-12
    if leaves_everything:  # isolated beyond r_max: energy constant, force exactly zero
        energies, forces = drag(model, atoms, mover, 0, direction, np.array([R_MAX + 1e-9, R_MAX + 0.3]), **kwargs)
        assert energies[0] == pytest.approx(energies[1], abs=1e-12) and abs(forces).max() == 0


@all_architectures
def test_forces_match_energy_slope_across_cutoff(model):
    atoms, direction = line_of_atoms()
    distances = np.linspace(R_MAX - 0.04, R_MAX + 0.04, 401)
    energies, forces = drag(model, atoms, 2, 0, direction, distances)
    step = distances[1] - distances[0]
    assert np.ptp(forces) > 1e-5
    np.testing.assert_allclose(-np.gradient(energies, step)[1:-1], forces[1:-1], atol=1e-8)
