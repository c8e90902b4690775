"""Langevin and NVE runs with any ASE calculator: outputs, temperature, resume after a kill."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase import units
from ase.build import bulk, molecule
from ase.calculators.emt import EMT
from ase.io import read

from md_protocols.calculators import make_calculator
from md_protocols.dynamics import (
    MDSettings,
    initialise_velocities,
    internal_degrees_of_freedom,
    internal_temperature,
    main,
    run_md,
)


def copper() -> Atoms:
    atoms = bulk("Cu", cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.02, seed=0)
    return atoms


def test_nve_resumed_after_a_stop_equals_an_uninterrupted_run(tmp_path):
    settings = MDSettings(ensemble="nve", temperature_K=300, timestep_fs=2.0, steps=40, interval=5)
    run_md(copper(), EMT(), settings, tmp_path / "whole", progress=False)
    half = MDSettings(ensemble="nve", temperature_K=300, timestep_fs=2.0, steps=20, interval=5)
    run_md(copper(), EMT(), half, tmp_path / "parts", progress=False)
    summary = run_md(copper(), EMT(), settings, tmp_path / "parts", resume=True, progress=False)
    whole, parts = read(tmp_path / "whole.traj", ":"), read(tmp_path / "parts.traj", ":")
    assert len(whole) == len(parts) == 9 and summary["frames"] == 9
    np.testing.assert_allclose(parts[-1].positions, whole[-1].positions, atol=1e-12)
    np.testing.assert_allclose(parts[-1].get_momenta(), whole[-1].get_momenta(), atol=1e-12)
    assert json.loads((tmp_path / "parts.json").read_text())["steps"] == 40


def test_initial_velocities_have_no_drift_or_rotation_and_langevin_holds_temperature(tmp_path):
    settings = MDSettings(ensemble="langevin", temperature_K=500, timestep_fs=2.0, steps=600, friction_per_fs=0.05, interval=10)
    run_md(copper(), EMT(), settings, tmp_path / "nvt", progress=False)
    frames = read(tmp_path / "nvt.traj", ":")
    first = frames[0]
    np.testing.assert_allclose(first.get_momenta().sum(axis=0), 0.0, atol=1e-10)
    temperatures = [a.get_temperature() for a in frames[len(frames) // 2 :]]
    # 32 atoms: the kinetic temperature fluctuates by about T * sqrt(2 / (3N)) = 0.14 T per frame.
    assert np.mean(temperatures) == pytest.approx(500, rel=0.15)


def test_command_line_with_a_module_factory_calculator(tmp_path, capsys):
    code = main(["H2O", "--calculator", "ase.calculators.emt:EMT", "--ensemble", "nve", "--steps", "10",
                 "--interval", "5", "--output", str(tmp_path / "w")])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["calculator"] == "EMT" and summary["frames"] == 3


def test_bad_calculator_specs_are_explained():
    with pytest.raises(ValueError, match="cannot import module 'no_such_module'"):
        make_calculator("no_such_module:Factory")
    with pytest.raises(ValueError, match="has no callable 'Nothing'"):
        make_calculator("ase.calculators.emt:Nothing")


def test_internal_degrees_of_freedom_leave_out_drift_and_rotation():
    assert internal_degrees_of_freedom(molecule("CH3CH2OH")) == 3 * 9 - 6
    assert internal_degrees_of_freedom(molecule("CO2")) == 3 * 3 - 5  # a linear molecule turns about two axes
    assert internal_degrees_of_freedom(copper()) == 3 * 32 - 3  # a crystal does not turn
    assert internal_degrees_of_freedom(Atoms("Ar")) == 0
    with pytest.raises(ValueError, match="no internal degrees of freedom"):
        internal_temperature(Atoms("Ar"))


def test_internal_temperature_ignores_drift_and_rigid_rotation():
    ethanol = molecule("CH3CH2OH")
    initialise_velocities(ethanol, 300.0, np.random.default_rng(0))
    kinetic = 0.5 * float((ethanol.get_momenta() ** 2 / ethanol.get_masses()[:, None]).sum())
    expected = 2 * kinetic / (21 * units.kB)  # no drift or rotation: all of it is internal
    assert internal_temperature(ethanol) == pytest.approx(expected, rel=1e-9)
    assert ethanol.get_temperature() == pytest.approx(expected * 21 / 27, rel=1e-9)  # ASE's count: 3N
    spin, drift = np.array([0.04, -0.06, 0.08]), np.array([0.1, 0.0, -0.08])  # rad/(ASE time unit), Å/(ASE time unit)
    arm = ethanol.positions - ethanol.get_center_of_mass()
    ethanol.set_velocities(ethanol.get_velocities() + np.cross(spin, arm) + drift)
    assert ethanol.get_temperature() > 2 * expected
    assert internal_temperature(ethanol) == pytest.approx(expected, rel=1e-9)
