"""How much of the validation error two independently trained models share: each alone, and averaged.

    python docs/scripts/average_of_models.py --molecule ethanol --data-dir ../shared/data/rmd17 \
        trained/ethanol.pt runs/ethanol-4b/best.pt

Prints the force MAE (meV/Å, mean over components) of each checkpoint on the 50 validation frames of
the standard split, and that of the mean of their forces. Errors the models make independently
(variance) shrink in the mean; errors they share (bias) do not.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ase_geoformer.batched import evaluate_structures
from ase_geoformer.rmd17 import standard_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", help="shipped model names or checkpoint paths")
    parser.add_argument("--molecule", default="ethanol")
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    frames = standard_split(args.molecule, args.data_dir).validation
    structures = [frames.to_atoms(i) for i in range(len(frames))]
    forces = []
    for checkpoint in args.checkpoints:
        results = evaluate_structures(structures, checkpoint, device="cpu", dtype="float64")
        forces.append(np.concatenate([result["forces"] for result in results]))
        print(f"{checkpoint}: {1000 * np.abs(forces[-1] - frames.forces).mean():.2f} meV/Å")
    print(f"mean of the {len(forces)}: {1000 * np.abs(np.mean(forces, axis=0) - frames.forces).mean():.2f} meV/Å")


if __name__ == "__main__":
    main()
