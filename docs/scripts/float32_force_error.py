"""Largest float32 force and energy errors of a model over rMD17 frames or along NVE (docs/md_protocols.md).

    python docs/scripts/float32_force_error.py --model azobenzene-committee --molecule azobenzene --data-dir ../shared/data/rmd17
    python docs/scripts/float32_force_error.py --model azobenzene-committee --molecule azobenzene --nve 3.6 --data-dir ../shared/data/rmd17

Compares the forces and energy of a model in float32 with those in float64 at the same positions,
on one CPU thread, and prints the median and the largest |F32 - F64| (eV/Å, over all components of a
frame), the frames where it exceeds ``--threshold``, and the median and largest |E32 - E64| (meV).

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


def report_nve_frames(
    start: Atoms, calculator: GeoFormerCalculator, duration_ps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions and forces ``(F, N, 3)`` and energies ``(F,)`` of the first ``duration_ps`` of the report's
    NVE run at 0.25 fs."""
    atoms = start.copy()
    atoms.calc = calculator
    VelocityVerlet(atoms, 0.5 * units.fs).run(steps_in(5.0, 0.5))  # the report's first run, for the same compiled state
    atoms = start.copy()
    atoms.calc = calculator
    positions, forces, energies = [], [], []

    def record() -> None:
        positions.append(atoms.get_positions())
        forces.append(atoms.get_forces())
        energies.append(atoms.get_potential_energy())

    dynamics = VelocityVerlet(atoms, 0.25 * units.fs)
    dynamics.attach(record, interval=1)
    dynamics.run(steps_in(duration_ps, 0.25))
    return np.array(positions), np.array(forces), np.array(energies)


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
        frames, single_forces, single_energies = report_nve_frames(start, single, args.nve)
        source = f"the first {args.nve:g} ps of the report's float32 NVE run at 0.25 fs"
    else:
        single_forces = single_energies = None
        source = f"{len(frames)} {args.molecule} {args.split} frames"
    errors, energy_errors = [], []
    for k, positions in enumerate(tqdm(frames, unit="frame", desc="float64 forces")):
        atoms = Atoms(numbers=numbers, positions=positions)
        atoms.calc = double
        reference, reference_energy = atoms.get_forces(), atoms.get_potential_energy()
        if single_forces is None:
            atoms.calc = single
            forces, energy = atoms.get_forces(), atoms.get_potential_energy()
        else:
            forces, energy = single_forces[k], single_energies[k]
        errors.append(np.abs(forces - reference).max())
        energy_errors.append(1000 * abs(energy - reference_energy))
    errors, energy_errors = np.array(errors), np.array(energy_errors)
    above = np.flatnonzero(errors > args.threshold)
    print(f"{args.model} on {source}: largest |F32 - F64| per frame, median {np.median(errors):.2e} eV/Å, "
          f"largest {errors.max():.2e} (frame {errors.argmax()})")
    print(f"{len(above)} frames above {args.threshold:g} eV/Å" + (f": {above.tolist()}" if len(above) else ""))
    print(f"|E32 - E64|: median {np.median(energy_errors):.2e} meV, largest {energy_errors.max():.2e} meV")


if __name__ == "__main__":
    main()
