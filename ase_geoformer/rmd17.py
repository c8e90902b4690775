"""The rMD17 benchmark protocol: where the files are and the standard split.

Protocol (``shared/data/rmd17/PROVENANCE.md``): train on 950 frames and validate on 50 frames of
``rmd17_<molecule>_train_01.npz``; test on ``rmd17_<molecule>_test_01.npz`` and on every frame of
the molecule that is not in train_01 (deduplicated by ``old_indices`` over all ten files).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ase_geoformer.data import AtomsDataset, concatenate, read_rmd17
from ase_geoformer.errors import DataError

MOLECULES = (
    "aspirin",
    "azobenzene",
    "benzene",
    "ethanol",
    "malonaldehyde",
    "naphthalene",
    "paracetamol",
    "salicylic",
    "toluene",
    "uracil",
)
SPLIT_FILES = tuple(f"{part}_{number:02d}" for part in ("train", "test") for number in range(1, 6))
DATA_DIR_VARIABLE = "ASE_GEOFORMER_RMD17"
"""Environment variable naming a folder of rMD17 npz files (used when no folder is given)."""


@dataclass
class StandardSplit:
    """The datasets of the standard protocol for one molecule (eV, Å)."""

    train: AtomsDataset
    validation: AtomsDataset
    test: AtomsDataset
    """test_01."""


def data_dir(folder: str | os.PathLike | None = None) -> Path:
    """The rMD17 folder: ``folder``, else ``$ASE_GEOFORMER_RMD17``; a ``DataError`` says how to get one."""
    chosen = folder if folder is not None else os.environ.get(DATA_DIR_VARIABLE)
    if chosen is None:
        raise DataError(
            f"no rMD17 folder given: pass one (--data-dir) or set {DATA_DIR_VARIABLE}; fetch the files with "
            "`geoformer-data download --molecule ethanol --output <folder>`"
        )
    return Path(chosen)


def rmd17_path(folder: str | os.PathLike | None, molecule: str, split: str) -> Path:
    """Path of ``rmd17_<molecule>_<split>.npz`` (split e.g. ``train_01``); ``DataError`` if absent."""
    if molecule not in MOLECULES:
        raise DataError(f"{molecule!r} is not an rMD17 molecule; choose one of {', '.join(MOLECULES)}")
    if split not in SPLIT_FILES:
        raise DataError(f"{split!r} is not an rMD17 split file; choose one of {', '.join(SPLIT_FILES)}")
    path = data_dir(folder) / f"rmd17_{molecule}_{split}.npz"
    if not path.is_file():
        raise DataError(
            f"{path} does not exist: fetch it with `geoformer-data download --molecule {molecule} --output "
            f"{path.parent}` or point --data-dir to a folder of rMD17 npz files"
        )
    return path


def split_indices(num_frames: int, num_train: int, num_validation: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint random training and validation frame indices (seeded, reproducible)."""
    if num_train + num_validation > num_frames:
        raise DataError(f"cannot take {num_train} training and {num_validation} validation frames from {num_frames}")
    order = np.random.default_rng(seed).permutation(num_frames)
    return np.sort(order[:num_train]), np.sort(order[num_train : num_train + num_validation])


def standard_split(
    molecule: str,
    folder: str | os.PathLike | None = None,
    seed: int = 0,
    num_train: int = 950,
    num_validation: int = 50,
) -> StandardSplit:
    """950 training and 50 validation frames from train_01, and test_01, of ``molecule``."""
    pool = read_rmd17(rmd17_path(folder, molecule, "train_01"))
    train, validation = split_indices(len(pool), num_train, num_validation, seed)
    return StandardSplit(
        train=pool.subset(train),
        validation=pool.subset(validation),
        test=read_rmd17(rmd17_path(folder, molecule, "test_01")),
    )


def frames_not_in_train(molecule: str, folder: str | os.PathLike | None = None) -> AtomsDataset:
    """Every frame of ``molecule`` in the ten split files that is not in train_01 (unique by ``old_indices``)."""
    excluded = set(read_rmd17(rmd17_path(folder, molecule, "train_01")).frame_ids.tolist())
    parts = []
    for split in SPLIT_FILES[1:]:
        dataset = read_rmd17(rmd17_path(folder, molecule, split))
        ids, first = np.unique(dataset.frame_ids, return_index=True)
        keep = first[[int(i) not in excluded for i in ids]]
        parts.append(dataset.subset(np.sort(keep)))
        excluded.update(dataset.frame_ids.tolist())
    return concatenate(parts, source=f"rMD17 {molecule}: all frames not in train_01")
