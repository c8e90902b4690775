"""Readers (rMD17, MD17, extxyz, HDF5): unit conversion, round trips, and errors that name file and problem."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from ase import units
from synthetic import morse_dataset, morse_frames, write_morse_extxyz, write_rmd17_npz

from ase_geoformer.data import AtomsDataset, concatenate, read_dataset, write_hdf5
from ase_geoformer.errors import DataError

KCAL = units.kcal / units.mol


def test_rmd17_npz_is_converted_from_kcal_per_mol_to_ev(tmp_path):
    raw = write_rmd17_npz(tmp_path / "water.npz")
    data = read_dataset(tmp_path / "water.npz")
    assert data.energies == pytest.approx(raw["energies"] * 0.0433641, rel=1e-6)
    np.testing.assert_allclose(data.forces.reshape(4, 3, 3), raw["forces"] * 0.0433641, rtol=1e-6)
    np.testing.assert_array_equal(data.positions.reshape(4, 3, 3), raw["coords"])
    np.testing.assert_array_equal(data.frame_ids, raw["old_indices"])
    assert data.species == (1, 8)


def test_md17_npz_is_converted(tmp_path):
    rng = np.random.default_rng(1)
    z, R, E, F = np.array([6, 1]), rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 1)), rng.normal(size=(5, 2, 3))
    np.savez(tmp_path / "md17.npz", z=z, R=R, E=E, F=F)
    data = read_dataset(tmp_path / "md17.npz")
    np.testing.assert_allclose(data.energies, E[:, 0] * KCAL)
    np.testing.assert_allclose(data.forces, (F * KCAL).reshape(-1, 3))
    assert len(data) == 5 and data.sizes.tolist() == [2] * 5


def test_extxyz_keeps_the_stored_energies_and_forces(tmp_path):
    frames = morse_frames(6)
    write_morse_extxyz(tmp_path / "frames.extxyz", 6)
    data = read_dataset(tmp_path / "frames.extxyz")
    assert len(data) == 6
    for index, atoms in enumerate(frames):
        numbers, positions, energy, forces = data.frame(index)
        # extxyz stores 8 decimals.
        assert energy == pytest.approx(atoms.get_potential_energy(), abs=1e-8)
        np.testing.assert_allclose(forces, atoms.get_forces(), rtol=0, atol=1e-8)
        np.testing.assert_array_equal(numbers, atoms.numbers)


def test_extxyz_without_labels_is_refused(tmp_path):
    from ase.build import molecule
    from ase.io import write

    write(tmp_path / "bare.xyz", molecule("H2O"), format="extxyz")
    with pytest.raises(DataError, match=r"bare\.xyz.*frame 0.*energy and forces"):
        read_dataset(tmp_path / "bare.xyz")


def test_hdf5_round_trip_is_exact_and_handles_frames_of_different_sizes(tmp_path):
    small = morse_dataset(3)
    other = AtomsDataset.from_frames([1, 1], np.ones((2, 2, 3)) * [0, 0, 0.7], [0.1, 0.2], np.zeros((2, 2, 3)))
    data = concatenate([small, other])
    write_hdf5(data, tmp_path / "d.h5")
    back = read_dataset(tmp_path / "d.h5")
    for name in ("numbers", "positions", "forces", "energies", "offsets", "frame_ids"):
        np.testing.assert_array_equal(getattr(back, name), getattr(data, name))
    assert back.sizes.tolist() == [6, 6, 6, 2, 2]


def test_foreign_hdf5_is_refused(tmp_path):
    with h5py.File(tmp_path / "other.h5", "w") as file:
        file.create_dataset("x", data=[1, 2])
    with pytest.raises(DataError, match="other.h5.*not an ase-geoformer dataset"):
        read_dataset(tmp_path / "other.h5")


def test_subset_takes_the_right_frames():
    data = morse_dataset(5)
    part = data.subset([3, 1])
    np.testing.assert_array_equal(part.energies, data.energies[[3, 1]])
    np.testing.assert_array_equal(part.frame(0)[1], data.frame(3)[1])
    np.testing.assert_array_equal(part.frame_ids, [3, 1])


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"forces": None}, r"bad\.npz lacks the keys \['forces'\]"),
        ({"coords": np.zeros((4, 2, 3))}, r"bad\.npz: positions have shape \(4, 2, 3\), expected"),
        ({"energies": np.array([1.0, np.nan, 2.0, 3.0])}, r"bad\.npz: energies are NaN or infinite in frame\(s\) \[1\]"),
        ({"forces": np.where(np.arange(36).reshape(4, 3, 3) == 20, np.inf, 0.0)}, r"bad\.npz: forces .*frame\(s\) \[2\]"),
        ({"nuclear_charges": np.array([8, 1, 0], dtype=np.uint8)}, r"bad\.npz: unknown element.*\[0\]"),
    ],
)
def test_bad_data_names_the_file_and_the_problem(tmp_path, changes, message):
    write_rmd17_npz(tmp_path / "bad.npz", **changes)
    with pytest.raises(DataError, match=message):
        read_dataset(tmp_path / "bad.npz")


def test_unknown_npz_layout_and_missing_file_are_explained(tmp_path):
    np.savez(tmp_path / "odd.npz", a=np.zeros(3))
    with pytest.raises(DataError, match=r"odd\.npz.*neither rMD17.*nor MD17"):
        read_dataset(tmp_path / "odd.npz")
    with pytest.raises(DataError, match="no data file at"):
        read_dataset(tmp_path / "missing.npz")
