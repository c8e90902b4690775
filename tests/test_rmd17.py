"""The standard rMD17 split: sizes, reproducibility, and no frame shared between train and validation or test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ase_geoformer import rmd17
from ase_geoformer.errors import DataError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "rmd17"
needs_rmd17 = pytest.mark.skipif(
    not (DATA / "rmd17_ethanol_train_01.npz").exists(), reason=f"rMD17 files not found at {DATA}"
)


def test_split_indices_are_disjoint_reproducible_and_seeded():
    train, validation = rmd17.split_indices(1000, 950, 50, seed=3)
    assert len(train) == 950 and len(validation) == 50
    assert not set(train) & set(validation)
    again = rmd17.split_indices(1000, 950, 50, seed=3)
    np.testing.assert_array_equal(train, again[0])
    assert not np.array_equal(validation, rmd17.split_indices(1000, 950, 50, seed=4)[1])


def test_missing_folder_and_file_say_how_to_get_the_data(tmp_path, monkeypatch):
    monkeypatch.delenv(rmd17.DATA_DIR_VARIABLE, raising=False)
    with pytest.raises(DataError, match="geoformer-data download"):
        rmd17.rmd17_path(None, "ethanol", "train_01")
    with pytest.raises(DataError, match="does not exist: fetch it with `geoformer-data download --molecule ethanol"):
        rmd17.rmd17_path(tmp_path, "ethanol", "train_01")
    with pytest.raises(DataError, match="not an rMD17 molecule"):
        rmd17.rmd17_path(tmp_path, "water", "train_01")


@needs_rmd17
def test_standard_split_never_leaks_a_frame():
    split = rmd17.standard_split("ethanol", DATA)
    train, validation = set(split.train.frame_ids), set(split.validation.frame_ids)
    assert len(train) == 950 and len(validation) == 50 and len(split.test) == 1000
    assert not train & validation
    assert not (train | validation) & set(split.test.frame_ids)
    rest = rmd17.frames_not_in_train("ethanol", DATA)
    rest_ids = rest.frame_ids.tolist()
    assert len(rest_ids) == len(set(rest_ids)), "frames must be unique"
    assert not (train | validation) & set(rest_ids)
    # PROVENANCE.md: 9,633 unique frames per molecule, 1,000 of them in train_01.
    assert len(rest_ids) == 9633 - 1000
    assert set(split.test.frame_ids) <= set(rest_ids)
