"""Stability (Fu et al., "Forces are not enough", 2022): hot NVT until the molecule's bonds change, and the h(r) error.

    python -m md_protocols.stability ../shared/data/rmd17/rmd17_ethanol_test_01.npz --calculator ethanol \
        --duration 50 --output reports/ethanol_stability

From the first reference frame, Nosé-Hoover chain NVT (ASE) at 500 K with dt 0.5 fs; the bath holds the
motion within the molecule at 500 K (ASE's chain counts 3N degrees of freedom, but a free molecule's
drift and rotation stay zero, so its bath is set to 500 K x (3N - 6) / 3N). Two atoms are bonded when
closer than 1.2 x the sum of their covalent radii; the bonds are those of the first frame. Every
``check_interval_fs`` the run has collapsed when a bond breaks, its length departing from its mean over
the reference frames by more than 0.5 Å (Fu et al.'s criterion), or when a bond forms, two atoms that
were not bonded coming within bonding distance (two hydrogens merging, say, which leaves every bond
intact). Reported: the time to collapse (or the whole duration) and its cause, the largest bond
deviation, the closest approach of two non-bonded atoms (and that of the reference frames), and the
h(r) error: h(r) is the distribution of all interatomic distances (500 bins on (0, 10] Å, normalised to
unit area) and the error is the mean absolute difference between the simulation's and the reference
frames' h(r) times 10 Å. Also reported: the mean internal temperature of the run. A PNG shows both h(r).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import BaseCalculator
from ase.md.nose_hoover_chain import NoseHooverChainNVT
from ase.neighborlist import natural_cutoffs, neighbor_list
from tqdm import tqdm

from ase_geoformer.data import AtomsDataset, read_dataset
from ase_geoformer.io_utils import pyplot, save_figure
from md_protocols.dynamics import initialise_velocities, internal_degrees_of_freedom, internal_temperature, steps_in

H_BINS = np.linspace(0.0, 10.0, 501)


@dataclass
class StabilitySettings:
    """Temperature (K), time step (fs), length (ps), bond tolerance (Å), Nosé-Hoover damping (fs);
    bonds and contacts are checked and h(r) sampled every ``check_interval_fs``."""

    temperature_K: float = 500.0
    timestep_fs: float = 0.5
    duration_ps: float = 300.0
    bond_tolerance: float = 0.5
    thermostat_damping_fs: float = 50.0
    check_interval_fs: float = 10.0
    seed: int = 0


BOND_CUTOFF_FACTOR = 1.2


def pair_distances(positions: np.ndarray) -> np.ndarray:
    """All distances i < j of ``(..., N, 3)`` positions, ``(..., N (N - 1) / 2)``."""
    i, j = np.triu_indices(positions.shape[-2], k=1)
    return np.linalg.norm(positions[..., j, :] - positions[..., i, :], axis=-1)


def bonding_distances(atoms: Atoms) -> np.ndarray:
    """``(N (N - 1) / 2,)`` distance (Å) below which each pair i < j is bonded, in ``pair_distances``' order:
    1.2 x the sum of ASE's covalent radii.

    The factor 1.2 keeps bonds stretched by thermal motion (a C-H bond at 1.14 Å in an rMD17
    frame; the plain sum of radii is 1.07 Å) and stays below non-bonded distances (geminal H-H
    about 1.8 Å, 1-3 heavy-atom pairs about 2.4 Å; the closest non-bonded pair in any rMD17 test_01
    frame, salicylic acid's hydrogen-bonded O-H, is at 1.06 x its bonding distance).
    """
    radii = np.asarray(natural_cutoffs(atoms, mult=BOND_CUTOFF_FACTOR))
    i, j = np.triu_indices(len(atoms), k=1)
    return radii[i] + radii[j]


def bonds_of(atoms: Atoms) -> np.ndarray:
    """``(B, 2)`` bonded pairs i < j: closer than their ``bonding_distances`` (through a neighbour list, so
    linear in the number of atoms and periodic where ``atoms`` are)."""
    first, second = neighbor_list("ij", atoms, natural_cutoffs(atoms, mult=BOND_CUTOFF_FACTOR))
    keep = first < second
    return np.stack([first[keep], second[keep]], axis=1)


def distance_histogram(distances: np.ndarray) -> np.ndarray:
    """h(r): 500 bins on (0, 10] Å, unit area (1/Å)."""
    counts, _ = np.histogram(distances.reshape(-1), bins=H_BINS)
    return counts / max(counts.sum(), 1) / np.diff(H_BINS)


def h_error(simulated: np.ndarray, reference: np.ndarray) -> float:
    """Mean absolute difference of two h(r) times 10 Å (the integral of |h - h_ref|)."""
    return float(np.mean(np.abs(simulated - reference)) * 10.0)


def reference_positions(reference: AtomsDataset) -> np.ndarray:
    """``(F, N, 3)`` positions of a reference dataset of one molecule."""
    sizes = reference.sizes
    if (sizes != sizes[0]).any():
        raise ValueError(f"{reference.source}: reference frames must all be the same molecule")
    return reference.positions.reshape(len(reference), sizes[0], 3)


def bath_temperature(atoms: Atoms, temperature_K: float) -> float:
    """The temperature (K) to give ASE's ``NoseHooverChainNVT`` for the motion within ``atoms`` to be at
    ``temperature_K``: the chain holds the kinetic energy at 3N kT / 2, and all of it is internal."""
    dof = internal_degrees_of_freedom(atoms)
    if dof == 0:
        raise ValueError(f"{atoms.get_chemical_formula()}: a stability run needs a molecule of at least two atoms")
    return temperature_K * dof / (3 * len(atoms))


def pair_names(atoms: Atoms) -> list[str]:
    """``"H7-H9"`` for every pair i < j, in ``pair_distances``' order (symbol and index of each atom)."""
    names = [f"{symbol}{index}" for index, symbol in enumerate(atoms.get_chemical_symbols())]
    return [f"{names[i]}-{names[j]}" for i, j in zip(*np.triu_indices(len(atoms), k=1))]


def collapse_cause(
    distances: np.ndarray, bonded: np.ndarray, reference_lengths: np.ndarray, bonding: np.ndarray,
    bond_tolerance: float, names: list[str],
) -> str | None:
    """Why a frame has collapsed, or ``None``: a bond (``bonded``, a mask over pairs) whose length departs from
    its ``reference_lengths`` (Å, one per bond) by more than ``bond_tolerance``, or a pair not bonded that
    is closer than its ``bonding`` distance. ``distances``: the frame's ``pair_distances``."""
    bond_pairs = np.flatnonzero(bonded)
    deviation = distances[bond_pairs] - reference_lengths
    if len(bond_pairs) and np.abs(deviation).max() > bond_tolerance:
        k = int(np.argmax(np.abs(deviation)))
        return f"bond {names[bond_pairs[k]]} at {distances[bond_pairs[k]]:.2f} Å, {deviation[k]:+.2f} Å from its reference mean"
    formed = np.flatnonzero(~bonded & (distances < bonding))
    if len(formed):
        k = int(formed[np.argmin(distances[formed])])
        return f"{names[k]}, not bonded at the start, at {distances[k]:.2f} Å (bonding distance {bonding[k]:.2f} Å)"
    return None


def run_stability(
    reference: AtomsDataset, calculator: BaseCalculator, settings: StabilitySettings | None = None, progress: bool = True
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Run from the first reference frame; returns the report and the simulated and reference h(r)."""
    settings = settings or StabilitySettings()
    frames = reference_positions(reference)
    atoms = Atoms(numbers=reference.numbers[: frames.shape[1]], positions=frames[0])
    names, bonding = pair_names(atoms), bonding_distances(atoms)
    reference_distances = pair_distances(frames)
    bonded = reference_distances[0] < bonding
    reference_lengths = reference_distances[:, bonded].mean(axis=0)
    non_bonded = np.flatnonzero(~bonded)
    initialise_velocities(atoms, settings.temperature_K, np.random.default_rng(settings.seed))
    atoms.calc = calculator
    dynamics = NoseHooverChainNVT(
        atoms, settings.timestep_fs * units.fs, temperature_K=bath_temperature(atoms, settings.temperature_K),
        tdamp=settings.thermostat_damping_fs * units.fs,
    )
    check_every = max(1, int(round(settings.check_interval_fs / settings.timestep_fs)))
    total_steps = steps_in(settings.duration_ps, settings.timestep_fs)
    sampled, temperatures, collapsed_at, cause, worst = [], [], None, None, 0.0
    closest = (np.inf, -1)
    with tqdm(total=total_steps, unit="step", desc="stability", disable=not progress, file=sys.stderr) as bar:
        for step in range(0, total_steps, check_every):
            dynamics.run(min(check_every, total_steps - step))
            bar.update(min(check_every, total_steps - step))
            distances = pair_distances(atoms.get_positions())
            worst = max(worst, float(np.abs(distances[bonded] - reference_lengths).max(initial=0.0)))
            if len(non_bonded):
                k = int(non_bonded[np.argmin(distances[non_bonded])])
                closest = min(closest, (float(distances[k]), k))
            cause = collapse_cause(distances, bonded, reference_lengths, bonding, settings.bond_tolerance, names)
            if cause is not None:
                collapsed_at = (step + check_every) * settings.timestep_fs / 1000
                break
            sampled.append(distances)
            temperatures.append(internal_temperature(atoms))
    simulated_h = distance_histogram(np.array(sampled)) if sampled else np.zeros(len(H_BINS) - 1)
    reference_h = distance_histogram(reference_distances)
    report = {
        "formula": atoms.get_chemical_formula(),
        "calculator": type(calculator).__name__,
        "settings": asdict(settings),
        "bonds": int(bonded.sum()),
        "stable": collapsed_at is None,
        "time_to_collapse_ps": collapsed_at,
        "collapse_cause": cause,
        "stable_ps": settings.duration_ps if collapsed_at is None else collapsed_at,
        "largest_bond_deviation_A": worst,
        "closest_non_bonded_A": closest[0] if len(non_bonded) else None,
        "closest_non_bonded_pair": names[closest[1]] if len(non_bonded) else None,
        "reference_closest_non_bonded_A": float(reference_distances[:, non_bonded].min()) if len(non_bonded) else None,
        "h_error": h_error(simulated_h, reference_h) if sampled else None,
        "mean_internal_temperature_K": float(np.mean(temperatures)) if temperatures else None,
        "reference": reference.source,
        "reference_frames": len(frames),
    }
    return report, simulated_h, reference_h


def plot_h(simulated: np.ndarray, reference: np.ndarray, output: str | os.PathLike, title: str = "") -> None:
    """Both h(r) curves; PNG, written atomically."""
    plt = pyplot()
    centres = 0.5 * (H_BINS[1:] + H_BINS[:-1])
    figure, axes = plt.subplots(figsize=(6.4, 3.8), dpi=120)
    axes.plot(centres, reference, label="reference frames", lw=1.2)
    axes.plot(centres, simulated, label="simulation", lw=1.0, alpha=0.8)
    axes.set_xlabel("r (Å)")
    axes.set_ylabel("h(r) (1/Å)")
    axes.set_title(title)
    axes.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, output)


def main(argv: list[str] | None = None) -> int:
    from md_protocols.cli import add_calculator_arguments, calculator_from_arguments, write_report

    parser = argparse.ArgumentParser(prog="python -m md_protocols.stability", description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="reference frames of one molecule (rMD17 npz, extxyz, ...); the run starts from the first")
    parser.add_argument("--temperature", type=float, default=500.0, help="K")
    parser.add_argument("--timestep", type=float, default=0.5, help="fs")
    parser.add_argument("--duration", type=float, default=300.0, help="ps")
    add_calculator_arguments(parser)
    args = parser.parse_args(argv)
    try:
        reference = read_dataset(args.reference)
        calculator = calculator_from_arguments(args)
    except (ValueError, FileNotFoundError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    settings = StabilitySettings(args.temperature, args.timestep, args.duration, seed=args.seed)
    report, simulated, reference_h = run_stability(reference, calculator, settings)
    report["calculator_spec"], report["dtype"] = args.calculator, args.dtype
    title = f"{report['formula']}, {args.calculator}"
    write_report(args.output, report, lambda png: plot_h(simulated, reference_h, png, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
