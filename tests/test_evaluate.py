"""Evaluation: the errors equal those computed frame by frame through the ASE calculator."""

from __future__ import annotations

import json

import numpy as np
import torch
import pytest
from ase import units
from conftest import random_model, small_config
from synthetic import morse_dataset, write_morse_extxyz

from ase_geoformer import GeoFormerCalculator, load_checkpoint, save_checkpoint
from ase_geoformer.errors import GeoFormerError
from ase_geoformer.evaluate import PairedDifference, evaluate, evaluate_with_frame_errors, main


def test_errors_equal_those_of_the_calculator_frame_by_frame():
    model = random_model(small_config(species=(1, 6, 8)))
    data = morse_dataset(7, seed=3)
    errors = evaluate(model, data, batch_size=3)
    calc = GeoFormerCalculator(model=model, device="cpu")
    energy_errors, force_errors = [], []
    for index in range(len(data)):
        atoms = data.to_atoms(index)
        target_energy, target_forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = calc
        energy_errors.append(atoms.get_potential_energy() - target_energy)
        force_errors.append(atoms.get_forces() - target_forces)
    force_errors = np.concatenate(force_errors)
    assert errors["energy_mae_meV"] == pytest.approx(1000 * np.mean(np.abs(energy_errors)), rel=1e-10)
    assert errors["force_mae_meV_per_A"] == pytest.approx(1000 * np.mean(np.abs(force_errors)), rel=1e-10)
    assert errors["force_rmse_meV_per_A"] == pytest.approx(1000 * np.sqrt(np.mean(force_errors**2)), rel=1e-10)
    kcal = units.kcal / units.mol
    assert errors["force_mae_kcal_per_mol_per_A"] == pytest.approx(np.mean(np.abs(force_errors)) / kcal, rel=1e-10)
    assert errors["num_frames"] == 7


def test_command_prints_a_table_writes_json_and_stores_metrics(tmp_path, capsys):
    model = random_model(small_config(species=(1, 6, 8)))
    save_checkpoint(tmp_path / "m.pt", model.float(), provenance={"note": "test"})
    data_file = write_morse_extxyz(tmp_path / "d.extxyz", 4)
    code = main(["--model", str(tmp_path / "m.pt"), "--data", str(data_file), "--json", str(tmp_path / "e.json"),
                 "--save-with-metrics", str(tmp_path / "with.pt")])
    assert code == 0
    table = capsys.readouterr().out
    stored = json.loads((tmp_path / "e.json").read_text())["results"][str(data_file)]
    assert f"| {stored['force_mae_meV_per_A']:.2f} |" in table
    expected = evaluate(load_checkpoint(tmp_path / "m.pt").model, morse_dataset(4))
    assert stored["force_mae_meV_per_A"] == pytest.approx(expected["force_mae_meV_per_A"], rel=1e-6)
    saved = load_checkpoint(tmp_path / "with.pt")
    assert saved.metrics[str(data_file)] == stored and saved.provenance == {"note": "test"}


def test_unknown_rmd17_set_is_refused(tmp_path, capsys):
    save_checkpoint(tmp_path / "m.pt", random_model(small_config(species=(1, 6, 8))))
    assert main(["--model", str(tmp_path / "m.pt"), "--molecule", "ethanol", "--sets", "everything"]) == 1
    assert "unknown rMD17 set 'everything'; choose from train, validation, test_01, not_in_train" in capsys.readouterr().err


def test_evaluation_leaves_the_callers_model_unchanged():
    model = random_model(small_config(species=(1, 6, 8))).float()
    evaluate(model, morse_dataset(2), dtype=torch.float64)
    assert next(model.parameters()).dtype == torch.float32


def test_per_frame_force_errors_equal_those_of_the_calculator_and_average_to_the_force_mae():
    model = random_model(small_config(species=(1, 6, 8)))
    data = morse_dataset(5, seed=4)
    per_frame = evaluate_with_frame_errors(model, data, batch_size=2)[1]
    calc = GeoFormerCalculator(model=model, device="cpu")
    expected = []
    for index in range(len(data)):
        atoms = data.to_atoms(index)
        target = atoms.get_forces()
        atoms.calc = calc
        expected.append(1000 * np.mean(np.abs(atoms.get_forces() - target)))
    np.testing.assert_allclose(per_frame, expected, rtol=1e-10)
    assert per_frame.mean() == pytest.approx(evaluate(model, data)["force_mae_meV_per_A"], rel=1e-10)


def test_paired_difference_of_hand_computed_errors():
    d = PairedDifference.of(np.array([1.0, 2.0, 3.0, 6.0]), np.array([2.0, 2.0, 2.0, 2.0]))
    # differences -1, 0, 1, 4: mean 1, sample standard deviation sqrt(14/3), standard error that over sqrt(4)
    assert d.mean == pytest.approx(1.0)
    assert d.standard_error == pytest.approx(np.sqrt(14 / 3) / 2)
    assert (d.frames_lower, d.frames) == (1, 4)
    with pytest.raises(GeoFormerError, match="same two or more frames"):
        PairedDifference.of(np.zeros(3), np.zeros(4))


def test_command_compares_two_models_frame_by_frame(tmp_path, capsys):
    data_file = write_morse_extxyz(tmp_path / "d.extxyz", 6)
    for name, seed in (("a", 0), ("b", 1)):
        save_checkpoint(tmp_path / f"{name}.pt", random_model(small_config(species=(1, 6, 8)), seed=seed))
    code = main(["--model", str(tmp_path / "a.pt"), "--data", str(data_file), "--compare-with", str(tmp_path / "b.pt"),
                 "--json", str(tmp_path / "e.json")])
    assert code == 0
    out = capsys.readouterr().out
    a, b = (evaluate_with_frame_errors(load_checkpoint(tmp_path / f"{n}.pt").model, morse_dataset(6))[1] for n in "ab")
    assert np.abs(a - b).min() > 0
    expected = PairedDifference.of(a, b)
    stored = json.loads((tmp_path / "e.json").read_text())["paired_force_mae_difference_meV_per_A"][str(data_file)]
    assert stored["mean"] == pytest.approx(expected.mean, rel=1e-6)
    assert stored["frames_lower"] == int((a < b).sum())
    assert f"| 6 | {expected.mean:+.2f} | {expected.standard_error:.2f} | {expected.frames_lower} |" in out
