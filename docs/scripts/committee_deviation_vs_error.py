"""Does a committee's disagreement track its error? Per-frame force deviation against force error.

    python docs/scripts/committee_deviation_vs_error.py --model ethanol-committee --molecule ethanol \
        --data-dir ../shared/data/rmd17 --output docs/figures/ethanol_committee_deviation.png

For each frame of rMD17 test_01: the maximum over atoms of the calculator's ``force_deviations``
(the committee's model deviation, meV/Å) and the committee's force MAE on that frame (meV/Å, mean
over components). Prints their Spearman rank correlation and the mean error in each fifth of the
frames sorted by deviation, and plots one against the other.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from ase_geoformer import GeoFormerCalculator
from ase_geoformer.data import read_rmd17
from ase_geoformer.io_utils import pyplot, save_figure
from ase_geoformer.rmd17 import rmd17_path


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (no ties expected in continuous data)."""
    return float(np.corrcoef(np.argsort(np.argsort(a)), np.argsort(np.argsort(b)))[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ethanol-committee", help="committee: shipped name or checkpoint path")
    parser.add_argument("--molecule", default="ethanol")
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    parser.add_argument("--output", help="PNG file for the scatter plot")
    args = parser.parse_args()
    torch.set_num_threads(1)
    frames = read_rmd17(rmd17_path(args.data_dir, args.molecule, "test_01"))
    calc = GeoFormerCalculator(model=args.model, device="cpu")
    deviation, error = np.empty(len(frames)), np.empty(len(frames))
    for i in range(len(frames)):
        atoms = frames.to_atoms(i)
        reference = atoms.get_forces()
        atoms.calc = calc
        error[i] = 1000 * np.abs(atoms.get_forces() - reference).mean()
        deviation[i] = 1000 * calc.get_property("force_deviations", atoms).max()
    print(f"{len(frames)} test_01 frames: Spearman rank correlation {rank_correlation(deviation, error):.2f}")
    print("| frames by model deviation | deviation (meV/Å) | force MAE (meV/Å) |")
    print("| --- | ---: | ---: |")
    order = np.argsort(deviation)
    for k, part in enumerate(np.array_split(order, 5)):
        print(f"| fifth {k + 1} | {deviation[part].mean():.2f} | {error[part].mean():.2f} |")
    if args.output:
        plt = pyplot()
        figure, axes = plt.subplots(figsize=(5.0, 4.2), dpi=120)
        axes.scatter(deviation, error, s=4, alpha=0.5)
        axes.set_xlabel("committee model deviation: max over atoms (meV/Å)")
        axes.set_ylabel("force MAE of the frame (meV/Å)")
        axes.set_title(f"{Path(str(args.model)).stem} on {args.molecule} test_01")
        axes.grid(True, alpha=0.3)
        figure.tight_layout()
        save_figure(figure, args.output)
        print(args.output)


if __name__ == "__main__":
    main()
