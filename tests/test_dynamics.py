"""Langevin and NVE runs with any ASE calculator: outputs, temperature, resume after a kill."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import read

from md_protocols.calculators import make_calculator
from md_protocols.dynamics import MDSettings, main, run_md


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
