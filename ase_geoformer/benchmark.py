"""``geoformer-benchmark``: GeoFormer against MACE and ASE's own floor, per molecule, dtype and device.

For each molecule, dtype (float32, float64) and device (CPU, and CUDA when present) it times

- one energy+forces call through the ASE calculator (``atoms.get_forces()`` after a move), and
- one full ASE MD step (``VelocityVerlet``), which adds the integrator's own cost,

for GeoFormer (the molecule's shipped model, or the default model when the molecule has none but
its elements are covered), GeoFormer through ``torch.compile`` (``--compile``), MACE at its rMD17
paper size with random weights (when ``mace-torch`` is installed), and a calculator that costs
nothing (ASE's floor: the MD step's overhead alone). The contenders alternate call by call, so
that a busy machine slows them alike; the table reports medians and the ratio to MACE. With
``--replicas`` it also times batched evaluation of many copies of the molecule in one pass
(atom-steps per second). Structures are the first rMD17 test_01 frame of each molecule.

    geoformer-benchmark --data-dir ../shared/data/rmd17 --molecule aspirin --json bench.json
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ase import Atoms, units
from ase.calculators.calculator import Calculator, all_changes
from ase.md.verlet import VelocityVerlet
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

from ase_geoformer import rmd17
from ase_geoformer.batch import dense_batch
from ase_geoformer.calculator import GeoFormerCalculator
from ase_geoformer.config import GeoFormerConfig
from ase_geoformer.data import read_dataset
from ase_geoformer.io_utils import atomic_write_text
from ase_geoformer.nn.model import GeoFormer
from ase_geoformer.predict import predict
from ase_geoformer.zoo import resolve_checkpoint, shipped_models

DTYPES = ("float32", "float64")


class FreeCalculator(Calculator):
    """Energy 0 and forces 0 at no cost: what an MD step costs in ASE without any model."""

    implemented_properties = ["energy", "free_energy", "forces"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        self.results = {"energy": 0.0, "free_energy": 0.0, "forces": np.zeros((len(self.atoms), 3))}


def mace_calculator(dtype: str, device: str, species: Sequence[int]) -> Calculator:
    """MACE at its rMD17 paper size (2 layers, 256 channels, L=2 features, max_ell 3, correlation 3,
    r_max 5 Å, 8 Bessel functions) for the elements ``species``, random weights: for timing only.
    Needs ``mace-torch``."""
    from mace import modules  # imported first: it prepares e3nn for loading
    from mace.calculators import MACECalculator
    from e3nn import o3

    torch.manual_seed(0)
    interaction = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
    model = modules.ScaleShiftMACE(
        r_max=5.0,
        num_bessel=8,
        num_polynomial_cutoff=5,
        max_ell=3,
        interaction_cls=interaction,
        interaction_cls_first=interaction,
        num_interactions=2,
        num_elements=len(species),
        hidden_irreps=o3.Irreps("256x0e + 256x1o + 256x2e"),
        MLP_irreps=o3.Irreps("16x0e"),
        atomic_energies=np.zeros(len(species)),
        avg_num_neighbors=20.0,
        atomic_numbers=list(species),
        correlation=3,
        gate=torch.nn.functional.silu,
        atomic_inter_scale=1.0,
        atomic_inter_shift=0.0,
    )
    return MACECalculator(models=model.to(getattr(torch, dtype)), device=device, default_dtype=dtype)


def mace_available() -> bool:
    return importlib.util.find_spec("mace") is not None


def benchmark_structure(name: str, data_dir: str | Path | None) -> Atoms:
    """The first frame of rMD17 ``name`` test_01 (raises ``FileNotFoundError`` naming the file if absent)."""
    atoms = read_dataset(rmd17.rmd17_path(data_dir, name, "test_01")).to_atoms(0)
    return Atoms(numbers=atoms.numbers, positions=atoms.positions)


def default_molecules() -> list[str]:
    """The rMD17 molecules with a shipped model (committees share their molecule's row), and aspirin."""
    return sorted((set(shipped_models()) & set(rmd17.MOLECULES)) | {"aspirin"})


def model_for(name: str) -> tuple[str, GeoFormer]:
    """The molecule's shipped model, else the default one; with a label saying which."""
    if name in shipped_models():
        return name, resolve_checkpoint(name).model
    checkpoint = resolve_checkpoint(None)
    return f"{checkpoint.path.stem} (default model)", checkpoint.model


def contenders(model: GeoFormer, dtype: str, device: str, compile: bool, mace: bool) -> dict[str, Calculator]:
    """The calculators under test, by name, in the order they take turns."""
    found = {"GeoFormer": GeoFormerCalculator(model=model, device=device, dtype=dtype)}
    if compile:
        found["GeoFormer (compiled)"] = GeoFormerCalculator(model=model, device=device, dtype=dtype, compile=True)
    if mace:
        found["MACE"] = mace_calculator(dtype, device, model.species)
    found["ASE floor (no model)"] = FreeCalculator()
    return found


def time_calls_and_steps(
    calculators: dict[str, Calculator], atoms: Atoms, rounds: int, synchronize: Callable[[], None]
) -> dict[str, dict[str, float]]:
    """Median ms of one energy+forces call and of one VelocityVerlet step (0.5 fs) per calculator.

    Each round times one call and one step of every calculator in turn. Three warm-up rounds
    (compilation, caches) are not counted.
    """
    rng = np.random.default_rng(0)
    systems = {}
    for name, calculator in calculators.items():
        system = atoms.copy()
        MaxwellBoltzmannDistribution(system, temperature_K=300, rng=np.random.default_rng(1))
        system.calc = calculator
        systems[name] = (system, VelocityVerlet(system, timestep=0.5 * units.fs))
    calls: dict[str, list[float]] = {name: [] for name in calculators}
    steps: dict[str, list[float]] = {name: [] for name in calculators}
    for _ in range(rounds + 3):
        for name, (system, dynamics) in systems.items():
            system.positions += rng.normal(scale=1e-3, size=system.positions.shape)
            start = time.perf_counter()
            system.get_forces()
            synchronize()
            calls[name].append(time.perf_counter() - start)
            start = time.perf_counter()
            dynamics.run(1)
            synchronize()
            steps[name].append(time.perf_counter() - start)
    return {
        name: {"call_ms": 1e3 * float(np.median(calls[name][3:])), "md_step_ms": 1e3 * float(np.median(steps[name][3:]))}
        for name in calculators
    }


def time_replicas(model: GeoFormer, atoms: Atoms, replicas: int, dtype: str, device: str, rounds: int) -> float:
    """Atom-steps per second: energies and forces of ``replicas`` copies of ``atoms`` in one dense pass."""
    model = copy.deepcopy(model).to(device=device, dtype=getattr(torch, dtype)).eval().requires_grad_(False)
    rng = np.random.default_rng(2)
    structures = []
    for _ in range(replicas):
        replica = atoms.copy()
        replica.positions += rng.normal(scale=0.02, size=replica.positions.shape)
        structures.append(replica)
    batch = dense_batch(structures, model.species, device, getattr(torch, dtype))
    times = []
    for _ in range(rounds + 2):
        start = time.perf_counter()
        predict(model, batch)["forces"].cpu()
        times.append(time.perf_counter() - start)
    return replicas * len(atoms) / float(np.median(times[2:]))


def run_benchmark(
    molecules: Sequence[str],
    data_dir: str | Path | None,
    devices: Sequence[str],
    rounds: int,
    compile: bool,
    mace: bool,
    replicas: Sequence[int],
) -> list[dict[str, Any]]:
    rows = []
    for molecule in molecules:
        atoms = benchmark_structure(molecule, data_dir)
        label, model = model_for(molecule)
        for device in devices:
            synchronize = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
            for dtype in DTYPES:
                calculators = contenders(model, dtype, device, compile, mace)
                timings = time_calls_and_steps(calculators, atoms, rounds, synchronize)
                reference = timings.get("MACE", {}).get("call_ms")
                for name, timing in timings.items():
                    row = {
                        "molecule": molecule,
                        "atoms": len(atoms),
                        "model": label if name.startswith("GeoFormer") else "",
                        "device": device,
                        "dtype": dtype,
                        "calculator": name,
                        **timing,
                        "md_steps_per_s": 1e3 / timing["md_step_ms"],
                        "call_over_mace": timing["call_ms"] / reference if reference else None,
                    }
                    rows.append(row)
                    print(format_row(row), flush=True)
                for count in replicas:
                    rate = time_replicas(model, atoms, count, dtype, device, rounds)
                    row = {
                        "molecule": molecule, "atoms": len(atoms), "model": label, "device": device, "dtype": dtype,
                        "calculator": f"GeoFormer batched x{count}", "atom_steps_per_s": rate,
                    }
                    rows.append(row)
                    print(format_row(row), flush=True)
    return rows


def format_row(row: dict[str, Any]) -> str:
    if "atom_steps_per_s" in row:
        return f"{row['molecule']} {row['device']} {row['dtype']} {row['calculator']}: {row['atom_steps_per_s']:.3g} atom-steps/s"
    ratio = f", {row['call_over_mace']:.4f} x MACE" if row["call_over_mace"] else ""
    return (
        f"{row['molecule']} {row['device']} {row['dtype']} {row['calculator']}: call {row['call_ms']:.2f} ms, "
        f"MD step {row['md_step_ms']:.2f} ms ({row['md_steps_per_s']:.0f} steps/s){ratio}"
    )


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| molecule (atoms) | device | dtype | calculator | energy+forces call (ms) | MD step (ms) | MD steps/s | call / MACE call |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if "call_ms" not in row:
            continue
        ratio = f"{row['call_over_mace']:.4f} (1/{1 / row['call_over_mace']:.0f})" if row["call_over_mace"] else ""
        lines.append(
            f"| {row['molecule']} ({row['atoms']}) | {row['device']} | {row['dtype']} | {row['calculator']} | "
            f"{row['call_ms']:.2f} | {row['md_step_ms']:.2f} | {row['md_steps_per_s']:.0f} | {ratio} |"
        )
    batched = [row for row in rows if "atom_steps_per_s" in row]
    if batched:
        lines += ["", "| molecule (atoms) | device | dtype | batched evaluation | atom-steps/s |", "| --- | --- | --- | --- | ---: |"]
        for row in batched:
            lines.append(
                f"| {row['molecule']} ({row['atoms']}) | {row['device']} | {row['dtype']} | {row['calculator']} | "
                f"{row['atom_steps_per_s']:.3g} |"
            )
    return "\n".join(lines) + "\n"


def random_cluster(num_atoms: int, density: float, rng: np.random.Generator) -> Atoms:
    """H, C, O atoms placed uniformly in a cube at ``density`` atoms/Å^3 (liquid-like at 0.1)."""
    side = (num_atoms / density) ** (1.0 / 3.0)
    return Atoms(rng.choice(["H", "C", "O"], num_atoms).tolist(), positions=rng.uniform(0, side, (num_atoms, 3)))


def compare_paths(model: GeoFormer, device: str, rounds: int, sizes: Sequence[int] = (21, 64, 128, 256)) -> dict:
    """Median ms per call of the dense and neighbour-list paths (float32) for clusters of several sizes.

    ``--paths`` runs it on a random-weight model of the default architecture.
    """
    rng = np.random.default_rng(2)
    results = {}
    for size in sizes:
        atoms = random_cluster(size, 0.1, rng)
        calculators = {
            path: GeoFormerCalculator(model=model, device=device, dtype="float32", dense_max_atoms=threshold)
            for path, threshold in (("dense", size), ("neighbour_list", 0))
        }
        timings = time_calls_and_steps(calculators, atoms, rounds, lambda: None)
        results[size] = {path: timing["call_ms"] for path, timing in timings.items()}
        print(f"{size:4d} atoms: dense {results[size]['dense']:7.1f} ms, neighbour list {results[size]['neighbour_list']:7.1f} ms")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="geoformer-benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--molecule", action="append", help="rMD17 molecule (repeatable; default: every molecule with a shipped model, and aspirin)")
    parser.add_argument("--data-dir", help=f"rMD17 folder (default: ${rmd17.DATA_DIR_VARIABLE})")
    parser.add_argument("--device", action="append", help="cpu, cuda, ... (repeatable; default: cpu, and cuda when present)")
    parser.add_argument("--rounds", type=int, default=30, help="timed calls and steps per calculator")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--compile", action="store_true", help="also time GeoFormer through torch.compile")
    parser.add_argument("--no-mace", action="store_true", help="leave MACE out even when mace-torch is installed")
    parser.add_argument("--replicas", default="", help="comma-separated replica counts for batched evaluation, e.g. 1,16,128")
    parser.add_argument("--paths", action="store_true", help="instead: compare the dense and neighbour-list paths by size")
    parser.add_argument("--json", help="write the rows and the run's settings to this JSON file")
    parser.add_argument("--markdown", help="write the table to this Markdown file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.device or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    if args.paths:
        torch.manual_seed(0)
        compare_paths(GeoFormer(GeoFormerConfig(species=(1, 6, 8))), devices[0], args.rounds)
        return 0
    mace = not args.no_mace and mace_available()
    if not args.no_mace and not mace:
        print("mace-torch is not installed: MACE is left out (pip install mace-torch)", file=sys.stderr)
    molecules = args.molecule or default_molecules()
    replicas = [int(count) for count in args.replicas.split(",") if count]
    try:
        rows = run_benchmark(molecules, args.data_dir, devices, args.rounds, args.compile, mace, replicas)
    except (FileNotFoundError, LookupError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    table = markdown_table(rows)
    print(table)
    settings = {
        "threads": torch.get_num_threads(),
        "rounds": args.rounds,
        "torch": torch.__version__,
        "devices": [torch.cuda.get_device_name(d) if d.startswith("cuda") else "cpu" for d in devices],
        "command": " ".join(["geoformer-benchmark", *(argv if argv is not None else sys.argv[1:])]),
    }
    if args.json:
        atomic_write_text(args.json, json.dumps({"settings": settings, "rows": rows}, indent=2) + "\n")
    if args.markdown:
        atomic_write_text(args.markdown, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
