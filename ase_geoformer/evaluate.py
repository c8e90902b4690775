"""Energy and force errors of a model on a dataset, and the ``geoformer-evaluate`` command.

    geoformer-evaluate --model trained/ethanol.pt --molecule ethanol --data-dir ../shared/data/rmd17
    geoformer-evaluate --model run/best.pt --data frames.extxyz --json errors.json
    geoformer-evaluate --model run/best.pt --molecule ethanol --save-with-metrics trained/ethanol.pt
    geoformer-evaluate --model run/best.pt --molecule ethanol --sets validation --compare-with trained/ethanol.pt

Errors: energy MAE/RMSE per frame (meV) and force MAE/RMSE over all components (meV/Å), with
the same figures in kcal/mol and kcal/mol/Å. ``--compare-with`` adds a paired comparison: the mean
over frames of the model's per-frame force MAE minus the other model's, with its standard error.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from tqdm import tqdm

from ase_geoformer.checkpoint import DTYPES, save_checkpoint
from ase_geoformer.data import KCAL_PER_MOL, AtomsDataset, read_dataset, read_rmd17
from ase_geoformer.errors import GeoFormerError
from ase_geoformer.io_utils import atomic_write_text
from ase_geoformer.nn.committee import EnergyModel
from ase_geoformer.predict import predict
from ase_geoformer.zoo import resolve_checkpoint
from ase_geoformer.labelled import EnergyBaseline, LabelledBatch, SampleSource, collate


def error_sums(energy: torch.Tensor, forces: torch.Tensor, batch: LabelledBatch) -> torch.Tensor:
    """``[sum |dE|, sum dE^2, frames, sum |dF|, sum dF^2, force components]`` (float64, eV and eV/Å) of
    predicted ``energy (B,)`` and ``forces (B, N, 3)`` against the targets of ``batch``."""
    energy_error = (energy - batch.energies).detach()
    mask = batch.inputs.atom_mask[..., None].expand_as(batch.forces)
    force_error = (forces - batch.forces).detach()[mask]
    return torch.stack(
        [
            energy_error.abs().sum(),
            energy_error.pow(2).sum(),
            energy_error.new_tensor(energy_error.numel()),
            force_error.abs().sum(),
            force_error.pow(2).sum(),
            force_error.new_tensor(force_error.numel()),
        ]
    ).double()


def error_metrics(sums: torch.Tensor | np.ndarray) -> dict[str, float]:
    """MAE and RMSE in meV and meV/Å (and kcal/mol) from summed errors of ``error_sums``."""
    e_abs, e_sq, frames, f_abs, f_sq, components = (float(x) for x in sums)
    metrics = {
        "energy_mae_meV": 1000 * e_abs / frames,
        "energy_rmse_meV": 1000 * (e_sq / frames) ** 0.5,
        "force_mae_meV_per_A": 1000 * f_abs / components,
        "force_rmse_meV_per_A": 1000 * (f_sq / components) ** 0.5,
    }
    metrics["energy_mae_kcal_per_mol"] = metrics["energy_mae_meV"] / 1000 / KCAL_PER_MOL
    metrics["force_mae_kcal_per_mol_per_A"] = metrics["force_mae_meV_per_A"] / 1000 / KCAL_PER_MOL
    metrics["num_frames"] = int(frames)
    return metrics


def evaluate(
    model: EnergyModel,
    dataset: AtomsDataset,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
    progress: bool = False,
) -> dict[str, float]:
    """Errors of ``model`` (predicting total energies) on every frame of ``dataset``; ``model`` is copied, never changed."""
    return evaluate_with_frame_errors(model, dataset, batch_size, device, dtype, progress)[0]


def evaluate_with_frame_errors(
    model: EnergyModel,
    dataset: AtomsDataset,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
    progress: bool = False,
) -> tuple[dict[str, float], np.ndarray]:
    """``evaluate``'s errors and, from the same pass, the ``(F,)`` force MAE of each frame (meV/Å, the mean
    over its 3N components)."""
    model = copy.deepcopy(model).to(device=device, dtype=dtype)
    zero = EnergyBaseline(model.species, tuple(0.0 for _ in model.species))
    sums, frame_errors = _error_pass(model, SampleSource(dataset, zero), batch_size, torch.device(device), dtype, progress)
    return error_metrics(sums), frame_errors


def evaluate_samples(
    model: EnergyModel,
    source: SampleSource,
    batch_size: int,
    device: torch.device,
    dtype: torch.dtype,
    progress: bool = False,
) -> dict[str, float]:
    """Errors of ``model`` (on ``device`` in ``dtype``) on every sample of ``source``, against its baseline-relative energies."""
    return error_metrics(_error_pass(model, source, batch_size, device, dtype, progress)[0])


def _error_pass(
    model: EnergyModel, source: SampleSource, batch_size: int, device: torch.device, dtype: torch.dtype, progress: bool
) -> tuple[torch.Tensor, np.ndarray]:
    """Summed errors (``error_sums``) of ``model`` in eval mode over ``source``, and the ``(F,)`` force MAE of each
    frame, meV/Å."""
    model.eval()
    sums = torch.zeros(6, dtype=torch.float64)
    frame_errors = []
    starts = range(0, len(source), batch_size)
    for start in tqdm(starts, desc="evaluate", unit="batch", disable=not progress, file=sys.stderr):
        samples = [source.sample(i) for i in range(start, min(start + batch_size, len(source)))]
        batch = collate(samples, model.species, device, dtype)
        output = predict(model, batch.inputs, compute_forces=True)
        sums += error_sums(output["energy"], output["forces"], batch).cpu()
        absolute = (output["forces"] - batch.forces).detach().abs() * batch.inputs.atom_mask[..., None]
        frame_errors.append((1000 * absolute.sum(dim=(1, 2)) / (3 * batch.num_atoms)).cpu().numpy())
    return sums, np.concatenate(frame_errors)


@dataclass(frozen=True)
class PairedDifference:
    """A model's per-frame force MAE minus a reference model's on the same frames: the mean over frames
    and its standard error (meV/Å), and on how many frames the model's error is the lower."""

    mean: float
    standard_error: float
    frames_lower: int
    frames: int

    @classmethod
    def of(cls, errors: np.ndarray, reference_errors: np.ndarray) -> "PairedDifference":
        """From ``(F,)`` per-frame errors of the model and of the reference, frame for frame."""
        if errors.shape != reference_errors.shape or errors.ndim != 1 or len(errors) < 2:
            raise GeoFormerError(
                f"a paired comparison needs the same two or more frames for both models; got {errors.shape} "
                f"and {reference_errors.shape} per-frame errors"
            )
        difference = errors - reference_errors
        return cls(
            mean=float(difference.mean()),
            standard_error=float(difference.std(ddof=1) / np.sqrt(len(difference))),
            frames_lower=int((difference < 0).sum()),
            frames=len(difference),
        )


