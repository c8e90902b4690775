"""Training: the error falls, resume equals an uninterrupted run (also after a kill), torchrun on gloo,
the best checkpoint predicts total energies, and the config round-trips."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.calculators.morse import MorsePotential
from synthetic import morse_dataset, morse_frames, write_morse_extxyz, write_rmd17_npz

from ase_geoformer import GeoFormerCalculator, load_checkpoint
from ase_geoformer.config import GeoFormerConfig
from ase_geoformer.errors import GeoFormerError
from ase_geoformer.labelled import Sample, collate
from ase_geoformer.nn.model import GeoFormer
from ase_geoformer.training import TrainingConfig, train
from ase_geoformer.training import trainer as trainer_module
from ase_geoformer.training.augmentation import mix_molecules
from ase_geoformer.training.cli import build_parser, config_from_arguments
from ase_geoformer.training.trainer import BEST_FILE, METRICS_FILE, STATE_FILE

TINY = dict(channels=16, num_heads=2, num_blocks=1, num_radial=8, r_max=4.0, gate_hidden=8, readout_hidden=16)
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parent)}


@pytest.fixture(scope="module")
def morse_file(tmp_path_factory) -> Path:
    return write_morse_extxyz(tmp_path_factory.mktemp("data") / "morse.extxyz", 140)


def tiny_config(morse_file: Path, **changes) -> TrainingConfig:
    settings = dict(
        train_file=str(morse_file), num_train=120, num_validation=20, model=TINY, batch_size=8, learning_rate=5e-3,
        warmup_epochs=1, ema_decay=0.9, max_epochs=3, device="cpu", save_interval=0.0,
    )
    settings.update(changes)
    return TrainingConfig(**settings)


def final_metrics(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / METRICS_FILE).read_text().splitlines()]


def without_times(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in record.items() if k != "elapsed_s"} for record in history]


@pytest.mark.slow
def test_training_lowers_the_validation_force_error_tenfold_within_a_minute(morse_file, tmp_path):
    started = time.monotonic()
    result = train(tiny_config(morse_file, max_epochs=30), tmp_path / "run", progress=False)
    seconds = time.monotonic() - started
    untrained = result.history[0]["validation_force_mae_meV_per_A"]
    best = result.best_validation["validation_force_mae_meV_per_A"]
    assert untrained / best >= 10, (untrained, best)
    assert seconds < 60


@pytest.mark.slow
def test_resume_after_a_spent_budget_equals_an_uninterrupted_run(morse_file, tmp_path):
    config = tiny_config(morse_file)
    reference = train(config, tmp_path / "reference", progress=False)
    budgeted = replace(config, time_budget=0.0)
    result = train(budgeted, tmp_path / "resumed", progress=False)
    assert result.status == "budget_spent" and result.epochs == 0
    resumes = 1
    while result.status == "budget_spent":
        result = train(budgeted, tmp_path / "resumed", resume=True, progress=False)
        resumes += 1
    assert resumes > 3 * config.max_epochs  # one step per call: it stopped in the middle of epochs
    assert without_times(result.history) == without_times(reference.history)


@pytest.mark.slow
def test_a_killed_run_resumes_and_completes_like_an_uninterrupted_one(morse_file, tmp_path):
    def command(folder: Path, *extra: str) -> list[str]:
        return [sys.executable, "-m", "ase_geoformer.training.cli", "--train-file", str(morse_file), "--num-train", "120",
                "--num-validation", "20", "--batch-size", "8", "--learning-rate", "5e-3", "--warmup-epochs", "1",
                "--ema-decay", "0.9", "--max-epochs", "4", "--device", "cpu", "--save-interval", "0", "--no-progress",
                "--output", str(folder), *[f"--model-setting={k}={v}" for k, v in TINY.items()], *extra]

    subprocess.run(command(tmp_path / "reference"), check=True, env=ENV, capture_output=True)
    process = subprocess.Popen(command(tmp_path / "killed"), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_file = tmp_path / "killed" / STATE_FILE
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if state_file.exists():
            state = torch.load(state_file, weights_only=True)
            if state["epoch"] >= 1 and state["step_in_epoch"] >= 3:
                break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    state = torch.load(state_file, weights_only=True)
    assert state["epoch"] < 4 and state["step_in_epoch"] > 0, "the kill must land in the middle of an epoch"
    finished = subprocess.run(command(tmp_path / "killed", "--resume"), env=ENV, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert "finished after 4 epochs" in finished.stdout
    assert without_times(final_metrics(tmp_path / "killed")) == without_times(final_metrics(tmp_path / "reference"))


@pytest.mark.slow
def test_two_processes_with_gloo_train_like_one(morse_file, tmp_path):
    def command(folder: Path, processes: int) -> list[str]:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes)]
        return [*launcher, "-m", "ase_geoformer.training.cli", "--train-file", str(morse_file), "--num-train", "120",
                "--num-validation", "20", "--batch-size", "8", "--learning-rate", "5e-3", "--warmup-epochs", "1",
                "--ema-decay", "0.9", "--max-epochs", "2", "--device", "cpu", "--dtype", "float64", "--no-progress",
                "--output", str(folder), *[f"--model-setting={k}={v}" for k, v in TINY.items()]]

    for processes in (1, 2):
        run = subprocess.run(command(tmp_path / f"p{processes}", processes), env=ENV, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
    one, two = final_metrics(tmp_path / "p1"), final_metrics(tmp_path / "p2")
    for a, b in zip(one, two):
        for key in ("train_force_mae_meV_per_A", "validation_force_mae_meV_per_A", "validation_energy_mae_meV"):
            if key in a:
                assert b[key] == pytest.approx(a[key], rel=1e-9), key


@pytest.mark.slow
def test_best_checkpoint_predicts_total_energies(morse_file, tmp_path):
    train(tiny_config(morse_file, max_epochs=20), tmp_path, progress=False)
    checkpoint = load_checkpoint(tmp_path / BEST_FILE)
    validation_mae = checkpoint.metrics["validation"]["energy_mae_meV"] / 1000
    data = morse_dataset(5, seed=99)
    errors = []
    for index in range(len(data)):
        atoms = data.to_atoms(index)
        target = atoms.get_potential_energy()
        atoms.calc = GeoFormerCalculator(model=tmp_path / BEST_FILE, device="cpu")
        errors.append(abs(atoms.get_potential_energy() - target))
    # The energies are near -4 eV: without the baseline in the readout the error would be that large.
    assert np.mean(errors) < 5 * validation_mae + 0.02
    assert checkpoint.provenance["training_config"]["train_file"] == str(morse_file)


def test_molecule_mixing_matches_the_potential_of_the_mixed_structure():
    """ASE's Morse potential vanishes beyond 2.7 Å, so the mixed structure's energy is the sum."""
    potential = MorsePotential(epsilon=0.3, r0=1.2, rho0=3.0)
    data = morse_dataset(2, seed=5)
    samples = [Sample(*data.frame(i)) for i in range(2)]
    mixed = mix_molecules(samples[0], samples[1], separation=3.0, rng=np.random.default_rng(0))
    atoms = Atoms(numbers=mixed.numbers, positions=mixed.positions)
    atoms.calc = potential
    assert mixed.energy == pytest.approx(atoms.get_potential_energy(), abs=1e-10)
    np.testing.assert_allclose(mixed.forces, atoms.get_forces(), atol=1e-10)
    gap = np.linalg.norm(mixed.positions[:6, None] - mixed.positions[None, 6:], axis=-1).min()
    assert gap >= 3.0


def test_config_round_trips_and_flags_override_the_file(morse_file, tmp_path):
    config = tiny_config(morse_file, molecule_mixing=True, time_budget=3600.0)
    for name in ("c.json", "c.yaml"):
        config.save(tmp_path / name)
        assert TrainingConfig.load(tmp_path / name) == config
    args = build_parser().parse_args(
        ["--config", str(tmp_path / "c.yaml"), "--output", str(tmp_path / "o"), "--batch-size", "4", "--time-budget", "2h",
         "--no-molecule-mixing", "--model-setting", "channels=24"]
    )
    changed = config_from_arguments(args)
    assert (changed.batch_size, changed.time_budget, changed.molecule_mixing) == (4, 7200.0, False)
    assert changed.model["channels"] == 24 and changed.model["num_blocks"] == 1


def test_help_describes_every_setting_with_its_default():
    parser = build_parser()
    helps = {action.dest: action.help for action in parser._actions}
    for field in fields(TrainingConfig):
        if field.name not in ("model", "time_budget"):
            text = helps[field.name]
            assert len(text) > 20 and "``" not in text, field.name
            assert field.default is None or text.endswith(f"(default: {field.default})"), field.name
    # A description that wraps over lines in the docstring arrives whole.
    assert helps["scheduler"].endswith('"cosine" (to min_learning_rate at max_epochs) (default: plateau)')
    model_fields = [field for field in fields(GeoFormerConfig) if field.name != "species"]
    model_lines = parser.epilog.split("model settings (--model-setting NAME=VALUE):\n")[1].splitlines()
    assert len(model_lines) == len(model_fields)
    for line, field in zip(model_lines, model_fields):
        assert line.startswith(f"  {field.name}: ") and line.endswith(f"(default: {field.default})"), line


def test_a_recipe_without_a_data_source_takes_it_from_the_flags(morse_file, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("batch_size: 32\nmodel:\n  channels: 24\n")
    output = ["--output", str(tmp_path / "o")]
    for_molecule = config_from_arguments(build_parser().parse_args(["--config", str(recipe), "--molecule", "uracil", *output]))
    assert (for_molecule.molecule, for_molecule.train_file, for_molecule.batch_size) == ("uracil", None, 32)
    # A data-source flag also replaces the other source that a config file names.
    recipe.write_text("molecule: ethanol\nbatch_size: 32\n")
    for_file = config_from_arguments(build_parser().parse_args(["--config", str(recipe), "--train-file", str(morse_file), *output]))
    assert (for_file.molecule, for_file.train_file) == (None, str(morse_file))
    with pytest.raises(ValueError, match="exactly one data source"):
        config_from_arguments(build_parser().parse_args(["--config", str(recipe), "--molecule", "uracil", "--train-file", "x", *output]))


def test_bad_settings_are_refused_with_a_reason(morse_file, tmp_path):
    with pytest.raises(ValueError, match="exactly one data source"):
        TrainingConfig()
    with pytest.raises(ValueError, match="unknown model settings"):
        tiny_config(morse_file, model={"width": 3})
    with pytest.raises(ValueError, match="unknown training settings"):
        TrainingConfig.from_dict({"train_file": "x", "learning_rte": 1})
    train(tiny_config(morse_file, max_epochs=1), tmp_path, progress=False)
    with pytest.raises(GeoFormerError, match="already holds a training run.*--resume"):
        train(tiny_config(morse_file, max_epochs=1), tmp_path, progress=False)
    with pytest.raises(GeoFormerError, match=r"different settings \['learning_rate'\]"):
        train(tiny_config(morse_file, max_epochs=2, learning_rate=1e-2), tmp_path, resume=True, progress=False)
    assert (tmp_path / STATE_FILE).exists() and (tmp_path / BEST_FILE).exists()


def test_a_resumed_run_may_change_its_schedule_and_keeps_its_commands(morse_file, tmp_path, monkeypatch):
    monkeypatch.setattr(trainer_module, "_hardware", lambda device, processes: "machine A")
    train(tiny_config(morse_file, max_epochs=1), tmp_path, progress=False, command="first")
    monkeypatch.setattr(trainer_module, "_hardware", lambda device, processes: "machine B")
    longer = tiny_config(morse_file, max_epochs=2, scheduler="cosine", min_learning_rate=1e-4)
    result = train(longer, tmp_path, resume=True, progress=False, command="second")
    assert result.epochs == 2
    assert TrainingConfig.load(tmp_path / "config.json") == longer
    # From the resumed epoch on, the cosine schedule: halfway from 5e-3 to its floor 1e-4 after 1 of 2 epochs.
    assert result.history[-1]["learning_rate"] == pytest.approx(1e-4 + (5e-3 - 1e-4) * 0.5)
    provenance = load_checkpoint(tmp_path / BEST_FILE).provenance
    assert provenance["commands"] == ["first", "second"]
    assert provenance["invocations"] == [
        {"command": "first", "hardware": "machine A", "first_epoch": 1},
        {"command": "second", "hardware": "machine B", "first_epoch": 2},
    ]
    assert provenance["hardware"] == "machine B"


def test_a_state_saved_before_hardware_was_recorded_per_invocation_resumes(morse_file, tmp_path):
    train(tiny_config(morse_file, max_epochs=1), tmp_path, progress=False, command="first")
    state = torch.load(tmp_path / STATE_FILE, weights_only=True)
    state["commands"] = json.dumps([i["command"] for i in json.loads(state.pop("invocations"))])
    torch.save(state, tmp_path / STATE_FILE)
    train(tiny_config(morse_file, max_epochs=2), tmp_path, resume=True, progress=False, command="second")
    provenance = load_checkpoint(tmp_path / BEST_FILE).provenance
    assert provenance["commands"] == ["first", "second"]
    assert [i["hardware"] == "not recorded" for i in provenance["invocations"]] == [True, False]


def test_a_run_resumes_on_another_copy_of_its_rmd17_files(tmp_path):
    first = tmp_path / "data-here"
    first.mkdir()
    for split in ("train_01", "test_01"):
        write_rmd17_npz(first / f"rmd17_ethanol_{split}.npz", frames=30)
    settings = dict(model=TINY, batch_size=8, learning_rate=5e-3, warmup_epochs=1, device="cpu", num_train=24, num_validation=6)
    train(TrainingConfig(molecule="ethanol", data_dir=str(first), max_epochs=1, **settings), tmp_path / "run", progress=False)
    moved = first.rename(tmp_path / "data-elsewhere")
    result = train(TrainingConfig(molecule="ethanol", data_dir=str(moved), max_epochs=2, **settings), tmp_path / "run",
                   resume=True, progress=False)
    assert result.epochs == 2
    assert TrainingConfig.load(tmp_path / "run" / "config.json").data_dir == str(moved)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_on_cuda_matches_cpu_in_float64(morse_file, tmp_path):
    runs = {}
    for device in ("cpu", "cuda"):
        config = tiny_config(morse_file, device=device, dtype="float64", max_epochs=2)
        runs[device] = train(config, tmp_path / device, progress=False).history
    for a, b in zip(runs["cpu"], runs["cuda"]):
        assert b["validation_force_mae_meV_per_A"] == pytest.approx(a["validation_force_mae_meV_per_A"], rel=1e-6)
    assert load_checkpoint(tmp_path / "cuda" / BEST_FILE).provenance["hardware"] == torch.cuda.get_device_name(0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_with_cuda_graphs_equals_eager_training_in_float64(morse_file, tmp_path):
    runs = {}
    for graphs in (False, True):
        config = tiny_config(morse_file, device="cuda", dtype="float64", max_epochs=3, cuda_graphs=graphs)
        runs[graphs] = train(config, tmp_path / str(graphs), progress=False).history
    assert len(runs[True]) == 4
    for eager, graphed in zip(runs[False], runs[True]):
        for key in ("train_force_mae_meV_per_A", "validation_force_mae_meV_per_A", "validation_energy_mae_meV"):
            assert graphed.get(key) == pytest.approx(eager.get(key), rel=1e-9)
    assert runs[True][-1]["validation_force_mae_meV_per_A"] < 0.5 * runs[True][0]["validation_force_mae_meV_per_A"]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graphs_refuse_a_batch_of_another_shape():
    from ase_geoformer.training.gradients import CapturedGradients
    from ase_geoformer.training.loss import energy_force_loss

    model = GeoFormer(GeoFormerConfig(species=(1, 6, 8), **TINY)).to("cuda")
    frames = [Sample(a.numbers, a.positions, 0.0, np.zeros((len(a), 3))) for a in morse_frames(4)]
    batch = collate(frames, (1, 6, 8), torch.device("cuda"), torch.float32)
    captured = CapturedGradients(model, lambda b: energy_force_loss(model, b, 1.0, 1.0), batch)
    with pytest.raises(GeoFormerError, match="same shape|shape of the first"):
        captured(collate(frames[:3], (1, 6, 8), torch.device("cuda"), torch.float32))


def test_cuda_graphs_are_refused_on_cpu_and_with_molecule_mixing(morse_file, tmp_path):
    with pytest.raises(GeoFormerError, match="single CUDA device"):
        train(tiny_config(morse_file, cuda_graphs=True), tmp_path, progress=False)
    with pytest.raises(ValueError, match="molecule_mixing"):
        tiny_config(morse_file, cuda_graphs=True, molecule_mixing=True)


def test_training_stops_early_when_validation_stops_improving(morse_file, tmp_path):
    # A learning rate far below float32 resolution: the weights, and so the validation error, stay put.
    config = tiny_config(morse_file, learning_rate=1e-12, min_learning_rate=1e-13, max_epochs=10, early_stopping_patience=2)
    result = train(config, tmp_path, progress=False)
    assert result.status == "early_stopped"
    assert result.epochs == 3  # epoch 1 is the best; epochs 2 and 3 bring no improvement
