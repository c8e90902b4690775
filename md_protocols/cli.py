"""Command-line pieces shared by the protocol scripts."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ase.calculators.calculator import BaseCalculator

from ase_geoformer.io_utils import atomic_write_text
from md_protocols.calculators import make_calculator


def add_calculator_arguments(parser: argparse.ArgumentParser) -> None:
    """``--calculator``, ``--device``, ``--dtype``, ``--compile``, ``--seed`` and ``--output`` (a file prefix)."""
    parser.add_argument("--calculator", default="ethanol", help="GeoFormer model name or path, or module:factory")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (GeoFormer; default: CUDA when available)")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"], help="GeoFormer precision")
    parser.add_argument("--compile", action="store_true", help="GeoFormer through torch.compile: faster steps after a compile of tens of seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True, help="prefix of the files to write (.json, and .png or .traj)")


def calculator_from_arguments(args: argparse.Namespace) -> BaseCalculator:
    """The calculator that ``add_calculator_arguments``' options name."""
    return make_calculator(args.calculator, args.device, args.dtype, args.compile)


def write_report(prefix: str | Path, report: dict[str, Any], plot: Callable[[Path], None]) -> None:
    """``<prefix>.json`` (atomically) and ``plot(<prefix>.png)``; prints the report."""
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(prefix.with_name(prefix.name + ".json"), json.dumps(report, indent=2) + "\n")
    plot(prefix.with_name(prefix.name + ".png"))
    print(json.dumps(report, indent=2))
