"""Energy-conservation validation passes a smooth conservative calculator and flags planted defects."""

from __future__ import annotations

import json

import numpy as np
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

from md_protocols.conservation import ConservationThresholds, main, validate_conservation


class ScaledForces(Calculator):
    """EMT with forces scaled by 1.05: not -dE/dR."""

    implemented_properties = ["energy", "forces"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        inner = atoms.copy()
        inner.calc = EMT()
        self.results = {"energy": inner.get_potential_energy(), "forces": 1.05 * inner.get_forces()}


def copper():
    atoms = bulk("Cu", cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.05, seed=1)
    return atoms


def test_a_smooth_conservative_calculator_passes():
    report, traces = validate_conservation(copper(), EMT(), temperature_K=300, timestep_fs=2.0, duration_ps=0.4, progress=False)
    assert report["passed"], report
    assert 3.0 <= report["fluctuation_dt_over_half_dt"] <= 5.0
    assert len(traces[1].total) == 2 * len(traces[0].total) - 1


def test_forces_that_are_not_the_energy_gradient_fail():
    report, _ = validate_conservation(copper(), ScaledForces(), temperature_K=300, timestep_fs=2.0, duration_ps=0.4, progress=False)
    assert not report["passed"]
    assert not report["checks"]["dt_scaling"]


def test_a_hard_cutoff_fails_the_time_step_test():
    rng = np.random.default_rng(0)
    from ase import Atoms

    cluster = Atoms("Ar13", positions=rng.uniform(0, 5.5, size=(13, 3)))
    cluster.calc = LennardJones(sigma=3.4, epsilon=0.0104, rc=5.0, smooth=False)
    from ase.optimize import BFGS

    BFGS(cluster, logfile=None).run(fmax=0.05, steps=200)
    # Cold argon is slow: its dt and dt/2 runs stay within 0.02 A of each other for all 4 ps (measured),
    # so the whole run is the window in which they follow the same path; it holds about 30 cutoff crossings.
    hard = LennardJones(sigma=3.4, epsilon=0.0104, rc=5.0, smooth=False)
    report, _ = validate_conservation(cluster, hard, temperature_K=60, timestep_fs=4.0, duration_ps=4.0, progress=False,
                                      thresholds=ConservationThresholds(max_drift=1.0, max_fluctuation_ratio=1.0),
                                      scaling_window_ps=4.0)
    assert not report["checks"]["dt_scaling"], report["fluctuation_dt_over_half_dt"]
    smooth = LennardJones(sigma=3.4, epsilon=0.0104, rc=5.0, ro=4.0, smooth=True)
    report, _ = validate_conservation(cluster, smooth, temperature_K=60, timestep_fs=4.0, duration_ps=4.0, progress=False,
                                      scaling_window_ps=4.0)
    assert report["checks"]["dt_scaling"], report["fluctuation_dt_over_half_dt"]


def test_the_time_step_ratio_is_taken_over_the_leading_window_only():
    report, traces = validate_conservation(copper(), EMT(), temperature_K=300, timestep_fs=2.0, duration_ps=0.4, progress=False,
                                           scaling_window_ps=0.1)
    coarse, fine = (trace.leading(0.1) for trace in traces)
    assert len(coarse.total) == 51 and len(fine.total) == 101
    assert coarse.times_ps[-1] == fine.times_ps[-1] == 0.1
    assert report["fluctuation_dt_over_half_dt"] == coarse.fluctuation() / fine.fluctuation()
    assert report["fluctuation_dt_over_half_dt"] != traces[0].fluctuation() / traces[1].fluctuation()
    assert report["dt_scaling_window_ps"] == 0.1
    longer, _ = validate_conservation(copper(), EMT(), temperature_K=300, timestep_fs=2.0, duration_ps=0.2, progress=False,
                                      scaling_window_ps=1.0)
    assert longer["dt_scaling_window_ps"] == 0.2


def test_a_window_too_short_for_a_fluctuation_is_refused(capsys):
    assert main(["H2O", "--calculator", "ase.calculators.emt:EMT", "--timestep", "0.5", "--duration", "0.05",
                 "--scaling-window", "0.004", "--output", "unused"]) == 1
    assert "fewer than 10 steps of 0.5 fs" in capsys.readouterr().err


def test_command_line_writes_json_and_png(tmp_path, capsys):
    code = main(["H2O", "--calculator", "ase.calculators.emt:EMT", "--timestep", "0.5", "--duration", "0.05",
                 "--output", str(tmp_path / "water")])
    report = json.loads((tmp_path / "water.json").read_text())
    assert code == (0 if report["passed"] else 2)
    assert (tmp_path / "water.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
