"""Cost of ``neighbour_species``: median time of an energy + forces call with and without it.

    python docs/scripts/time_neighbour_species.py --data-dir ../shared/data/rmd17 --dtype float64

Two random-weight models of the shipped size (64 channels, 3 blocks) on the first aspirin validation
frame, one CPU thread, calls alternating between the two (each call on a slightly moved copy, so
nothing is cached); the first three calls of each are warm-up. Prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from ase import Atoms

from ase_geoformer import GeoFormer, GeoFormerCalculator, GeoFormerConfig
from ase_geoformer.rmd17 import standard_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--rounds", type=int, default=41)
    args = parser.parse_args()
    torch.set_num_threads(1)
    frames = standard_split("aspirin", args.data_dir).validation
    first, last = frames.offsets[0], frames.offsets[1]
    atoms = Atoms(numbers=frames.numbers[first:last], positions=frames.positions[first:last])
    calculators = {}
    for neighbour_species in (False, True):
        torch.manual_seed(0)
        config = GeoFormerConfig(species=(1, 6, 8), channels=64, num_blocks=3, neighbour_species=neighbour_species)
        calculators[neighbour_species] = GeoFormerCalculator(model=GeoFormer(config), device="cpu", dtype=args.dtype)
    times: dict[bool, list[float]] = {False: [], True: []}
    rng = np.random.default_rng(0)
    for round_ in range(args.rounds):
        for neighbour_species in (False, True) if round_ % 2 else (True, False):
            moved = atoms.copy()
            moved.positions += rng.normal(scale=0.01, size=moved.positions.shape)
            moved.calc = calculators[neighbour_species]
            start = time.perf_counter()
            moved.get_forces()
            times[neighbour_species].append(time.perf_counter() - start)
    blind, aware = (statistics.median(times[key][3:]) for key in (False, True))
    print(f"{args.dtype}, aspirin (21 atoms), 64 channels, 3 blocks, one thread: species-blind {1000 * blind:.1f} ms, "
          f"neighbour_species {1000 * aware:.1f} ms, ratio {aware / blind:.3f}")


if __name__ == "__main__":
    main()
