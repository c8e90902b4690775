"""Largest float32 force error of a model over rMD17 frames (docs/md_protocols.md).

    python docs/scripts/float32_force_error.py --model azobenzene-committee --molecule azobenzene --data-dir ../shared/data/rmd17

Evaluates the forces of every frame of ``--split`` (default test_01) with the calculator in
float32 and in float64 on one CPU thread and prints, per frame set, the median and the largest
|F32 - F64| (eV/Å) over all force components, and the frames where it exceeds ``--threshold``.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from ase import Atoms
from tqdm import tqdm

from ase_geoformer import GeoFormerCalculator, rmd17
from ase_geoformer.data import read_dataset
from md_protocols.stability import reference_positions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model name or checkpoint path")
    parser.add_argument("--molecule", required=True, help="rMD17 molecule")
    parser.add_argument("--split", default="test_01", help="rMD17 split: test_01 or train_01 (default test_01)")
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    parser.add_argument("--threshold", type=float, default=0.01, help="eV/Å; frames above it are listed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = read_dataset(rmd17.rmd17_path(args.data_dir, args.molecule, args.split))
    frames = reference_positions(dataset)
    numbers = dataset.numbers[: frames.shape[1]]
    calculators = {dtype: GeoFormerCalculator(model=args.model, dtype=dtype) for dtype in ("float32", "float64")}
    errors = []
    for positions in tqdm(frames, unit="frame", desc="float32 and float64 forces"):
        atoms = Atoms(numbers=numbers, positions=positions)
        forces = {}
        for dtype, calculator in calculators.items():
            atoms.calc = calculator
            forces[dtype] = atoms.get_forces()
        errors.append(np.abs(forces["float32"] - forces["float64"]).max())
    errors = np.array(errors)
    above = np.flatnonzero(errors > args.threshold)
    print(f"{args.model} on {len(errors)} {args.molecule} {args.split} frames: largest |F32 - F64| per frame, "
          f"median {np.median(errors):.2e} eV/Å, largest {errors.max():.2e} (frame {errors.argmax()})")
    print(f"{len(above)} frames above {args.threshold:g} eV/Å" + (f": {above.tolist()}" if len(above) else ""))


if __name__ == "__main__":
    main()
