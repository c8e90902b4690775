"""Energy-conservation validation: NVE at two time steps, drift, fluctuation ratio and dt scaling.

    python -m md_protocols.conservation ethanol --calculator ethanol --temperature 300 --timestep 0.5 \
        --duration 5 --output reports/ethanol_conservation

From Maxwell-Boltzmann velocities (zero momentum and rotation), velocity Verlet runs for the same
simulated time at ``dt`` and ``dt / 2``. Reported for each: the linear drift of the total energy
(meV/atom/ps), std(E_tot) / std(E_pot), and the fluctuation of E_tot about its linear trend; for
conservative, smooth forces that fluctuation scales as dt^2, so halving dt divides it by about 4.
That ratio is taken over a leading stretch (0.25 ps by default) in which the two runs still follow
the same path: later they part (molecular dynamics is chaotic) and the ratio of two different
paths' fluctuations scatters around 4 by more than the dt^2 law itself (docs/md_protocols.md).
The verdict compares them with thresholds and is written as JSON with a PNG of the energies.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import BaseCalculator
from ase.md.verlet import VelocityVerlet
from tqdm import tqdm

from ase_geoformer.io_utils import pyplot, save_figure
from md_protocols.dynamics import initialise_velocities, steps_in


@dataclass
class ConservationThresholds:
    """Pass when |drift| <= ``max_drift`` (meV/atom/ps), std(E_tot)/std(E_pot) <= ``max_fluctuation_ratio``
    and fluctuation(dt) / fluctuation(dt/2) >= ``min_dt_scaling``."""

    max_drift: float = 0.01
    max_fluctuation_ratio: float = 0.05
    min_dt_scaling: float = 3.0


@dataclass
class NVETrace:
    """Energies (eV) of every step of one NVE run."""

    timestep_fs: float
    total: np.ndarray
    potential: np.ndarray

    @property
    def times_ps(self) -> np.ndarray:
        return np.arange(len(self.total)) * self.timestep_fs / 1000

    def drift(self, num_atoms: int) -> float:
        """Slope of a linear fit of E_tot, meV/atom/ps."""
        return float(np.polyfit(self.times_ps, self.total, 1)[0] * 1000 / num_atoms)

    def fluctuation(self) -> float:
        """Standard deviation of E_tot about its linear trend, eV."""
        trend = np.polyval(np.polyfit(self.times_ps, self.total, 1), self.times_ps)
        return float(np.std(self.total - trend))

    def fluctuation_ratio(self) -> float:
        return float(np.std(self.total) / np.std(self.potential))

    def leading(self, duration_ps: float) -> NVETrace:
        """The first ``duration_ps`` of the run (all of it if shorter)."""
        frames = steps_in(duration_ps, self.timestep_fs) + 1
        return NVETrace(self.timestep_fs, self.total[:frames], self.potential[:frames])


def nve_trace(
    atoms: Atoms, calculator: BaseCalculator, timestep_fs: float, steps: int, progress: bool = True
) -> NVETrace:
    """Velocity Verlet from the velocities already on ``atoms``; energies at every step."""
    atoms = atoms.copy()
    atoms.calc = calculator
    total, potential = [], []

    def record() -> None:
        potential.append(atoms.get_potential_energy())
        total.append(potential[-1] + atoms.get_kinetic_energy())

    dynamics = VelocityVerlet(atoms, timestep_fs * units.fs)
    dynamics.attach(record, interval=1)
    with tqdm(total=steps, unit="step", desc=f"NVE dt={timestep_fs:g} fs", disable=not progress, file=sys.stderr) as bar:
        dynamics.attach(lambda: bar.update(1), interval=1)
        bar.update(-1)
        dynamics.run(steps)
    return NVETrace(timestep_fs, np.array(total), np.array(potential))


def validate_conservation(
    atoms: Atoms,
    calculator: BaseCalculator,
    temperature_K: float = 300.0,
    timestep_fs: float = 0.5,
    duration_ps: float = 5.0,
    seed: int = 0,
    thresholds: ConservationThresholds | None = None,
    progress: bool = True,
    scaling_window_ps: float = 0.25,
) -> tuple[dict[str, Any], list[NVETrace]]:
    """Run NVE at ``timestep_fs`` and half of it for ``duration_ps``; return the report and the traces.

    Drift and fluctuations are of the whole runs; the dt-scaling ratio is of their first
    ``scaling_window_ps`` (or the whole runs, if shorter).
    """
    if steps_in(scaling_window_ps, timestep_fs) < 10:
        raise ValueError(
            f"the dt-scaling window of {scaling_window_ps:g} ps holds fewer than 10 steps of {timestep_fs:g} fs, too few for "
            "a fluctuation; make it longer (0.25 ps suits molecules at 300 K)"
        )
    thresholds = thresholds or ConservationThresholds()
    start = atoms.copy()
    initialise_velocities(start, temperature_K, np.random.default_rng(seed))
    traces = [nve_trace(start, calculator, dt, steps_in(duration_ps, dt), progress) for dt in (timestep_fs, timestep_fs / 2)]
    runs = [
        {
            "timestep_fs": trace.timestep_fs,
            "steps": len(trace.total) - 1,
            "drift_meV_per_atom_per_ps": trace.drift(len(atoms)),
            "fluctuation_meV": 1000 * trace.fluctuation(),
            "leading_fluctuation_meV": 1000 * trace.leading(scaling_window_ps).fluctuation(),
            "std_total_over_std_potential": trace.fluctuation_ratio(),
        }
        for trace in traces
    ]
    coarse, fine = (r["leading_fluctuation_meV"] for r in runs)
    scaling = coarse / fine if fine > 0 else float("inf")
    checks = {
        "drift": all(abs(r["drift_meV_per_atom_per_ps"]) <= thresholds.max_drift for r in runs),
        "fluctuation_ratio": all(r["std_total_over_std_potential"] <= thresholds.max_fluctuation_ratio for r in runs),
        "dt_scaling": scaling >= thresholds.min_dt_scaling,
    }
    report = {
        "formula": atoms.get_chemical_formula(),
        "atoms": len(atoms),
        "calculator": type(calculator).__name__,
        "temperature_K": temperature_K,
        "duration_ps": duration_ps,
        "dt_scaling_window_ps": min(scaling_window_ps, duration_ps),
        "seed": seed,
        "runs": runs,
        "fluctuation_dt_over_half_dt": scaling,
        "thresholds": asdict(thresholds),
        "checks": checks,
        "passed": all(checks.values()),
    }
    return report, traces


def plot_traces(traces: list[NVETrace], output: str | os.PathLike, title: str = "") -> None:
    """E_tot - E_tot(0) (and E_pot - E_pot(0), faint) against time for each time step; PNG, atomic."""
    plt = pyplot()
    figure, (upper, lower) = plt.subplots(2, 1, figsize=(6.4, 5.6), dpi=120, sharex=True)
    for trace in traces:
        line = upper.plot(trace.times_ps, 1000 * (trace.total - trace.total[0]), lw=0.8, label=f"dt = {trace.timestep_fs:g} fs")[0]
        lower.plot(trace.times_ps, trace.potential - trace.potential[0], lw=0.5, color=line.get_color())
    upper.set_ylabel("E_tot - E_tot(0) (meV)")
    lower.set_ylabel("E_pot - E_pot(0) (eV)")
    lower.set_xlabel("time (ps)")
    upper.set_title(title)
    upper.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, output)


def main(argv: list[str] | None = None) -> int:
    from md_protocols.cli import add_calculator_arguments, calculator_from_arguments, write_report
    from md_protocols.dynamics import load_structure

    parser = argparse.ArgumentParser(prog="python -m md_protocols.conservation", description=__doc__.splitlines()[0])
    parser.add_argument("structure", help="structure file or ase.build.molecule name")
    parser.add_argument("--temperature", type=float, default=300.0, help="K")
    parser.add_argument("--timestep", type=float, default=0.5, help="fs (also run at half of it)")
    parser.add_argument("--duration", type=float, default=5.0, help="ps of simulated time per run")
    parser.add_argument("--scaling-window", type=float, default=0.25, help="ps at the start of the runs for the dt-scaling ratio")
    add_calculator_arguments(parser)
    args = parser.parse_args(argv)
    try:
        atoms = load_structure(args.structure)
        calculator = calculator_from_arguments(args)
        report, traces = validate_conservation(
            atoms, calculator, args.temperature, args.timestep, args.duration, args.seed, scaling_window_ps=args.scaling_window
        )
    except (ValueError, FileNotFoundError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    report["calculator_spec"], report["dtype"] = args.calculator, args.dtype
    title = f"{report['formula']} NVE, {args.calculator}, {args.dtype}"
    write_report(args.output, report, lambda png: plot_traces(traces, png, title))
    return 0 if report["passed"] else 2


if __name__ == "__main__":
    sys.exit(main())
