"""Labelled structures for training and evaluation: readers, the HDF5 format, subsets.

``AtomsDataset`` holds frames of structures with energies and forces in ASE units (eV, Å),
concatenated atom by atom so that frames may differ in size. Readers:

- rMD17 npz (``nuclear_charges, coords, energies, forces`` in kcal/mol, ``old_indices``),
- original MD17 npz (``z, R, E, F`` in kcal/mol),
- this package's HDF5 files (``write_hdf5``), for fast reuse of converted data,
- anything ``ase.io.read`` reads with energies and forces (extxyz, ...).

``read_dataset(path)`` picks the reader. Bad data raises ``DataError`` naming the file and the problem.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from ase import Atoms, units
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import chemical_symbols

from ase_geoformer.errors import DataError
from ase_geoformer.io_utils import atomic_path

KCAL_PER_MOL = units.kcal / units.mol
"""1 kcal/mol in eV."""

HDF5_FORMAT = "ase-geoformer-dataset"
HDF5_VERSION = 1


@dataclass
class AtomsDataset:
    """Frames of labelled structures, concatenated atom by atom.

    Attributes:
        numbers: ``(A,)`` int64 atomic numbers of all atoms of all frames.
        positions: ``(A, 3)`` float64, Å.
        forces: ``(A, 3)`` float64, eV/Å.
        energies: ``(F,)`` float64, eV.
        offsets: ``(F + 1,)`` int64; frame ``f`` is atoms ``offsets[f]:offsets[f + 1]``.
        frame_ids: ``(F,)`` int64 identifiers (rMD17: the frame's index in the original MD17 run).
        source: where the frames came from (file name), for error messages and provenance.
    """

    numbers: np.ndarray
    positions: np.ndarray
    forces: np.ndarray
    energies: np.ndarray
    offsets: np.ndarray
    frame_ids: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        self.validate()

    def __len__(self) -> int:
        return len(self.energies)

    @classmethod
    def from_frames(
        cls,
        numbers: np.ndarray,
        positions: np.ndarray,
        energies: np.ndarray,
        forces: np.ndarray,
        frame_ids: np.ndarray | None = None,
        source: str = "",
    ) -> "AtomsDataset":
        """Frames of one molecule: ``numbers (N,)``, ``positions, forces (F, N, 3)``, ``energies (F,)``, in eV and Å."""
        positions, forces = np.asarray(positions, dtype=np.float64), np.asarray(forces, dtype=np.float64)
        energies, numbers = np.asarray(energies, dtype=np.float64), np.asarray(numbers)
        _check(numbers.ndim == 1, source, f"atomic numbers must have shape (atoms,), got {numbers.shape}")
        frames, size = len(energies), len(numbers)
        for name, array in (("positions", positions), ("forces", forces)):
            _check(
                array.shape == (frames, size, 3),
                source,
                f"{name} have shape {array.shape}, expected (frames, atoms, 3) = ({frames}, {size}, 3) "
                f"from {frames} energies and {size} atomic numbers",
            )
        return cls(
            numbers=np.tile(numbers.astype(np.int64), frames),
            positions=positions.reshape(-1, 3),
            forces=forces.reshape(-1, 3),
            energies=energies,
            offsets=np.arange(frames + 1, dtype=np.int64) * size,
            frame_ids=np.arange(frames, dtype=np.int64) if frame_ids is None else np.asarray(frame_ids, dtype=np.int64),
            source=source,
        )

    def validate(self) -> None:
        """Raise ``DataError`` for inconsistent shapes, non-finite values or unknown elements."""
        frames = len(self.energies)
        _check(self.energies.ndim == 1, self.source, f"energies must have shape (frames,), got {self.energies.shape}")
        _check(
            self.offsets.shape == (frames + 1,) and self.offsets[0] == 0 and (np.diff(self.offsets) > 0).all(),
            self.source,
            "frame offsets are inconsistent with the number of energies (or a frame has no atoms)",
        )
        atoms = int(self.offsets[-1])
        for name, array, shape in (
            ("atomic numbers", self.numbers, (atoms,)),
            ("positions", self.positions, (atoms, 3)),
            ("forces", self.forces, (atoms, 3)),
            ("frame ids", self.frame_ids, (frames,)),
        ):
            _check(array.shape == shape, self.source, f"{name} have shape {array.shape}, expected {shape}")
        for name, array in (("energies", self.energies), ("positions", self.positions), ("forces", self.forces)):
            bad = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
            if bad.any():
                where = np.flatnonzero(bad) if name == "energies" else np.unique(self.frame_of_atom()[bad])
                _check(False, self.source, f"{name} are NaN or infinite in frame(s) {where[:10].tolist()}; remove those frames")
        unknown = sorted({int(z) for z in np.unique(self.numbers) if not 1 <= z < len(chemical_symbols)})
        _check(not unknown, self.source, f"unknown element(s) with atomic number(s) {unknown}")

    @property
    def species(self) -> tuple[int, ...]:
        """Atomic numbers present, ascending."""
        return tuple(int(z) for z in np.unique(self.numbers))

    @property
    def sizes(self) -> np.ndarray:
        """``(F,)`` atoms per frame."""
        return np.diff(self.offsets)

    def frame_of_atom(self) -> np.ndarray:
        """``(A,)`` the frame of each atom."""
        return np.repeat(np.arange(len(self)), self.sizes)

    def frame(self, index: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
        """``(numbers, positions, energy, forces)`` of one frame."""
        part = slice(self.offsets[index], self.offsets[index + 1])
        return self.numbers[part], self.positions[part], float(self.energies[index]), self.forces[part]

    def to_atoms(self, index: int) -> Atoms:
        """Frame ``index`` as ``Atoms`` with its energy and forces in a ``SinglePointCalculator``."""
        numbers, positions, energy, forces = self.frame(index)
        atoms = Atoms(numbers=numbers, positions=positions)
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces.copy())
        return atoms

    def subset(self, indices: Sequence[int] | np.ndarray) -> "AtomsDataset":
        """The frames ``indices``, in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        atom_index = np.concatenate([np.arange(self.offsets[f], self.offsets[f + 1]) for f in indices]) if len(indices) else np.zeros(0, np.int64)
        return AtomsDataset(
            numbers=self.numbers[atom_index],
            positions=self.positions[atom_index],
            forces=self.forces[atom_index],
            energies=self.energies[indices],
            offsets=np.concatenate([[0], np.cumsum(self.sizes[indices])]).astype(np.int64),
            frame_ids=self.frame_ids[indices],
            source=self.source,
        )


def concatenate(datasets: Sequence[AtomsDataset], source: str = "") -> AtomsDataset:
    """All frames of ``datasets``, in order."""
    offsets = [np.zeros(1, np.int64)]
    total = 0
    for dataset in datasets:
        offsets.append(dataset.offsets[1:] + total)
        total += int(dataset.offsets[-1])
    return AtomsDataset(
        numbers=np.concatenate([d.numbers for d in datasets]),
        positions=np.concatenate([d.positions for d in datasets]),
        forces=np.concatenate([d.forces for d in datasets]),
        energies=np.concatenate([d.energies for d in datasets]),
        offsets=np.concatenate(offsets),
        frame_ids=np.concatenate([d.frame_ids for d in datasets]),
        source=source or "+".join(d.source for d in datasets),
    )


def read_dataset(path: str | os.PathLike, index: str = ":") -> AtomsDataset:
    """Read rMD17 or MD17 npz, this package's HDF5, or any file ``ase.io`` reads (``index`` selects frames there)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no data file at {path}: check the path (rMD17 files can be fetched with `geoformer-data download`)")
    if path.suffix == ".npz":
        with np.load(path) as content:
            keys = set(content.files)
            if {"nuclear_charges", "coords"} & keys:
                return read_rmd17(path)
            if {"z", "R"} & keys:
                return read_md17(path)
        raise DataError(
            f"{path}: an npz file with keys {sorted(keys)}, neither rMD17 (nuclear_charges, coords, energies, forces) "
            "nor MD17 (z, R, E, F)"
        )
    if path.suffix in (".h5", ".hdf5"):
        return read_hdf5(path)
    return read_ase(path, index)


def read_rmd17(path: str | os.PathLike) -> AtomsDataset:
    """An rMD17 npz file (kcal/mol, Å), converted to eV and eV/Å; frame ids are ``old_indices``."""
    return _read_kcal_npz(path, ("nuclear_charges", "coords", "energies", "forces"), frame_id_key="old_indices")


def read_md17(path: str | os.PathLike) -> AtomsDataset:
    """An original MD17 npz file (``z, R, E, F`` in kcal/mol and Å), converted to eV and eV/Å."""
    return _read_kcal_npz(path, ("z", "R", "E", "F"))


def _read_kcal_npz(path: str | os.PathLike, keys: tuple[str, str, str, str], frame_id_key: str = "") -> AtomsDataset:
    """Frames of one molecule from the npz ``keys`` (numbers, positions, energies, forces) in kcal/mol and Å."""
    content = _load_npz(path, keys)
    numbers, positions, energies, forces = (content[key] for key in keys)
    return AtomsDataset.from_frames(
        numbers=numbers,
        positions=positions,
        energies=np.asarray(energies, dtype=np.float64).reshape(-1) * KCAL_PER_MOL,
        forces=np.asarray(forces, dtype=np.float64) * KCAL_PER_MOL,
        frame_ids=content.get(frame_id_key),
        source=str(path),
    )


def read_ase(path: str | os.PathLike, index: str = ":") -> AtomsDataset:
    """Frames ``index`` of any file ``ase.io.read`` reads, with energies (eV) and forces (eV/Å) stored in it."""
    from ase.io import read

    try:
        frames = read(path, index=index)
    except Exception as error:
        raise DataError(f"{path}: ase.io cannot read this file ({type(error).__name__}: {error})") from error
    frames = frames if isinstance(frames, list) else [frames]
    if not frames:
        raise DataError(f"{path} holds no frames (index {index!r})")
    energies, forces = [], []
    for number, atoms in enumerate(frames):
        try:
            energies.append(atoms.get_potential_energy())
            forces.append(atoms.get_forces())
        except Exception as error:
            raise DataError(
                f"{path}, frame {number}: no energy and forces stored ({type(error).__name__}); training data needs "
                "both (extxyz: an energy= entry in the comment line and a forces column)"
            ) from error
    return AtomsDataset(
        numbers=np.concatenate([atoms.numbers for atoms in frames]).astype(np.int64),
        positions=np.concatenate([atoms.positions for atoms in frames]),
        forces=np.concatenate(forces),
        energies=np.asarray(energies, dtype=np.float64),
        offsets=np.concatenate([[0], np.cumsum([len(atoms) for atoms in frames])]).astype(np.int64),
        frame_ids=np.arange(len(frames), dtype=np.int64),
        source=str(path),
    )


def write_hdf5(dataset: AtomsDataset, path: str | os.PathLike) -> None:
    """Store ``dataset`` (eV, Å) as HDF5, atomically."""
    with atomic_path(path) as temporary:
        with h5py.File(temporary, "w") as file:
            file.attrs["format"] = HDF5_FORMAT
            file.attrs["format_version"] = HDF5_VERSION
            file.attrs["units"] = "energy: eV, length: Å, forces: eV/Å"
            file.attrs["source"] = dataset.source
            for name in ("numbers", "positions", "forces", "energies", "offsets", "frame_ids"):
                file.create_dataset(name, data=getattr(dataset, name))


def read_hdf5(path: str | os.PathLike) -> AtomsDataset:
    """Read a file written by ``write_hdf5``."""
    try:
        file = h5py.File(path, "r")
    except OSError as error:
        raise DataError(f"{path} is not a readable HDF5 file ({error}); convert the data again") from error
    with file:
        if file.attrs.get("format") != HDF5_FORMAT:
            raise DataError(f"{path} is not an ase-geoformer dataset (no format={HDF5_FORMAT!r} attribute)")
        if int(file.attrs.get("format_version", 0)) > HDF5_VERSION:
            raise DataError(f"{path} has dataset format version {file.attrs['format_version']}: upgrade ase-geoformer")
        names = ("numbers", "positions", "forces", "energies", "offsets", "frame_ids")
        missing = [name for name in names if name not in file]
        if missing:
            raise DataError(f"{path} lacks the arrays {missing}; the file is damaged, convert the data again")
        arrays = {name: file[name][()] for name in names}
    return AtomsDataset(**arrays, source=str(path))


def _load_npz(path: str | os.PathLike, keys: Sequence[str]) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as content:
            missing = [key for key in keys if key not in content.files]
            if missing:
                raise DataError(f"{path} lacks the keys {missing} (it has {sorted(content.files)})")
            return {key: content[key] for key in content.files}
    except DataError:
        raise
    except (OSError, ValueError) as error:
        raise DataError(f"{path} is not a readable npz file ({error})") from error


def _check(condition: bool, source: str, problem: str) -> None:
    if not condition:
        raise DataError(f"{source or 'dataset'}: {problem}")
