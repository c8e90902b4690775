"""Are a molecule's rMD17 frames in thermal equilibrium on the rMD17 potential? (docs/md_protocols.md)

    python docs/scripts/reference_geometry.py --molecule benzene --data-dir ../shared/data/rmd17
    python docs/scripts/reference_geometry.py --molecule benzene --data-dir ../shared/data/rmd17 \\
        --trajectory runs/benzene_langevin_300K.traj --model benzene --temperature 300 --skip 200

For the test_01 frames it prints the mean force on each H along its C-H bond, from the dataset's
DFT forces (eV/Å, > 0 pushes the bond longer), and the h(r) error of the test_02 frames against
them (what sampling alone gives). Frames sampled at equilibrium on the potential that
gave those forces have -2 k_B T / r there (the r^2 of the bond's volume element): a positive
mean says the frames' C-H bonds are shorter than that potential's. With ``--trajectory`` (an ASE
trajectory of the same molecule, same atom order, e.g. from ``python -m md_protocols.dynamics``) it
prints ``--model``'s force MAE on the test_01 frames along the normal of the plane of their carbon
atoms and in that plane (for a planar molecule: out-of-plane and in-plane), the same C-H statistic
from the model's forces on every third trajectory frame after the first ``--skip``, beside
-2 k_B T / r at ``--temperature``, then the mean and spread of each class of distances in both, and
the trajectory's h(r) error against the frames (as the stability protocol measures it).
"""

from __future__ import annotations

import argparse

import ase.io
import numpy as np
import torch
from ase import Atoms, units
from ase.data import chemical_symbols

from ase_geoformer import evaluate_structures, rmd17
from ase_geoformer.data import read_dataset
from md_protocols.stability import distance_histogram, h_error, pair_distances, reference_positions

def carbon_hydrogen_bond_force(positions: np.ndarray, forces: np.ndarray, numbers: np.ndarray) -> tuple[float, float]:
    """Mean force on each H bonded to a C along the unit vector from that C (eV/Å) and mean C-H length (Å),
    over ``(F, N, 3)`` positions and forces; an H's partner is its nearest heavy atom in the first frame."""
    heavy, hydrogens = np.flatnonzero(numbers != 1), np.flatnonzero(numbers == 1)
    partners = heavy[np.linalg.norm(positions[0][hydrogens][:, None] - positions[0][heavy][None], axis=-1).argmin(axis=1)]
    on_carbon = numbers[partners] == 6
    hydrogens, partners = hydrogens[on_carbon], partners[on_carbon]
    bond = positions[:, hydrogens] - positions[:, partners]
    length = np.linalg.norm(bond, axis=-1)
    return float((forces[:, hydrogens] * bond / length[..., None]).sum(axis=-1).mean()), float(length.mean())


def distance_classes(reference: np.ndarray, numbers: np.ndarray) -> dict[tuple[str, float], np.ndarray]:
    """Pair indices (as in ``pair_distances``) grouped by element pair and mean reference distance (0.1 Å)."""
    i, j = np.triu_indices(len(numbers), k=1)
    means = pair_distances(reference).mean(axis=0)
    classes: dict[tuple[str, float], list[int]] = {}
    for p in np.argsort(means):
        kind = "-".join(sorted((chemical_symbols[numbers[i[p]]], chemical_symbols[numbers[j[p]]])))
        classes.setdefault((kind, round(float(means[p]), 1)), []).append(int(p))
    return {key: np.array(pairs) for key, pairs in classes.items()}


def plane_split_errors(positions: np.ndarray, forces: np.ndarray, predicted: np.ndarray, numbers: np.ndarray) -> dict[str, tuple[float, float]]:
    """Force MAE and reference RMS (eV/Å) along the normal of each frame's best plane through its carbon
    atoms, and in that plane."""
    carbons = positions[:, numbers == 6]
    normals = np.linalg.svd(carbons - carbons.mean(axis=1, keepdims=True))[2][:, 2]

    def along(f: np.ndarray) -> np.ndarray:
        return (f * normals[:, None]).sum(axis=-1)

    def in_plane(f: np.ndarray) -> np.ndarray:
        return f - along(f)[..., None] * normals[:, None]

    error = predicted - forces
    return {
        "along the normal of the carbon plane": (float(np.abs(along(error)).mean()), float(np.sqrt((along(forces) ** 2).mean()))),
        "in the carbon plane": (float(np.abs(in_plane(error)).mean()), float(np.sqrt((in_plane(forces) ** 2).mean()))),
    }


