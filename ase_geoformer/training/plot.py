"""``geoformer-plot-metrics``: learning curves (validation force MAE against training time) as a PNG.

    geoformer-plot-metrics runs/ethanol/metrics.jsonl --output docs/figures/ethanol_learning_curve.png
    geoformer-plot-metrics runs/a/metrics.jsonl runs/b/metrics.jsonl --label "with mixing" --label "without"

The y axis is logarithmic; dashed lines are the training-batch force MAE of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ase_geoformer.io_utils import pyplot, save_figure


def read_metrics(path: str | os.PathLike) -> list[dict]:
    """The records of a ``metrics.jsonl`` file."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def plot_learning_curves(
    runs: Sequence[tuple[str, list[dict]]], output: str | os.PathLike, title: str = "", reference: float | None = None
) -> None:
    """Validation (solid) and training (dashed) force MAE in meV/Å against minutes of training; PNG, written atomically."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for label, records in runs:
        trained = [r for r in records if r["epoch"] > 0]
        minutes = [r["elapsed_s"] / 60 for r in trained]
        line = axes.plot(minutes, [r["validation_force_mae_meV_per_A"] for r in trained], label=f"{label} validation")[0]
        axes.plot(minutes, [r["train_force_mae_meV_per_A"] for r in trained], "--", color=line.get_color(), alpha=0.6,
                  label=f"{label} training batches")
    if reference is not None:
        axes.axhline(reference, color="grey", linestyle=":", label=f"{reference:g} meV/Å")
    axes.set_yscale("log")
    axes.set_xlabel("training time (min)")
    axes.set_ylabel("force MAE (meV/Å)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="geoformer-plot-metrics", description=__doc__.splitlines()[0])
    parser.add_argument("metrics", nargs="+", help="metrics.jsonl files of training runs")
    parser.add_argument("--label", action="append", default=[], help="one per metrics file (default: its folder name)")
    parser.add_argument("--output", required=True, help="PNG file to write")
    parser.add_argument("--title", default="")
    parser.add_argument("--reference", type=float, help="draw a horizontal line at this force MAE (meV/Å)")
    args = parser.parse_args(argv)
    if args.label and len(args.label) != len(args.metrics):
        parser.error("give one --label per metrics file")
    labels = args.label or [Path(p).parent.name for p in args.metrics]
    try:
        runs = [(label, read_metrics(path)) for label, path in zip(labels, args.metrics)]
    except (OSError, json.JSONDecodeError, KeyError) as error:
        print(f"error: cannot read metrics ({error})", file=sys.stderr)
        return 1
    plot_learning_curves(runs, args.output, args.title, args.reference)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
