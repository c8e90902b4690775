"""Rerun one model's stability part as the report does and find the closest approach of any two atoms.

The protocol's collapse test (Fu et al.) watches only the bonds of the first frame; this records, in
every sampled frame, the smallest distance between two atoms and which two they are.

    python docs/scripts/stability_closest_approach.py toluene-committee toluene --data-dir ../shared/data/rmd17
"""

import argparse
import json

import numpy as np

import md_protocols.stability as stability
from ase_geoformer.data import read_dataset
from md_protocols.calculators import make_calculator

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("model", help="shipped model name or checkpoint")
parser.add_argument("molecule", help="rMD17 molecule whose first test_01 frame starts the run")
parser.add_argument("--data-dir", default="../shared/data/rmd17")
args = parser.parse_args()

closest: list[tuple[float, int, int]] = []
all_pairs = stability.pair_distances


def recording_pair_distances(positions: np.ndarray) -> np.ndarray:
    """``pair_distances``, noting the closest pair of each single frame the run samples."""
    distances = all_pairs(positions)
    if positions.ndim == 2:
        k = int(np.argmin(distances))
        i, j = np.triu_indices(positions.shape[0], k=1)
        closest.append((float(distances[k]), int(i[k]), int(j[k])))
    return distances


stability.pair_distances = recording_pair_distances
reference = read_dataset(f"{args.data_dir}/rmd17_{args.molecule}_test_01.npz")
calculator = make_calculator(args.model, None, "float64", True)
report, _, _ = stability.run_stability(reference, calculator, stability.StabilitySettings(duration_ps=50.0), progress=False)
distances = np.array([c[0] for c in closest])
interval_ps = report["settings"]["check_interval_fs"] / 1000
below = np.flatnonzero(distances < 0.8)
smallest = closest[int(np.argmin(distances))]
print(json.dumps({
    "model": args.model, "h_error": report["h_error"], "largest_bond_deviation_A": report["largest_bond_deviation_A"],
    "smallest_distance_A": smallest[0], "pair": smallest[1:], "elements": [int(reference.numbers[k]) for k in smallest[1:]],
    "ps_below_0.8_A": len(below) * interval_ps,
    "first_and_last_ps_below_0.8_A": [float((below[0] + 1) * interval_ps), float((below[-1] + 1) * interval_ps)] if len(below) else None,
}))
