"""``geoformer-train``: train a GeoFormer model from a config file and flags.

    geoformer-train --molecule ethanol --data-dir ../shared/data/rmd17 --output runs/ethanol --time-budget 2h
    geoformer-train --config my.yaml --output runs/mine
    geoformer-train --output runs/ethanol --resume --time-budget 2h     # continue a killed or budgeted run
    torchrun --nproc-per-node 4 -m ase_geoformer.training.cli --config my.yaml --output runs/multi

Every ``TrainingConfig`` setting is a flag (``--batch-size 8``); flags override the config file.
Model settings are ``--model-setting channels=96`` (repeatable).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
import typing
from pathlib import Path
from typing import Any

from ase_geoformer.config import GeoFormerConfig, attribute_docs
from ase_geoformer.errors import GeoFormerError
from ase_geoformer.io_utils import read_mapping
from ase_geoformer.training.config import TrainingConfig
from ase_geoformer.training.trainer import CONFIG_FILE, train


def parse_duration(text: str) -> float:
    """Seconds from ``"90"``, ``"90s"``, ``"30m"``, ``"2h"`` or ``"1.5h"``."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    text = text.strip().lower()
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; write e.g. 3600, 45m or 2h") from None


def _flag_type(annotation: Any) -> Any:
    """``int`` from ``int`` or ``int | None``."""
    options = [option for option in typing.get_args(annotation) if option is not type(None)]
    return options[0] if options else annotation


def _with_default(doc: str, default: Any) -> str:
    """A docstring entry as command-line help: no reST quotes or final full stop, the default after it."""
    doc = doc.replace("``", "").rstrip(".")
    return doc if default is None else f"{doc} (default: {default})"


def _model_settings_help() -> str:
    """One line per GeoFormerConfig setting that ``--model-setting`` takes, with its default."""
    docs = attribute_docs(GeoFormerConfig)
    lines = ["model settings (--model-setting NAME=VALUE):"]
    for field in dataclasses.fields(GeoFormerConfig):
        if field.name != "species":
            lines.append(f"  {field.name}: {_with_default(docs[field.name], field.default)}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geoformer-train", description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join([*__doc__.splitlines()[2:], "", _model_settings_help()]),
    )
    parser.add_argument("--config", help="YAML or JSON file of TrainingConfig settings")
    parser.add_argument("--output", required=True, help="folder for the run: checkpoints, metrics, training state")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --output")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (per-epoch lines still print)")
    parser.add_argument("--model-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a GeoFormerConfig setting, e.g. channels=96 (repeatable)")
    hints = typing.get_type_hints(TrainingConfig)
    docs = attribute_docs(TrainingConfig)
    for field in dataclasses.fields(TrainingConfig):
        if field.name == "model":
            continue
        flag = "--" + field.name.replace("_", "-")
        kind = _flag_type(hints[field.name])
        text = _with_default(docs[field.name], field.default)
        if field.name == "time_budget":
            parser.add_argument(flag, type=parse_duration, default=None, help=f"{text}; e.g. 3600, 45m, 2h")
        elif kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            parser.add_argument(flag, type=kind, default=None, help=text)
    return parser


def config_from_arguments(args: argparse.Namespace) -> TrainingConfig:
    """The config file (or, on resume, the run's saved config) with the flags applied on top.

    The file may leave out the data source (``molecule`` or ``train_file``) for a flag to give; a
    data-source flag replaces the file's source.
    """
    settings: dict[str, Any] = {}
    saved = Path(args.output) / CONFIG_FILE
    if args.resume and saved.exists():
        settings.update(TrainingConfig.load(saved).to_dict())
    elif args.config:
        settings.update(read_mapping(args.config))
    if args.molecule is not None or args.train_file is not None:
        settings.pop("molecule", None)
        settings.pop("train_file", None)
    for field in dataclasses.fields(TrainingConfig):
        value = getattr(args, field.name, None)
        if field.name != "model" and value is not None:
            settings[field.name] = value
    model = dict(settings.get("model", {}))
    for item in args.model_setting:
        name, _, value = item.partition("=")
        if not _:
            raise ValueError(f"--model-setting wants NAME=VALUE, got {item!r}")
        model[name.strip()] = json.loads(value)
    settings["model"] = model
    return TrainingConfig.from_dict(settings)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_arguments(args)
        command = shlex.join(["geoformer-train", *(sys.argv[1:] if argv is None else argv)])
        result = train(config, args.output, resume=args.resume, progress=not args.no_progress, command=command)
    except (GeoFormerError, ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    best = result.best_validation
    print(
        f"{result.status} after {result.epochs} epochs; best validation force MAE "
        f"{best.get('validation_force_mae_meV_per_A', float('nan')):.2f} meV/Å, energy MAE "
        f"{best.get('validation_energy_mae_meV', float('nan')):.2f} meV; model: {Path(args.output) / 'best.pt'}"
        + ("; continue with --resume" if result.status == "budget_spent" else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
