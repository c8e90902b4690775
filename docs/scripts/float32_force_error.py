"""Largest float32 force error of a model over rMD17 frames or along NVE (docs/md_protocols.md).

    python docs/scripts/float32_force_error.py --model azobenzene-committee --molecule azobenzene --data-dir ../shared/data/rmd17
    python docs/scripts/float32_force_error.py --model azobenzene-committee --molecule azobenzene --nve 3.6 --data-dir ../shared/data/rmd17

Compares the forces of a model in float32 with its forces in float64 at the same positions, on one
CPU thread, and prints the median and the largest |F32 - F64| (eV/Å, over all components of a
frame) and the frames where it exceeds ``--threshold``.

Default: every frame of ``--split`` (test_01). ``--nve PS``: the frames of the MD report's float32
conservation test (compiled, as ``python -m md_protocols.report --compile`` runs it: 5 ps at
dt = 0.5 fs, then the run at 0.25 fs, of which the first PS are kept); the float32 forces are the
ones that moved the atoms. Frame k is the state after k steps of that run.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from ase import Atoms, units
from ase.md.verlet import VelocityVerlet
from tqdm import tqdm

from ase_geoformer import GeoFormerCalculator, rmd17
from ase_geoformer.data import read_dataset
from md_protocols.dynamics import initialise_velocities, steps_in
from md_protocols.stability import reference_positions


def report_nve_frames(start: Atoms, calculator: GeoFormerCalculator, duration_ps: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions and forces ``(F, N, 3)`` of the first ``duration_ps`` of the report's NVE run at 0.25 fs."""
    atoms = start.copy()
    atoms.calc = calculator
    VelocityVerlet(atoms, 0.5 * units.fs).run(steps_in(5.0, 0.5))  # the report's first run, for the same compiled state
    atoms = start.copy()
    atoms.calc = calculator
    positions, forces = [], []

    def record() -> None:
        positions.append(atoms.get_positions())
        forces.append(atoms.get_forces())

    dynamics = VelocityVerlet(atoms, 0.25 * units.fs)
    dynamics.attach(record, interval=1)
    dynamics.run(steps_in(duration_ps, 0.25))
    return np.array(positions), np.array(forces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model name or checkpoint path")
    parser.add_argument("--molecule", required=True, help="rMD17 molecule")
    parser.add_argument("--split", default="test_01", help="rMD17 split: test_01 or train_01 (default test_01)")
    parser.add_argument("--nve", type=float, default=None, metavar="PS", help="the report's float32 NVE frames instead of --split")
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    parser.add_argument("--threshold", type=float, default=0.01, help="eV/Å; frames above it are listed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = read_dataset(rmd17.rmd17_path(args.data_dir, args.molecule, "test_01" if args.nve else args.split))
    frames = reference_positions(dataset)
    numbers = dataset.numbers[: frames.shape[1]]
    single = GeoFormerCalculator(model=args.model, dtype="float32", compile=args.nve is not None)
    double = GeoFormerCalculator(model=args.model, dtype="float64")
    if args.nve is not None:
        start = Atoms(numbers=numbers, positions=frames[0])
        initialise_velocities(start, 300.0, np.random.default_rng(0))
        frames, single_forces = report_nve_frames(start, single, args.nve)
        source = f"the first {args.nve:g} ps of the report's float32 NVE run at 0.25 fs"
    else:
        single_forces = None
        source = f"{len(frames)} {args.molecule} {args.split} frames"
    errors = []
    for k, positions in enumerate(tqdm(frames, unit="frame", desc="float64 forces")):
        atoms = Atoms(numbers=numbers, positions=positions)
        atoms.calc = double
        reference = atoms.get_forces()
        if single_forces is None:
            atoms.calc = single
            forces = atoms.get_forces()
        else:
            forces = single_forces[k]
        errors.append(np.abs(forces - reference).max())
    errors = np.array(errors)
    above = np.flatnonzero(errors > args.threshold)
    print(f"{args.model} on {source}: largest |F32 - F64| per frame, median {np.median(errors):.2e} eV/Å, "
          f"largest {errors.max():.2e} (frame {errors.argmax()})")
    print(f"{len(above)} frames above {args.threshold:g} eV/Å" + (f": {above.tolist()}" if len(above) else ""))


if __name__ == "__main__":
    main()
