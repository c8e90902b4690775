"""Save a model's energies and forces on rMD17 frames, or compare two such files (e.g. of two commits).

    python docs/scripts/compare_outputs.py save --model aspirin-committee --molecule aspirin --frames 20 --data-dir ../shared/data/rmd17 --output after.npz
    python docs/scripts/compare_outputs.py compare before.npz after.npz

``save`` evaluates the first ``--frames`` test_01 frames in float64 and in float32 (one CPU thread)
and writes ``energy_<dtype> (F,)`` eV and ``forces_<dtype> (F, N, 3)`` eV/Å to ``--output``.
``compare`` prints, for each array, whether the two files hold the same values bit for bit and
the largest absolute difference. To compare two commits, run ``save`` with ``PYTHONPATH`` set to a
checkout of each (``git worktree add ../before <commit>``, then ``PYTHONPATH=../before python
docs/scripts/compare_outputs.py save ...``), so that the package and its shipped models come from it.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from ase import Atoms

from ase_geoformer import GeoFormerCalculator, rmd17
from ase_geoformer.data import read_dataset
from ase_geoformer.io_utils import atomic_path
from md_protocols.stability import reference_positions

DTYPES = ("float64", "float32")


def save(model: str, molecule: str, frames: int, data_dir: str | None, output: str) -> None:
    dataset = read_dataset(rmd17.rmd17_path(data_dir, molecule, "test_01"))
    positions = reference_positions(dataset)[:frames]
    numbers = dataset.numbers[: positions.shape[1]]
    arrays = {}
    for dtype in DTYPES:
        calculator = GeoFormerCalculator(model=model, dtype=dtype)
        energies, forces = [], []
        for frame in positions:
            atoms = Atoms(numbers=numbers, positions=frame)
            atoms.calc = calculator
            energies.append(atoms.get_potential_energy())
            forces.append(atoms.get_forces())
        arrays[f"energy_{dtype}"], arrays[f"forces_{dtype}"] = np.array(energies), np.array(forces)
    with atomic_path(output) as temporary, open(temporary, "wb") as file:
        np.savez(file, **arrays)
    print(f"{model} on {len(positions)} {molecule} test_01 frames: largest |E32 - E64| "
          f"{1000 * np.abs(arrays['energy_float32'] - arrays['energy_float64']).max():.2e} meV; written to {output}")


def compare(first: str, second: str) -> None:
    a, b = np.load(first), np.load(second)
    for key in sorted(a.files):
        same = np.array_equal(a[key], b[key])
        unit = "eV" if key.startswith("energy") else "eV/Å"
        print(f"{key}: {'identical bit for bit' if same else 'differ'}, largest |difference| "
              f"{np.abs(a[key] - b[key]).max():.2e} {unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    saving = commands.add_parser("save", help="evaluate a model and write its outputs")
    saving.add_argument("--model", required=True, help="model name or checkpoint path")
    saving.add_argument("--molecule", required=True, help="rMD17 molecule")
    saving.add_argument("--frames", type=int, default=20, help="the first this many test_01 frames (default 20)")
    saving.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    saving.add_argument("--output", required=True, help=".npz file to write")
    comparing = commands.add_parser("compare", help="compare two files written by save")
    comparing.add_argument("first")
    comparing.add_argument("second")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.command == "save":
        save(args.model, args.molecule, args.frames, args.data_dir, args.output)
    else:
        compare(args.first, args.second)


if __name__ == "__main__":
    main()
