"""Time one energy+forces call of ``GeoFormerCalculator``: ``python -m ase_geoformer.benchmark``.

Uses a random-weight model of the default architecture unless ``--model`` is given, on an
approximate aspirin geometry (C9H8O4, 21 atoms; for timing only, not an optimised structure). Prints the median over
``--repeats`` calls for each dtype; timings on a shared machine are noisy, so compare ratios
measured in one run.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from ase import Atoms

from ase_geoformer.calculator import GeoFormerCalculator
from ase_geoformer.config import GeoFormerConfig
from ase_geoformer.nn.model import GeoFormer

# Approximate aspirin geometry (C9H8O4, 21 atoms) in Å: bond lengths 1.0-1.4 Å, for timing only.
ASPIRIN_SYMBOLS = "CCCCCCCOOOCCOHHHHHHHH"
ASPIRIN_POSITIONS = [
    [2.0165, -1.0541, 0.0], [2.3262, 0.3005, 0.0], [1.3086, 1.2469, 0.0], [-0.0155, 0.8289, 0.0],
    [-0.3247, -0.5276, 0.0], [0.6914, -1.4734, 0.0], [-1.0926, 1.8516, 0.0], [-0.8403, 3.0463, 0.0],
    [-2.3406, 1.3606, 0.0], [-1.6313, -0.9924, 0.0], [-2.0101, -2.2731, 0.0], [-3.5029, -2.4312, 0.0],
    [-1.2639, -3.2319, 0.0], [-2.9549, 2.1264, 0.0], [2.8075, -1.7960, 0.0], [3.3582, 0.6347, 0.0],
    [1.5568, 2.3042, 0.0], [0.4473, -2.5305, 0.0], [-3.7760, -3.4893, 0.0], [-3.9226, -1.9465, 0.8858],
    [-3.9226, -1.9465, -0.8858],
]


def aspirin() -> Atoms:
    atoms = Atoms(ASPIRIN_SYMBOLS, positions=ASPIRIN_POSITIONS)
    atoms.rattle(0.02, seed=0)
    return atoms


def median_call_seconds(calc: GeoFormerCalculator, atoms: Atoms, repeats: int, rng: np.random.Generator) -> float:
    """Median wall time of ``repeats`` energy+forces calls, each on freshly moved positions."""
    atoms = atoms.copy()
    times = []
    for _ in range(repeats + 3):
        atoms.positions += rng.normal(scale=1e-3, size=atoms.positions.shape)
        start = time.perf_counter()
        calc.calculate(atoms, ["energy", "forces"])
        times.append(time.perf_counter() - start)
    return float(np.median(times[3:]))


def random_cluster(num_atoms: int, density: float, rng: np.random.Generator) -> Atoms:
    """H, C, O atoms placed uniformly in a cube at ``density`` atoms/Å^3 (liquid-like at 0.1)."""
    side = (num_atoms / density) ** (1.0 / 3.0)
    return Atoms(rng.choice(["H", "C", "O"], num_atoms).tolist(), positions=rng.uniform(0, side, (num_atoms, 3)))


def compare_paths(model, device: str | None, repeats: int, sizes: tuple[int, ...] = (21, 64, 128, 256)) -> dict:
    """Median ms per call of the dense and neighbour-list paths (float32) for clusters of several sizes."""
    rng = np.random.default_rng(2)
    results = {}
    for size in sizes:
        atoms = random_cluster(size, 0.1, rng)
        row = {}
        for path, threshold in (("dense", size), ("neighbour_list", 0)):
            calc = GeoFormerCalculator(model=model, device=device, dtype="float32", dense_max_atoms=threshold)
            row[path] = 1e3 * median_call_seconds(calc, atoms, repeats, rng)
        print(f"{size:4d} atoms: dense {row['dense']:7.1f} ms, neighbour list {row['neighbour_list']:7.1f} ms")
        results[size] = row
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="shipped name or checkpoint path (default: random weights, default architecture)")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: CUDA when available)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--paths", action="store_true", help="compare the dense and neighbour-list paths by size")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    model = args.model or GeoFormer(GeoFormerConfig(species=(1, 6, 8)))
    if args.paths:
        return compare_paths(model, args.device, args.repeats)
    atoms = aspirin()
    results = {}
    for dtype in ("float32", "float64"):
        calc = GeoFormerCalculator(model=model, device=args.device, dtype=dtype)
        seconds = median_call_seconds(calc, atoms, args.repeats, np.random.default_rng(1))
        results[f"{dtype}_ms"] = 1e3 * seconds
        print(f"{dtype}: {1e3 * seconds:.1f} ms per energy+forces call ({len(atoms)} atoms, {calc.device}, "
              f"median of {args.repeats}, {torch.get_num_threads()} threads)")
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
