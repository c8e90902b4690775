"""How much of the validation error independently trained models share: each alone, and their committee.

    python docs/scripts/average_of_models.py --molecule ethanol --data-dir ../shared/data/rmd17 \
        trained/ethanol.pt runs/ethanol-4b/best.pt
    python docs/scripts/average_of_models.py --molecule salicylic --data-dir ../shared/data/rmd17 \
        salicylic-committee runs/salicylic-seed3/best.pt --committee-sizes

Prints the force MAE (meV/Å, mean over components) of each model on the 50 validation frames of
the standard split, and that of their ``GeoFormerCommittee`` (the mean of their forces). Errors the
models make independently (variance) shrink in the mean; errors they share (bias) do not. A
committee checkpoint given here counts as its members.

``--correlations`` adds the mean correlation of two models' force errors (over every component of the
validation frames) within each checkpoint given (a committee's members) and between each pair of
them: for errors made of a shared part of spread ``s`` and independent parts of spread ``i``, it is
``s^2 / (s^2 + i^2)``, so a model that shares less with a committee has a lower correlation with it.
It also prints the correlation of every pair of models, to compare members that differ in recipe
with members that differ only in seed.

``--committee-sizes`` adds, for every n from 1 to the number of models, the validation force MAE of
a committee of n averaged over all subsets of n models, and the least-squares fit
``MAE(n)^2 = shared^2 + independent^2 / n`` (exact for normal errors of one spread on every
component: the part the models share stays, the part they make independently shrinks as 1/sqrt(n));
``shared`` is the limit for an unlimited committee, what more members of the same kind can at best
reach. It also prints how the committee's error is spread over the frames: the median and largest
force MAE of a frame and their correlation with the frame's reference energy.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import torch

from ase_geoformer.data import AtomsDataset
from ase_geoformer.labelled import EnergyBaseline, SampleSource, collate
from ase_geoformer.nn.committee import GeoFormerCommittee
from ase_geoformer.nn.model import GeoFormer
from ase_geoformer.predict import predict
from ase_geoformer.rmd17 import standard_split
from ase_geoformer.zoo import resolve_checkpoint


def force_errors(model: GeoFormer, frames: AtomsDataset) -> np.ndarray:
    """Predicted minus reference forces ``(F, N, 3)`` in meV/Å on frames of one molecule; ``model`` is moved
    to float64 in place."""
    model = model.to(torch.float64).eval()
    source = SampleSource(frames, EnergyBaseline(model.species, tuple(0.0 for _ in model.species)))
    batch = collate([source.sample(i) for i in range(len(source))], model.species, torch.device("cpu"), torch.float64)
    forces = predict(model, batch.inputs, compute_forces=True)["forces"]
    return 1000 * (forces - batch.forces).detach().numpy()


def committee_size_curve(errors: np.ndarray) -> list[float]:
    """Force MAE of the mean of n models, averaged over all subsets of n, for n = 1..M, from ``errors (M, F, N, 3)``."""
    models = range(len(errors))
    return [
        float(np.mean([np.abs(errors[list(subset)].mean(axis=0)).mean() for subset in itertools.combinations(models, n)]))
        for n in range(1, len(errors) + 1)
    ]


def fit_shared_and_independent(curve: list[float]) -> tuple[float, float]:
    """Least-squares ``(shared, independent)`` of ``MAE(n)^2 = shared^2 + independent^2 / n`` over n = 1..len(curve)."""
    sizes = np.arange(1, len(curve) + 1)
    design = np.stack([np.ones(len(curve)), 1 / sizes], axis=1)
    (shared_squared, independent_squared), *_ = np.linalg.lstsq(design, np.square(curve), rcond=None)
    return float(np.sqrt(max(shared_squared, 0.0))), float(np.sqrt(max(independent_squared, 0.0)))


def error_correlation_matrix(errors: np.ndarray) -> np.ndarray:
    """Pearson correlation ``(M, M)`` of every two models' force errors over all components, from ``errors (M, F, N, 3)``."""
    return np.corrcoef(errors.reshape(len(errors), -1))


def mean_error_correlations(correlation: np.ndarray, groups: list[int]) -> dict[tuple[int, int], float]:
    """Mean of ``correlation`` (from ``error_correlation_matrix``) over the pairs of models, for every pair of groups.

    ``groups`` gives each model's group; the key ``(a, b)`` with ``a <= b`` averages over the pairs of
    distinct models, one in group ``a`` and one in ``b``. A group of one model has no ``(a, a)`` entry.
    """
    pairs: dict[tuple[int, int], list[float]] = {}
    for i, j in itertools.combinations(range(len(correlation)), 2):
        key = (min(groups[i], groups[j]), max(groups[i], groups[j]))
        pairs.setdefault(key, []).append(float(correlation[i, j]))
    return {key: float(np.mean(values)) for key, values in sorted(pairs.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "checkpoints", nargs="+", help="shipped model names or checkpoint paths (committees count as their members)"
    )
    parser.add_argument("--molecule", default="ethanol")
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    parser.add_argument("--committee-sizes", action="store_true", help="also the MAE against committee size and its fit")
    parser.add_argument(
        "--correlations",
        action="store_true",
        help="also the mean correlation of the force errors within and between the checkpoints given",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    frames = standard_split(args.molecule, args.data_dir).validation
    names, models, groups = [], [], []
    for group, checkpoint in enumerate(args.checkpoints):
        model = resolve_checkpoint(checkpoint).model
        members = list(model.members) if isinstance(model, GeoFormerCommittee) else [model]
        names += [checkpoint] if len(members) == 1 else [f"{checkpoint} member {i}" for i in range(len(members))]
        models += members
        groups += [group] * len(members)
    errors = np.stack([force_errors(model, frames) for model in models])
    for name, error in zip(names, errors):
        print(f"{name}: {np.abs(error).mean():.2f} meV/Å")
    print(f"mean of the {len(models)}: {np.abs(errors.mean(axis=0)).mean():.2f} meV/Å")
    if args.correlations:
        correlation = error_correlation_matrix(errors)
        for (a, b), mean in mean_error_correlations(correlation, groups).items():
            pair = f"within {args.checkpoints[a]}" if a == b else f"{args.checkpoints[a]} with {args.checkpoints[b]}"
            print(f"error correlation {pair}: {mean:.3f}")
        print("error correlation of each pair of models (rows and columns in the order above):")
        for name, row in zip(names, correlation):
            print(" ".join(f"{value:6.3f}" for value in row) + f"  {name}")
    if args.committee_sizes:
        curve = committee_size_curve(errors)
        shared, independent = fit_shared_and_independent(curve)
        print("committee size n: " + ", ".join(f"{n}: {mae:.2f}" for n, mae in enumerate(curve, start=1)))
        print(
            f"fit MAE(n)^2 = {shared:.2f}^2 + {independent:.2f}^2 / n (meV/Å)^2; "
            f"unlimited committee: {shared:.2f} meV/Å"
        )
        frame_errors = np.abs(errors.mean(axis=0)).mean(axis=(1, 2))
        correlation = np.corrcoef(frame_errors, frames.energies)[0, 1]
        print(
            f"committee per frame: median {np.median(frame_errors):.2f}, largest {frame_errors.max():.2f} meV/Å; "
            f"correlation with the frame's energy {correlation:.2f}"
        )


if __name__ == "__main__":
    main()
