"""Stability protocol: a stable run is reported stable with a small h(r) error; a planted bond break and a planted
merge of two atoms are caught; the reference frames of rMD17 are not taken for a collapse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from ase import Atoms
from ase.build import molecule
from synthetic import morse_dataset

from ase_geoformer.data import read_dataset, write_hdf5
from md_protocols.stability import (
    StabilitySettings,
    bath_temperature,
    bonding_distances,
    bonds_of,
    collapse_cause,
    distance_histogram,
    h_error,
    main,
    pair_distances,
    pair_names,
    reference_positions,
    run_stability,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "rmd17"
RMD17 = ("aspirin", "azobenzene", "benzene", "ethanol", "malonaldehyde", "naphthalene", "paracetamol", "salicylic",
         "toluene", "uracil")

class Tethered(Calculator):
    """Every atom on a spring (10 eV/Å^2) to its place in methanol: stable at any temperature.
    With ``pull`` (eV/Å), a constant force also drags atom 0 away: a planted collapse."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, pull: float = 0.0) -> None:
        super().__init__()
        self.pull = pull
        self.home = molecule("CH3OH").positions

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        displacement = atoms.positions - self.home
        forces = -10.0 * displacement
        forces[0, 0] += self.pull
        self.results = {"energy": 5.0 * float((displacement**2).sum()) - self.pull * displacement[0, 0], "forces": forces}


class MergingHydrogens(Tethered):
    """Tethered, but methanol's hydrogens 4 and 5 (both on the carbon) have one home, 1.10 Å from the carbon
    between their own: they swing through each other while every C-H bond keeps its length within 0.15 Å."""

    def __init__(self) -> None:
        super().__init__()
        carbon, middle = self.home[0], 0.5 * (self.home[4] + self.home[5])
        self.home[4] = self.home[5] = carbon + 1.10 * (middle - carbon) / np.linalg.norm(middle - carbon)


class ElasticNetwork(Calculator):
    """A spring (10 eV/Å^2) between every pair of atoms at their distance in methanol: an energy that does not
    change under translation or rotation, so a free molecule's total and angular momentum stay zero."""

    implemented_properties = ["energy", "forces"]

    def __init__(self) -> None:
        super().__init__()
        home = molecule("CH3OH").positions
        self.first, self.second = np.triu_indices(len(home), k=1)
        self.rest = np.linalg.norm(home[self.second] - home[self.first], axis=1)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        bond = atoms.positions[self.second] - atoms.positions[self.first]
        length = np.linalg.norm(bond, axis=1)
        pull = (10.0 * (length - self.rest) / length)[:, None] * bond
        forces = np.zeros_like(atoms.positions)
        np.add.at(forces, self.first, pull)
        np.add.at(forces, self.second, -pull)
        self.results = {"energy": 5.0 * float(((length - self.rest) ** 2).sum()), "forces": forces}


SHORT = StabilitySettings(duration_ps=0.3, check_interval_fs=5.0)


def test_a_stable_run_is_reported_stable():
    report, simulated, reference = run_stability(morse_dataset(30), Tethered(), SHORT, progress=False)
    assert report["stable"] and report["stable_ps"] == pytest.approx(0.3)
    assert report["largest_bond_deviation_A"] < 0.5
    assert report["h_error"] == pytest.approx(h_error(simulated, reference))


def test_a_planted_collapse_is_caught():
    report, _, _ = run_stability(morse_dataset(30), Tethered(pull=30.0), SHORT, progress=False)
    assert not report["stable"]
    assert 0 < report["time_to_collapse_ps"] < 0.3
    assert report["largest_bond_deviation_A"] > 0.5
    assert report["collapse_cause"].startswith("bond C0-")


def test_two_atoms_merging_is_a_collapse_though_every_bond_holds():
    report, _, _ = run_stability(morse_dataset(30), MergingHydrogens(), SHORT, progress=False)
    assert not report["stable"]
    assert report["largest_bond_deviation_A"] < 0.5  # Fu et al.'s bond criterion alone passes this run
    assert report["collapse_cause"].startswith("H4-H5, not bonded at the start")
    assert report["closest_non_bonded_pair"] == "H4-H5"
    assert report["closest_non_bonded_A"] < 0.74 < report["reference_closest_non_bonded_A"]  # H-H bonds below 0.744 Å