def model_forces(frames: np.ndarray, numbers: np.ndarray, model: str) -> np.ndarray:
    """``(F, N, 3)`` forces (eV/Å) of ``model`` in float64 on ``(F, N, 3)`` positions, in batches."""
    results = evaluate_structures([Atoms(numbers=numbers, positions=positions) for positions in frames], model, device="cpu")
    return np.array([result["forces"] for result in results])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecule", required=True, help="rMD17 molecule")
    parser.add_argument("--data-dir", default=None, help="rMD17 folder (default: $ASE_GEOFORMER_RMD17)")
    parser.add_argument("--trajectory", default=None, help="ASE trajectory of the molecule to compare")
    parser.add_argument("--model", default=None, help="model whose forces are taken on the trajectory")
    parser.add_argument("--temperature", type=float, default=300.0, help="K, the trajectory's")
    parser.add_argument("--skip", type=int, default=0, help="trajectory frames to drop at its start")
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = read_dataset(rmd17.rmd17_path(args.data_dir, args.molecule, "test_01"))
    reference = reference_positions(dataset)
    numbers = dataset.numbers[: reference.shape[1]]
    force, length = carbon_hydrogen_bond_force(reference, dataset.forces.reshape(reference.shape), numbers)
    print(f"{args.molecule} test_01 frames, DFT forces: mean force on H along C-H {1000 * force:+.1f} meV/Å "
          f"(mean C-H {length:.4f} Å)")
    measured = pair_distances(reference)
    other = reference_positions(read_dataset(rmd17.rmd17_path(args.data_dir, args.molecule, "test_02")))
    floor = h_error(distance_histogram(pair_distances(other)), distance_histogram(measured))
    print(f"h(r) error of the test_02 frames against the test_01 frames: {floor:.3f}")
    if args.trajectory is None:
        return
    if args.model is None:
        parser.error("--trajectory needs --model, whose forces are compared")
    dft_forces = dataset.forces.reshape(reference.shape)
    for part, (mae, rms) in plane_split_errors(reference, dft_forces, model_forces(reference, numbers, args.model), numbers).items():
        print(f"{args.model} force MAE on the test_01 frames {part}: {1000 * mae:.2f} meV/Å "
              f"(DFT components' RMS {1000 * rms:.1f})")
    frames = np.array([atoms.positions for atoms in ase.io.read(args.trajectory, ":")])[args.skip :]
    force, length = carbon_hydrogen_bond_force(frames[::3], model_forces(frames[::3], numbers, args.model), numbers)
    expected = -2 * units.kB * args.temperature / length
    print(f"{args.trajectory} ({len(frames)} frames), {args.model} forces: mean force on H along C-H "
          f"{1000 * force:+.1f} meV/Å (mean C-H {length:.4f} Å; at equilibrium -2 k_B T / r = {1000 * expected:+.1f})")
    print("pairs | reference mean, spread (Å) | trajectory mean, spread (Å)")
    simulated = pair_distances(frames)
    for (kind, _), pairs in distance_classes(reference, numbers).items():
        print(f"{kind} x{len(pairs)} | {measured[:, pairs].mean():.4f}, {measured[:, pairs].std(axis=0).mean():.4f} | "
              f"{simulated[:, pairs].mean():.4f}, {simulated[:, pairs].std(axis=0).mean():.4f}")
    error = h_error(distance_histogram(simulated), distance_histogram(measured))
    print(f"h(r) error of the trajectory against the test_01 frames: {error:.3f}")


if __name__ == "__main__":
    main()