def format_paired_table(rows: Iterable[tuple[str, PairedDifference]]) -> str:
    """A Markdown table of paired differences, one row per named dataset."""
    lines = [
        "| data | frames | force MAE difference (meV/Å) | standard error (meV/Å) | frames where the model is lower |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, d in rows:
        lines.append(f"| {name} | {d.frames} | {d.mean:+.2f} | {d.standard_error:.2f} | {d.frames_lower} |")
    return "\n".join(lines)


def format_table(rows: Iterable[tuple[str, dict[str, float]]]) -> str:
    """A Markdown table of errors, one row per named dataset."""
    lines = [
        "| data | frames | energy MAE (meV) | force MAE (meV/Å) | energy MAE (kcal/mol) | force MAE (kcal/mol/Å) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, m in rows:
        lines.append(
            f"| {name} | {m['num_frames']} | {m['energy_mae_meV']:.2f} | {m['force_mae_meV_per_A']:.2f} | "
            f"{m['energy_mae_kcal_per_mol']:.4f} | {m['force_mae_kcal_per_mol_per_A']:.4f} |"
        )
    return "\n".join(lines)


def _rmd17_set(molecule: str, name: str, folder: str | None, seed: int) -> tuple[str, Callable[[], AtomsDataset]]:
    """(row name, loader) of one set of the rMD17 protocol."""
    from ase_geoformer import rmd17

    loaders: dict[str, tuple[str, Callable[[], AtomsDataset]]] = {
        "train": ("train (950 of train_01)", lambda: rmd17.standard_split(molecule, folder, seed).train),
        "validation": ("validation (50 of train_01)", lambda: rmd17.standard_split(molecule, folder, seed).validation),
        "test_01": ("test_01", lambda: read_rmd17(rmd17.rmd17_path(folder, molecule, "test_01"))),
        "not_in_train": ("all not in train_01", lambda: rmd17.frames_not_in_train(molecule, folder)),
    }
    if name not in loaders:
        raise GeoFormerError(f"unknown rMD17 set {name!r}; choose from {', '.join(loaders)}")
    label, load = loaders[name]
    return f"{molecule} {label}", load


def main(argv: list[str] | None = None) -> int:
    from ase_geoformer import rmd17

    parser = argparse.ArgumentParser(prog="geoformer-evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="checkpoint path or shipped model name")
    parser.add_argument("--data", action="append", default=[], help="data file (npz, h5, extxyz, ...); repeatable")
    parser.add_argument("--molecule", help="rMD17 molecule: evaluate on the --sets of its standard split")
    parser.add_argument("--sets", default="test_01,not_in_train",
                        help="comma-separated rMD17 sets: train, validation (the 950/50 split of train_01), test_01, "
                             "not_in_train (every frame not in train_01); default: test_01,not_in_train")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the train/validation split (as in training)")
    parser.add_argument("--data-dir", help=f"rMD17 folder (default: ${rmd17.DATA_DIR_VARIABLE})")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float64", choices=sorted(DTYPES))
    parser.add_argument("--json", help="also write the errors as JSON to this file")
    parser.add_argument("--save-with-metrics", metavar="PATH",
                        help="write a copy of the checkpoint with these errors in its metrics (e.g. for trained/)")
    parser.add_argument("--compare-with", metavar="MODEL",
                        help="checkpoint path or shipped model name: also print, per data set, the mean over frames "
                             "of --model's per-frame force MAE minus this model's, with its standard error")
    args = parser.parse_args(argv)
    if not args.data and not args.molecule:
        parser.error("give --data FILE and/or --molecule NAME")
    try:
        model = resolve_checkpoint(args.model).model
        datasets = [(path, lambda path=path: read_dataset(path)) for path in args.data]
        if args.molecule:
            for name in args.sets.split(","):
                datasets.append(_rmd17_set(args.molecule, name.strip(), args.data_dir, args.split_seed))
        reference = resolve_checkpoint(args.compare_with).model if args.compare_with else None
        settings = (args.batch_size, args.device, DTYPES[args.dtype], True)
        rows, paired = [], []
        for name, load in datasets:
            data = load()
            errors, frame_errors = evaluate_with_frame_errors(model, data, *settings)
            rows.append((name, errors))
            if reference is not None:
                reference_frame_errors = evaluate_with_frame_errors(reference, data, *settings)[1]
                paired.append((name, PairedDifference.of(frame_errors, reference_frame_errors)))
    except GeoFormerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(format_table(rows))
    if paired:
        print(f"\nPaired per-frame force MAE, {args.model} minus {args.compare_with}:\n")
        print(format_paired_table(paired))
    if args.save_with_metrics:
        checkpoint = resolve_checkpoint(args.model)
        metrics = {**checkpoint.metrics, **{name: errors for name, errors in rows}}
        save_checkpoint(args.save_with_metrics, checkpoint.model, checkpoint.provenance, metrics)
    if args.json:
        report = {"model": str(args.model), "results": dict(rows)}
        if paired:
            report["compared_with"] = str(args.compare_with)
            report["paired_force_mae_difference_meV_per_A"] = {name: asdict(d) for name, d in paired}
        atomic_write_text(args.json, json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