def test_the_collapse_cause_names_the_broken_or_formed_bond_and_nothing_for_the_start():
    methanol = molecule("CH3OH")
    names, bonding = pair_names(methanol), bonding_distances(methanol)
    start = pair_distances(methanol.positions)
    bonded = start < bonding
    assert collapse_cause(start, bonded, start[bonded], bonding, 0.5, names) is None
    stretched = methanol.copy()
    stretched.set_distance(0, 1, 2.0, fix=0)
    cause = collapse_cause(pair_distances(stretched.positions), bonded, start[bonded], bonding, 0.5, names)
    assert cause.startswith("bond C0-O1 at 2.00 Å, +0.58 Å")
    merged = methanol.copy()
    merged.positions[5] = merged.positions[4] + [0.0, 0.0, 0.3]
    cause = collapse_cause(pair_distances(merged.positions), bonded, start[bonded], bonding, 10.0, names)
    assert cause.startswith("H4-H5, not bonded at the start, at 0.30 Å")


@pytest.mark.skipif(not (DATA / "rmd17_ethanol_test_01.npz").exists(), reason=f"rMD17 files not found at {DATA}")
@pytest.mark.parametrize("name", RMD17)
def test_no_rmd17_reference_frame_is_taken_for_a_collapse(name):
    reference = read_dataset(DATA / f"rmd17_{name}_test_01.npz")
    frames = reference_positions(reference)
    atoms = Atoms(numbers=reference.numbers[: frames.shape[1]], positions=frames[0])
    names, bonding, distances = pair_names(atoms), bonding_distances(atoms), pair_distances(frames)
    bonded = distances[0] < bonding
    lengths = distances[:, bonded].mean(axis=0)
    assert [collapse_cause(d, bonded, lengths, bonding, 0.5, names) for d in distances] == [None] * len(frames)


def test_h_error_is_zero_for_equal_distributions_and_two_for_disjoint_ones():
    near, far = np.full(100, 1.01), np.full(100, 5.01)
    assert h_error(distance_histogram(near), distance_histogram(near)) == 0.0
    assert h_error(distance_histogram(near), distance_histogram(far)) == pytest.approx(2.0)


def test_command_line_writes_json_and_png(tmp_path):
    write_hdf5(morse_dataset(10), tmp_path / "ref.h5")
    code = main([str(tmp_path / "ref.h5"), "--calculator", "ase.calculators.emt:EMT", "--duration", "0.05",
                 "--output", str(tmp_path / "s")])
    assert code == 0
    report = json.loads((tmp_path / "s.json").read_text())
    assert report["calculator"] == "EMT" and report["settings"]["temperature_K"] == 500.0
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_bonds_include_thermally_stretched_ones_and_no_non_bonded_pairs():
    ethanol = molecule("CH3CH2OH")
    carbon = int(np.flatnonzero(ethanol.numbers == 6)[0])
    hydrogens = [j for j in np.flatnonzero(ethanol.numbers == 1) if ethanol.get_distance(carbon, j) < 1.2]
    ethanol.set_distance(carbon, int(hydrogens[0]), 1.16, fix=0)
    symbols = ethanol.get_chemical_symbols()
    kinds = sorted("".join(sorted(symbols[i] + symbols[j])) for i, j in bonds_of(ethanol))
    assert kinds == ["CC"] + ["CH"] * 5 + ["CO", "HO"]


def test_the_thermostat_holds_the_motion_within_a_free_molecule_at_the_temperature():
    methanol = molecule("CH3OH")
    assert bath_temperature(methanol, 500.0) == pytest.approx(500.0 * 12 / 18)  # 3N = 18, 3N - 6 = 12
    report, _, _ = run_stability(morse_dataset(30), ElasticNetwork(), StabilitySettings(duration_ps=2.0), progress=False)
    # 12 internal degrees of freedom: one sample's temperature spreads by T sqrt(2 / 12) = 0.41 T, and the 200
    # samples of 2 ps (about 40 thermostat times) bring the mean to within a few per cent. A bath at 500 K over
    # all 18 degrees of freedom puts the motion within at 750 K.
    assert report["mean_internal_temperature_K"] == pytest.approx(500.0, rel=0.1)
