"""Validation report: energy conservation and stability of every shipped model, as a Markdown table.

    python -m md_protocols.report --data-dir ../shared/data/rmd17 --output docs/md_validation_results.md
    python -m md_protocols.report --model aspirin --calculator mypkg:make_mace --data-dir ... --output mace.md

For each model: NVE at 300 K from the first rMD17 test_01 frame at dt and dt/2 (float64 and
float32), then the stability run at 500 K against the rMD17 test_01 frames. The JSON and PNG of
each protocol are written beside the table; the table is written atomically. Each model's row is
also kept as ``<name>_row.json``, saved after every protocol: a report run again (after a kill, or
with more models) reuses the rows, and the finished protocols of an unfinished row, whose
calculator, checkpoint file (sha256) and settings are unchanged, unless ``--fresh``; a protocol
stored at an older ``PROTOCOL_VERSIONS`` entry runs again; ``--table-only`` writes the table from the
stored rows, of any version, and runs nothing. A shipped committee (``ethanol-committee``) is validated
on the frames of the molecule it was trained on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator

from ase_geoformer import load_checkpoint, rmd17, shipped_models
from ase_geoformer.data import read_dataset
from ase_geoformer.io_utils import atomic_write_text
from ase_geoformer.zoo import trained_molecule
from md_protocols.calculators import make_calculator
from md_protocols.conservation import plot_traces, validate_conservation
from md_protocols.stability import StabilitySettings, plot_h, reference_positions, run_stability


@dataclass
class ReportSettings:
    """NVE: temperature (K), time step (fs), duration (ps), leading window of the dt-scaling ratio (ps);
    stability: duration (ps) at 500 K, dt 0.5 fs.

    ``device`` and ``compile`` apply to GeoFormer calculators (see ``GeoFormerCalculator``).
    """

    nve_temperature_K: float = 300.0
    nve_timestep_fs: float = 0.5
    nve_duration_ps: float = 5.0
    nve_scaling_window_ps: float = 0.25
    stability_duration_ps: float = 50.0
    device: str | None = None
    compile: bool = False


PROTOCOLS = ("float64", "float32", "stability")
"""The parts of a row: conservation in each dtype, then stability in float64."""

PROTOCOL_VERSIONS = {"float64": 1, "float32": 1, "stability": 3}
"""Raised when a protocol's code changes its results for the same settings, so that a stored part of
an older version runs again. stability 2: the Nosé-Hoover bath holds the motion within the molecule at
500 K (version 1 held all 3N degrees of freedom there, which put the motion within at 500 K x 3N / (3N - 6)).
stability 3: two atoms not bonded at the start coming within bonding distance is a collapse too (version 2
watched only the bonds of the first frame), and the closest approach of non-bonded atoms is reported."""


def validate_model(
    name: str,
    calculator_spec: str,
    reference_file: str | Path,
    settings: ReportSettings,
    output: Path,
    finished: dict[str, Any] | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Conservation in float64 and float32, and stability in float64, of one model; files under ``output``.

    ``finished``: a partial row from an interrupted run; its protocols are kept, not run again.
    ``on_progress(row)`` is called with the partial row after each protocol (to save it).
    """
    reference = read_dataset(reference_file)
    frames = reference_positions(reference)
    start = Atoms(numbers=reference.numbers[: frames.shape[1]], positions=frames[0])
    row: dict[str, Any] = {"model": name, "calculator": calculator_spec, **(finished or {})}
    calculators: dict[str, Calculator] = {}  # one per dtype: stability reuses the float64 one (and its compiled code)
    for part in (part for part in PROTOCOLS if part not in row):
        dtype = "float32" if part == "float32" else "float64"
        if dtype not in calculators:
            calculators[dtype] = make_calculator(calculator_spec, settings.device, dtype, settings.compile)
        calculator = calculators[dtype]
        if part == "stability":
            stability_settings = StabilitySettings(duration_ps=settings.stability_duration_ps)
            row[part], simulated, reference_h = run_stability(reference, calculator, stability_settings)
            plot_h(simulated, reference_h, output / f"{name}_stability.png", f"{name}, 500 K")
            prefix = output / f"{name}_stability"
        else:
            row[part], traces = validate_conservation(
                start, calculator, settings.nve_temperature_K, settings.nve_timestep_fs, settings.nve_duration_ps,
                scaling_window_ps=settings.nve_scaling_window_ps,
            )
            prefix = output / f"{name}_conservation_{part}"
            plot_traces(traces, prefix.with_suffix(".png"), f"{name}, NVE, {part}")
        atomic_write_text(prefix.with_suffix(".json"), json.dumps(row[part], indent=2) + "\n")
        if on_progress is not None:
            on_progress(row)
    return row


