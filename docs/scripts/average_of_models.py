"""How much of the validation error independently trained models share: each alone, and their committee.

    python docs/scripts/average_of_models.py --molecule ethanol --data-dir ../shared/data/rmd17 \
        trained/ethanol.pt runs/ethanol-4b/best.pt

Prints the force MAE (meV/Å, mean over components) of each checkpoint on the 50 validation frames of
the standard split, and that of their ``GeoFormerCommittee`` (the mean of their forces). Errors the
models make independently (variance) shrink in the mean; errors they share (bias) do not.
"""

from __future__ import annotations

import argparse

import torch

from ase_geoformer import GeoFormerCommittee
from ase_geoformer.evaluate import evaluate
from ase_geoformer.rmd17 import standard_split
from ase_geoformer.zoo import resolve_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", help="shipped model names or checkpoint paths")
    parser.add_argument("--molecule", default="ethanol")
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    frames = standard_split(args.molecule, args.data_dir).validation
    models = [resolve_checkpoint(checkpoint).model for checkpoint in args.checkpoints]
    for checkpoint, model in zip(args.checkpoints, models):
        print(f"{checkpoint}: {evaluate(model, frames)['force_mae_meV_per_A']:.2f} meV/Å")
    committee = evaluate(GeoFormerCommittee(models), frames)["force_mae_meV_per_A"]
    print(f"mean of the {len(models)}: {committee:.2f} meV/Å")


if __name__ == "__main__":
    main()
