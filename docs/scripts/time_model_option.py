"""Cost of a model option: median time of an energy + forces call with and without it.

    python docs/scripts/time_model_option.py --option neighbour_species --data-dir ../shared/data/rmd17 --dtype float64
    python docs/scripts/time_model_option.py --option quadrupole_invariants --base neighbour_species \
        --data-dir ../shared/data/rmd17 --dtype float64

Two random-weight models of the shipped size (64 channels, 3 blocks, the ``--base`` options on),
one with ``--option`` on as well, on the first aspirin validation frame, one CPU thread, calls
alternating between the two (each call on a slightly moved copy, so nothing is cached); the first
three calls of each are warm-up. Prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import numpy as np
import torch
from ase import Atoms

from ase_geoformer import GeoFormer, GeoFormerCalculator, GeoFormerConfig
from ase_geoformer.rmd17 import standard_split

OPTIONS = [field.name for field in dataclasses.fields(GeoFormerConfig) if field.type in (bool, "bool")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--option", required=True, choices=OPTIONS, help="the option to time")
    parser.add_argument("--base", action="append", default=[], choices=OPTIONS, help="options on in both models")
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--rounds", type=int, default=41)
    args = parser.parse_args()
    torch.set_num_threads(1)
    frames = standard_split("aspirin", args.data_dir).validation
    first, last = frames.offsets[0], frames.offsets[1]
    atoms = Atoms(numbers=frames.numbers[first:last], positions=frames.positions[first:last])
    calculators = {}
    for with_option in (False, True):
        torch.manual_seed(0)
        options = {name: True for name in args.base} | {args.option: with_option}
        config = GeoFormerConfig(species=(1, 6, 8), channels=64, num_blocks=3, **options)
        calculators[with_option] = GeoFormerCalculator(model=GeoFormer(config), device="cpu", dtype=args.dtype)
    times: dict[bool, list[float]] = {False: [], True: []}
    rng = np.random.default_rng(0)
    for round_ in range(args.rounds):
        for with_option in (False, True) if round_ % 2 else (True, False):
            moved = atoms.copy()
            moved.positions += rng.normal(scale=0.01, size=moved.positions.shape)
            moved.calc = calculators[with_option]
            start = time.perf_counter()
            moved.get_forces()
            times[with_option].append(time.perf_counter() - start)
    without, with_ = (statistics.median(times[key][3:]) for key in (False, True))
    base = " + ".join(args.base) or "GeoT's initial features"
    print(f"{args.dtype}, aspirin (21 atoms), 64 channels, 3 blocks, one thread, {base}: "
          f"without {args.option} {1000 * without:.1f} ms, with {1000 * with_:.1f} ms, ratio {with_ / without:.3f}")


if __name__ == "__main__":
    main()