def reference_molecule(name: str) -> str:
    """The rMD17 molecule whose test_01 frames validate ``name``: a shipped model's training molecule, else ``name``."""
    path = shipped_models().get(name)
    return (trained_molecule(load_checkpoint(path)) if path is not None else None) or name


def row_key(name: str, calculator_spec: str, settings: ReportSettings) -> dict[str, Any]:
    """What a stored row must match to be reused: model, calculator, checkpoint content, settings."""
    path = shipped_models().get(calculator_spec) or Path(calculator_spec)
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return {"model": name, "calculator": calculator_spec, "checkpoint_sha256": digest, "settings": asdict(settings)}


def stored_row(path: Path, key: dict[str, Any], any_version: bool = False) -> dict[str, Any] | None:
    """The row saved at ``path`` if it was made with ``key``, finished or not, less its protocols of an older
    version than ``PROTOCOL_VERSIONS`` (kept with ``any_version``); ``None`` when the file is missing or was
    made with another key."""
    if not path.is_file():
        return None
    stored = json.loads(path.read_text())
    if stored.get("key") != key:
        return None
    versions = stored.get("versions", {})
    return {
        part: value for part, value in stored["row"].items()
        if part not in PROTOCOLS or any_version or versions.get(part) == PROTOCOL_VERSIONS[part]
    }


def stored_versions(path: Path) -> dict[str, int]:
    """The protocol versions of the row saved at ``path``."""
    return json.loads(path.read_text()).get("versions", {})


def row_file_content(key: dict[str, Any], row: dict[str, Any]) -> str:
    """What ``<name>_row.json`` holds: the key, the version of each protocol in ``row``, and the row."""
    versions = {part: PROTOCOL_VERSIONS[part] for part in PROTOCOLS if part in row}
    return json.dumps({"key": key, "versions": versions, "row": row}, indent=2) + "\n"


def is_complete(row: dict[str, Any]) -> bool:
    """Whether every protocol of ``row`` has run."""
    return all(part in row for part in PROTOCOLS)


