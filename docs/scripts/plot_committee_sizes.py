"""How many members each shipped committee would need to reach the issue's bar, as a table and a PNG.

    python docs/scripts/plot_committee_sizes.py --data-dir ../shared/data/rmd17 \
        --output docs/figures/committee_sizes.png

For each ``<molecule>-committee``: the validation force MAE of committees of n of its members (averaged
over all subsets, ``average_of_models.py``), the fit ``MAE(n)^2 = shared^2 + independent^2 / n``, and
both scaled to test_01 by the shipped committee's ratio of test_01 to validation error (the test
error stored in the checkpoint). Divided by the bar (twice NequIP's test_01 force MAE), a curve that
stays above 1 cannot reach the bar with more members of the same kind. Prints, per molecule, the
fitted limit and the smallest committee whose fitted error is at the bar.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from average_of_models import committee_size_curve, fit_shared_and_independent, force_errors
from plot_model_zoo import NEQUIP
from ase_geoformer.io_utils import pyplot, save_figure
from ase_geoformer.rmd17 import standard_split
from ase_geoformer.zoo import describe_shipped_models, resolve_checkpoint


def members_for(target: float, shared: float, independent: float) -> float:
    """Smallest n with ``shared^2 + independent^2 / n <= target^2``; infinity when ``target <= shared``."""
    return math.ceil(independent**2 / (target**2 - shared**2)) if target > shared else math.inf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    parser.add_argument("--output", required=True, help="PNG file to write")
    parser.add_argument("--largest-size", type=int, default=20, help="committee size the fitted curves reach")
    args = parser.parse_args()
    torch.set_num_threads(1)
    committees = [row for row in describe_shipped_models() if row["name"].endswith("-committee")]
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.0, 4.8), dpi=120)
    sizes = np.arange(1, args.largest_size + 1)
    print("| committee | members | validation: one model → committee → unlimited (fit) | unlimited ÷ one model "
          "| test_01 ÷ validation | unlimited, scaled to test_01 | bar | members for the bar |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for row in committees:
        molecule, bar = row["molecule"], 2 * NEQUIP[row["molecule"]]
        frames = standard_split(molecule, args.data_dir).validation
        members = list(resolve_checkpoint(row["name"]).model.members)
        curve = committee_size_curve(np.stack([force_errors(member, frames) for member in members]))
        shared, independent = fit_shared_and_independent(curve)
        ratio = row["test_01_force_mae_meV_per_A"] / curve[-1]
        needed = members_for(bar / ratio, shared, independent)
        print(
            f"| {row['name']} | {len(members)} | {curve[0]:.2f} → {curve[-1]:.2f} → {shared:.2f} "
            f"| {shared / curve[0]:.2f} | {ratio:.3f} | {shared * ratio:.2f} | {bar:.1f} | {needed} |"
        )
        fitted = ratio * np.sqrt(shared**2 + independent**2 / sizes) / bar
        (line,) = axes.plot(sizes, fitted, "--", linewidth=1)
        measured = ratio * np.asarray(curve) / bar
        axes.plot(np.arange(1, len(curve) + 1), measured, "o-", color=line.get_color(), label=molecule)
    axes.axhline(1.0, color="black", linewidth=1.5, label="the bar (2x NequIP)")
    axes.set_xscale("log")
    axes.set_xticks([1, 2, 3, 5, 10, 20], ["1", "2", "3", "5", "10", "20"])
    axes.set_xlabel("committee size (members of the shipped committee; dashed: fit)")
    axes.set_ylabel("force MAE ÷ bar (validation, scaled to test_01)")
    axes.set_title("How far more members of the same recipes can go")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, ncol=2)
    figure.tight_layout()
    save_figure(figure, args.output)
    print(args.output)


if __name__ == "__main__":
    main()
