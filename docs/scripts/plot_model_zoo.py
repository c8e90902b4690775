"""The shipped models' test_01 force MAE beside NequIP's and MACE's, as a PNG.

    python docs/scripts/plot_model_zoo.py --output docs/figures/shipped_models_force_mae.png

GeoFormer's bars are the errors stored in each installed checkpoint's metrics (written by
``geoformer-evaluate --save-with-metrics``); NequIP's and MACE's are the published rMD17 figures of
../shared/DESIGN.md section 6 (MACE paper, Table 2). A tick marks the issue's bar, twice NequIP's error;
the label beside each GeoFormer bar is its ratio to NequIP. A committee (``<molecule>-committee``)
has a row of its own beside its molecule's single model.
"""

from __future__ import annotations

import argparse

import numpy as np

from ase_geoformer.io_utils import pyplot, save_figure
from ase_geoformer.zoo import describe_shipped_models

# test_01 force MAE in meV/Å: ../shared/DESIGN.md section 6.
NEQUIP = {"aspirin": 8.2, "azobenzene": 2.9, "benzene": 0.3, "ethanol": 2.8, "malonaldehyde": 5.1,
          "naphthalene": 1.3, "paracetamol": 5.9, "salicylic": 4.0, "toluene": 1.6, "uracil": 3.1}
MACE = {"aspirin": 6.6, "azobenzene": 3.0, "benzene": 0.3, "ethanol": 2.1, "malonaldehyde": 4.1,
        "naphthalene": 1.6, "paracetamol": 4.8, "salicylic": 3.1, "toluene": 1.5, "uracil": 2.1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="PNG file to write")
    args = parser.parse_args()
    rows = [row for row in describe_shipped_models() if row["molecule"] in NEQUIP]
    names = [row["name"] for row in rows]
    ours = np.array([row["test_01_force_mae_meV_per_A"] for row in rows])
    nequip = np.array([NEQUIP[row["molecule"]] for row in rows])
    mace = np.array([MACE[row["molecule"]] for row in rows])
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.0, 5.6), dpi=120)
    y = np.arange(len(names))
    axes.barh(y - 0.27, ours, height=0.27, label="GeoFormer (shipped)")
    axes.barh(y, nequip, height=0.27, label="NequIP")
    axes.barh(y + 0.27, mace, height=0.27, label="MACE")
    axes.scatter(2 * nequip, y, marker="|", s=300, color="black", label="2x NequIP (the bar)", zorder=3)
    for row_y, value, ratio in zip(y, ours, ours / nequip):
        axes.annotate(f"{ratio:.2f}x", (value, row_y - 0.27), xytext=(3, 0), textcoords="offset points",
                      va="center", fontsize=8)
    axes.set_yticks(y, names)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlim(0.5 * min(nequip.min(), mace.min()), 1.6 * ours.max())
    axes.set_xlabel("test_01 force MAE (meV/Å)")
    axes.set_title("rMD17 test_01 force MAE (label: GeoFormer / NequIP)")
    axes.grid(True, axis="x", which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=4)
    figure.tight_layout()
    save_figure(figure, args.output)
    print(args.output)


if __name__ == "__main__":
    main()