def markdown_table(rows: list[dict[str, Any]], stability_versions: list[int] | None = None) -> str:
    """The table, one line per model and dtype, then the cause of each collapse. ``stability_versions``: the
    stability protocol's version of each row (default: the current one); an older one is named in the table."""
    versions = stability_versions or [PROTOCOL_VERSIONS["stability"]] * len(rows)
    lines = [
        "| model | dtype | drift (meV/atom/ps), dt / dt/2 | std(E_tot)/std(E_pot) | fluctuation(dt)/fluctuation(dt/2), leading window"
        " | conservation | stable (ps) | largest bond deviation (Å) | closest non-bonded pair (Å), run (reference frames) | internal T (K) | h(r) error |",
        "| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    causes = []
    for row, version in zip(rows, versions):
        stability = row["stability"]
        for dtype in ("float64", "float32"):
            report = row[dtype]
            drifts = " / ".join(f"{r['drift_meV_per_atom_per_ps']:.4f}" for r in report["runs"])
            cells = ["", "", "", "", ""]
            if dtype == "float64":
                older = "" if version == PROTOCOL_VERSIONS["stability"] else f" (protocol version {version})"
                closest = stability.get("closest_non_bonded_A")
                sampled = stability["h_error"] is not None
                cells = [
                    f"{stability['stable_ps']:g}" + ("" if stability["stable"] else " (collapsed)") + older,
                    f"{stability['largest_bond_deviation_A']:.3f}",
                    f"{stability['closest_non_bonded_pair']} {closest:.2f} ({stability['reference_closest_non_bonded_A']:.2f})"
                    if closest is not None else "",
                    f"{stability['mean_internal_temperature_K']:.0f}" if sampled else "",
                    f"{stability['h_error']:.3f}" if sampled else "",
                ]
                if not stability["stable"] and stability.get("collapse_cause"):
                    causes.append(f"- {row['model']}: collapsed at {stability['time_to_collapse_ps']:g} ps: {stability['collapse_cause']}")
            lines.append(
                f"| {row['model']} | {dtype} | {drifts} | {report['runs'][0]['std_total_over_std_potential']:.2e} | "
                f"{report['fluctuation_dt_over_half_dt']:.2f} | {'pass' if report['passed'] else 'FAIL'} | {' | '.join(cells)} |"
            )
    return "\n".join(lines + ([""] + causes if causes else [])) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m md_protocols.report", description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="shipped model(s) to validate, or with --calculator the rMD17 molecule (default: every shipped model)")
    parser.add_argument("--calculator", help="module:factory of a peer calculator to validate instead of GeoFormer")
    parser.add_argument("--data-dir", help=f"rMD17 folder (default: ${rmd17.DATA_DIR_VARIABLE})")
    parser.add_argument("--nve-duration", type=float, default=5.0, help="ps per NVE run")
    parser.add_argument("--nve-scaling-window", type=float, default=0.25, help="ps at the start of the NVE runs for the dt-scaling ratio")
    parser.add_argument("--stability-duration", type=float, default=50.0, help="ps")
    parser.add_argument("--device", default=None)
    parser.add_argument("--compile", action="store_true", help="GeoFormer through torch.compile (faster MD)")
    parser.add_argument("--fresh", action="store_true", help="rerun every model, even those with a stored row")
    parser.add_argument("--table-only", action="store_true",
                        help="write the table from the stored rows of any protocol version; run nothing")
    parser.add_argument("--output", required=True, help="the Markdown file; protocol JSON and PNG files go beside it")
    args = parser.parse_args(argv)
    settings = ReportSettings(
        nve_duration_ps=args.nve_duration,
        nve_scaling_window_ps=args.nve_scaling_window,
        stability_duration_ps=args.stability_duration,
        device=args.device,
        compile=args.compile,
    )
    output = Path(args.output)
    folder = output.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    rows, versions = [], []
    try:
        for name in args.model or sorted(shipped_models()):
            spec = args.calculator or name
            key = row_key(name, spec, settings)
            row_file = folder / f"{name}_row.json"
            row = None if args.fresh else stored_row(row_file, key, any_version=args.table_only)
            if args.table_only:
                if row is None or not is_complete(row):
                    raise LookupError(f"{name}: no finished row for these settings in {row_file}; run without --table-only first")
            elif row is not None and is_complete(row):
                print(f"{name}: reusing {row_file} (same calculator, checkpoint and settings)")
            else:
                if row is not None:
                    print(f"{name}: continuing {row_file}, done: {', '.join(p for p in PROTOCOLS if p in row)}")
                reference = rmd17.rmd17_path(args.data_dir, reference_molecule(name), "test_01")

                def save(partial: dict[str, Any], row_file: Path = row_file, key: dict[str, Any] = key) -> None:
                    atomic_write_text(row_file, row_file_content(key, partial))

                row = validate_model(name, spec, reference, settings, folder, finished=row, on_progress=save)
            rows.append(row)
            versions.append(stored_versions(row_file)["stability"] if args.table_only else PROTOCOL_VERSIONS["stability"])
    except (ValueError, FileNotFoundError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    atomic_write_text(output, markdown_table(rows, versions))
    print(output.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
