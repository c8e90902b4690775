"""How the NVE energy fluctuation of a model scales with the time step (docs/md_protocols.md).

    python docs/scripts/nve_dt_series.py --molecule naphthalene --model naphthalene --data-dir ../shared/data/rmd17
    python docs/scripts/nve_dt_series.py --molecule naphthalene --model naphthalene --windows --data-dir ../shared/data/rmd17

Starts as the MD report's conservation test does (first rMD17 test_01 frame, Maxwell-Boltzmann
velocities at 300 K, seed 0) and runs velocity Verlet in float64 on one CPU thread.

Default: the same short stretch (``--duration``, 0.25 ps) at dt = 0.5, 0.25, 0.125 and 0.0625 fs,
short enough that the runs stay in step; prints the fluctuation of E_tot (std about its linear trend)
at each dt and the ratio between neighbouring dts (velocity Verlet: 4 for smooth, conservative forces).

``--windows``: the report's two 5 ps runs (dt 0.5 and 0.25 fs), cut into 0.5 ps windows; prints the
fluctuation of E_tot about each window's mean and the ratio dt/(dt/2) window by window.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from ase import Atoms

from ase_geoformer import GeoFormerCalculator, rmd17
from ase_geoformer.data import read_dataset
from md_protocols.conservation import NVETrace, nve_trace
from md_protocols.dynamics import initialise_velocities, steps_in
from md_protocols.stability import reference_positions


def run(start: Atoms, calculator: GeoFormerCalculator, timestep_fs: float, duration_ps: float) -> NVETrace:
    """The conservation test's NVE run from ``start``'s positions and velocities."""
    return nve_trace(start, calculator, timestep_fs, steps_in(duration_ps, timestep_fs), progress=False)


def window_fluctuations(trace: NVETrace, window_ps: float) -> np.ndarray:
    """Standard deviation of E_tot (meV) about its mean in consecutive windows of ``window_ps``."""
    width = steps_in(window_ps, trace.timestep_fs)
    total = 1000 * trace.total
    return np.array([total[k : k + width].std() for k in range(0, len(total) - width + 1, width)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecule", required=True, help="rMD17 molecule whose first test_01 frame starts the runs")
    parser.add_argument("--model", action="append", required=True, help="model name or checkpoint path (repeatable)")
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    parser.add_argument("--duration", type=float, default=0.25, help="ps per run without --windows")
    parser.add_argument("--windows", action="store_true", help="5 ps at 0.5 and 0.25 fs, ratios per 0.5 ps window")
    args = parser.parse_args()
    torch.set_num_threads(1)
    reference = read_dataset(rmd17.rmd17_path(args.data_dir, args.molecule, "test_01"))
    frames = reference_positions(reference)
    start = Atoms(numbers=reference.numbers[: frames.shape[1]], positions=frames[0])
    initialise_velocities(start, 300.0, np.random.default_rng(0))
    for model in args.model:
        calculator = GeoFormerCalculator(model=model, dtype="float64")
        if args.windows:
            coarse = window_fluctuations(run(start, calculator, 0.5, 5.0), 0.5)
            fine = window_fluctuations(run(start, calculator, 0.25, 5.0), 0.5)
            print(f"{model}: fluctuation (meV) per 0.5 ps window at dt 0.5 fs: " + " ".join(f"{x:.3f}" for x in coarse))
            print(f"{model}: fluctuation (meV) per 0.5 ps window at dt 0.25 fs: " + " ".join(f"{x:.3f}" for x in fine))
            print(f"{model}: ratio per window: " + " ".join(f"{a / b:.2f}" for a, b in zip(coarse, fine)), flush=True)
        else:
            timesteps = (0.5, 0.25, 0.125, 0.0625)
            values = [1000 * run(start, calculator, dt, args.duration).fluctuation() for dt in timesteps]
            print(f"{model}: fluctuation (meV) at dt " + ", ".join(f"{dt:g} fs {v:.5f}" for dt, v in zip(timesteps, values)))
            print(f"{model}: ratios " + " ".join(f"{a / b:.2f}" for a, b in zip(values, values[1:])), flush=True)


if __name__ == "__main__":
    main()
