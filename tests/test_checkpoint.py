"""Checkpoint round trip, safety (weights_only), and the errors for bad files."""

import json

import pytest
import torch

from ase_geoformer import CheckpointError, GeoFormerConfig, load_checkpoint, save_checkpoint
from ase_geoformer.checkpoint import FORMAT_VERSION, SINGLE_MODEL_VERSION, _digest
from conftest import all_architectures, calculator, energy, small_config


@all_architectures
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_round_trip_gives_identical_energies(model, ethanol, tmp_path, dtype):
    model = model.to(dtype)
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, provenance={"data": "synthetic"}, metrics={"force_mae_meV_per_A": 1.5})
    loaded = load_checkpoint(path)
    assert loaded.provenance == {"data": "synthetic"} and loaded.metrics == {"force_mae_meV_per_A": 1.5}
    assert next(loaded.model.parameters()).dtype == dtype
    assert energy(ethanol, calculator(loaded.model, dtype=dtype)) == energy(ethanol, calculator(model, dtype=dtype))
    assert energy(ethanol, calculator(path)) == energy(ethanol, calculator(model.double()))


def test_checkpoint_is_plain_data(model, tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, model)
    content = torch.load(path, weights_only=True)
    assert content["format_version"] == SINGLE_MODEL_VERSION  # not the committees' version: older readers read it
    assert content["species"] == list(model.config.species)
    assert content["units"] == {"energy": "eV", "length": "Å"}
    assert content["energy_statistics"]["scale"] == pytest.approx(0.7)
    assert GeoFormerConfig.from_dict(content["config"]) == model.config


def test_config_round_trips_through_json_and_yaml(tmp_path):
    config = small_config(r_max=4.5)
    config.save(tmp_path / "config.json")
    assert GeoFormerConfig.load(tmp_path / "config.json") == config
    assert json.loads((tmp_path / "config.json").read_text())["r_max"] == 4.5
    pytest.importorskip("yaml")
    config.save(tmp_path / "config.yaml")
    assert GeoFormerConfig.load(tmp_path / "config.yaml") == config


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        small_config(channels=30, num_heads=4)
    with pytest.raises(ValueError, match="ascending"):
        small_config(species=(8, 1))
    with pytest.raises(ValueError, match="unknown GeoFormerConfig fields"):
        GeoFormerConfig.from_dict({"species": [1], "chanels": 8})
    with pytest.raises(ValueError, match="neighbour_species must be true or false"):
        small_config(neighbour_species="false")


def test_checkpoint_written_before_neighbour_species_loads_species_blind(model, tmp_path):
    """Checkpoints without the option's entry (all written before it existed) keep their meaning."""
    path = tmp_path / "model.pt"
    save_checkpoint(path, model)
    content = torch.load(path, weights_only=True)
    assert content["config"].pop("neighbour_species") is False
    content["sha256"] = _digest({k: v for k, v in content.items() if k != "sha256"})
    torch.save(content, path)
    assert load_checkpoint(path).model.config.neighbour_species is False


def test_tampered_weights_are_refused(model, tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, model)
    content = torch.load(path, weights_only=True)
    content["state_dict"]["readout.shift"] += 1.0
    torch.save(content, path)
    with pytest.raises(CheckpointError, match="modified after it was written"):
        load_checkpoint(path)


def test_tampered_metrics_are_refused(model, tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, metrics={"force_mae": 9.0})
    content = torch.load(path, weights_only=True)
    content["metrics"]["force_mae"] = 1.0
    torch.save(content, path)
    with pytest.raises(CheckpointError, match="modified"):
        load_checkpoint(path)


def test_truncated_file_is_refused(model, tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, model)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt, truncated"):
        load_checkpoint(path)


def test_pickled_module_is_refused_without_running_it(model, tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save(model, path)
    with pytest.raises(CheckpointError, match="pickled Python objects"):
        load_checkpoint(path)


def test_foreign_checkpoint_is_refused(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"model_state": {"w": torch.zeros(3)}}, path)
    with pytest.raises(CheckpointError, match="not a GeoFormer checkpoint"):
        load_checkpoint(path)
    path.write_text("not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a checkpoint at all"):
        load_checkpoint(path)


def test_newer_format_version_is_refused(model, tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, model)
    content = torch.load(path, weights_only=True)
    content["format_version"] = FORMAT_VERSION + 1
    torch.save(content, path)
    with pytest.raises(CheckpointError, match="upgrade ase-geoformer"):
        load_checkpoint(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint file at .*missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")


def test_failed_write_keeps_the_previous_checkpoint(model, tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    save_checkpoint(path, model)
    before = path.read_bytes()

    def broken_save(obj, file):
        with open(file, "wb") as handle:
            handle.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
