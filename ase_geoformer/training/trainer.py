"""The training loop: AdamW, warm-up then decay, EMA weights, early stopping, wall-clock budget, resume.

A run writes into its output folder:

- ``config.json``: the ``TrainingConfig``;
- ``metrics.jsonl``: one JSON line per epoch (rewritten atomically each epoch);
- ``best.pt``: the EMA model with the lowest validation force MAE (a checkpoint the calculator loads);
- ``training_state.pt``: everything needed to resume (weights, EMA, optimizer, schedule, position in
  the epoch, metrics so far), saved atomically every ``save_interval`` seconds and at each epoch end.

Resuming continues from the saved step of the saved epoch with the same frame order, so a killed
run that is resumed reaches the same final state as one never killed. Under ``torchrun`` each
process takes its share of every batch and gradients are averaged over processes (gloo on CPU,
NCCL on CUDA); process 0 writes the files. The gradient pass of each step (``gradients.py``) runs
op by op, or with ``cuda_graphs`` as a replayed CUDA graph.
"""

from __future__ import annotations

import copy
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from ase_geoformer.checkpoint import DTYPES, save_checkpoint
from ase_geoformer.data import AtomsDataset, read_dataset
from ase_geoformer.errors import GeoFormerError
from ase_geoformer.evaluate import error_metrics, error_sums, evaluate_samples
from ase_geoformer.io_utils import atomic_path, atomic_write_text
from ase_geoformer.nn.model import GeoFormer
from ase_geoformer.labelled import EnergyBaseline, LabelledBatch, SampleSource, collate, force_rms
from ase_geoformer.training.augmentation import mix_molecules
from ase_geoformer.training.config import TrainingConfig
from ase_geoformer.training.gradients import CapturedGradients, EagerGradients
from ase_geoformer.training.loss import LossAndPredictions, energy_force_loss
from ase_geoformer.training.schedule import WarmupThenDecay

STATE_FORMAT = "ase-geoformer-training-state"
STATE_FILE = "training_state.pt"
BEST_FILE = "best.pt"
METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = "config.json"
MIXING_SEPARATION = 2.0
"""Å added to the cutoff between the two molecules of a mixed sample."""


@dataclass
class TrainingResult:
    """How a call to ``train`` ended: ``status`` is "finished", "early_stopped" or "budget_spent"."""

    status: str
    epochs: int
    best_validation: dict[str, float]
    history: list[dict[str, Any]] = field(default_factory=list)
    output: Path | None = None


@dataclass
class _Progress:
    """Where the run is; saved in the training state."""

    epoch: int = 0
    step_in_epoch: int = 0
    train_sums: list[float] = field(default_factory=lambda: [0.0] * 6)
    best_force_mae: float = math.inf
    best_epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    elapsed: float = 0.0
    invocations: list[dict[str, Any]] = field(default_factory=list)
    """One entry per invocation (the first run, then every resume): its ``command`` line (may be
    empty), the ``hardware`` it ran on and the ``first_epoch`` it trained."""


class _Processes:
    """This process's place under torchrun (a single process otherwise)."""

    def __init__(self) -> None:
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def start(self, device: torch.device) -> None:
        if self.distributed and not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.distributed:
            dist.all_reduce(tensor)
        return tensor

    def average_gradients(self, model: torch.nn.Module) -> None:
        if not self.distributed:
            return
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world_size
        torch.nn.utils.vector_to_parameters(flat, grads)

    def stop(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


def train(
    config: TrainingConfig,
    output: str | os.PathLike,
    resume: bool = False,
    progress: bool = True,
    command: str | None = None,
) -> TrainingResult:
    """Train as ``config`` says, writing into ``output``; ``resume=True`` continues a saved run there.

    ``command`` (the command line, if any) is kept in the run's provenance.
    """
    output = Path(output)
    processes = _Processes()
    device = _training_device(config.device, processes.local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    processes.start(device)
    try:
        return _Run(config, output, resume, processes, device, progress, command).run()
    finally:
        processes.stop()


class _Run:
    def __init__(
        self,
        config: TrainingConfig,
        output: Path,
        resume: bool,
        processes: _Processes,
        device: torch.device,
        progress: bool,
        command: str | None,
    ) -> None:
        self.config, self.output, self.processes, self.device = config, output, processes, device
        self.show_progress = progress and processes.rank == 0
        self.dtype = DTYPES[config.dtype]
        if config.cuda_graphs and (device.type != "cuda" or processes.distributed):
            raise GeoFormerError(
                f"cuda_graphs needs a single CUDA device, but this run has {processes.world_size} process(es) on "
                f"{device}: train without --cuda-graphs, or on one GPU"
            )
        state_path = output / STATE_FILE
        if state_path.exists() and not resume:
            raise GeoFormerError(
                f"{output} already holds a training run ({STATE_FILE}); pass --resume to continue it, or choose "
                "another --output folder"
            )
        if resume and not state_path.exists():
            raise GeoFormerError(f"nothing to resume: {state_path} does not exist (start a new run without --resume)")

        train_set, validation_set = load_training_data(config)
        self.species = tuple(sorted(set(train_set.species) | set(validation_set.species)))
        self.baseline = EnergyBaseline.fit(train_set, self.species)
        self.train_source = SampleSource(train_set, self.baseline)
        self.validation_source = SampleSource(validation_set, self.baseline)
        self.data_description = {"train": train_set.source, "validation": validation_set.source,
                                 "num_train": len(train_set), "num_validation": len(validation_set)}

        torch.manual_seed(config.seed)
        self.model = GeoFormer(config.model_config(self.species)).to(device=device, dtype=self.dtype)
        self.model.readout.set_energy_statistics(force_rms(train_set), 0.0, [0.0] * len(self.species))
        self.ema = AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        self.steps_per_epoch = self._steps_per_epoch()
        self.schedule = WarmupThenDecay(
            self.optimizer,
            base_lr=config.learning_rate,
            warmup_steps=config.warmup_epochs * self.steps_per_epoch,
            kind=config.scheduler,
            factor=config.decay_factor,
            patience=config.decay_patience,
            min_lr=config.min_learning_rate,
            total_epochs=config.max_epochs,
        )
        self.gradients: EagerGradients | CapturedGradients | None = None
        """Made at the first step: a CUDA graph is recorded on a real batch."""
        self.state = _Progress()
        if resume:
            self._load_state(state_path)
        else:
            if processes.rank == 0:
                output.mkdir(parents=True, exist_ok=True)
            self._record_untrained()
        self.state.invocations.append({
            "command": command,
            "hardware": _hardware(self.device, processes.world_size),
            "first_epoch": self.state.epoch + 1,
        })
        if processes.rank == 0:
            config.save(output / CONFIG_FILE)

    def run(self) -> TrainingResult:
        config, state = self.config, self.state
        start = time.monotonic()
        elapsed_before = state.elapsed
        last_save = start
        status = "finished"
        while state.epoch < config.max_epochs:
            order = np.random.default_rng([config.seed, state.epoch]).permutation(len(self.train_source))
            bar = tqdm(
                total=self.steps_per_epoch,
                initial=state.step_in_epoch,
                desc=f"epoch {state.epoch + 1}",
                unit="batch",
                disable=not self.show_progress,
                file=sys.stderr,
                leave=False,
            )
            while state.step_in_epoch < self.steps_per_epoch:
                indices = order[state.step_in_epoch * config.batch_size : (state.step_in_epoch + 1) * config.batch_size]
                sums = self._train_step(indices, state.epoch, state.step_in_epoch)
                state.step_in_epoch += 1
                now = time.monotonic()
                state.elapsed = elapsed_before + now - start
                over_budget = config.time_budget is not None and now - start > config.time_budget
                flags = self.processes.sum(torch.cat([sums, sums.new_tensor([float(over_budget and self.processes.rank == 0)])]))
                state.train_sums = [a + float(b) for a, b in zip(state.train_sums, flags[:6])]
                bar.update()
                bar.set_postfix(force_mae=f"{1000 * state.train_sums[3] / max(state.train_sums[5], 1):.1f} meV/Å")
                if flags[6] > 0:
                    bar.close()
                    self._save_state()
                    return self._result("budget_spent")
                if now - last_save > config.save_interval:
                    self._save_state()
                    last_save = now
            bar.close()
            stop = self._end_epoch()
            self._save_state()
            last_save = time.monotonic()
            if stop:
                status = "early_stopped"
                break
        return self._result(status)

    def _steps_per_epoch(self) -> int:
        """Full batches only, so that every process gets an equal share of each batch."""
        steps = len(self.train_source) // self.config.batch_size
        if steps == 0 or self.config.batch_size % self.processes.world_size:
            raise GeoFormerError(
                f"batch_size {self.config.batch_size} must be a multiple of the {self.processes.world_size} processes "
                f"and at most the {len(self.train_source)} training frames"
            )
        return steps

    def _train_step(self, indices: np.ndarray, epoch: int, step: int) -> torch.Tensor:
        config, processes = self.config, self.processes
        rng = np.random.default_rng([config.seed, epoch, step, 1])
        samples = [self.train_source.sample(i) for i in indices]
        if config.molecule_mixing:
            partners = rng.integers(len(self.train_source), size=len(samples))
            mixed = rng.random(len(samples)) < config.mixing_fraction
            separation = self.model.r_max + MIXING_SEPARATION
            samples = [
                mix_molecules(s, self.train_source.sample(p), separation, rng) if m else s
                for s, p, m in zip(samples, partners, mixed)
            ]
        local = samples[processes.rank :: processes.world_size]
        batch = collate(local, self.species, self.device, self.dtype)
        self.model.train()
        if self.gradients is None and config.cuda_graphs:
            self.gradients = CapturedGradients(self.model, self._loss, batch)
        elif self.gradients is None:
            self.gradients = EagerGradients(self.model, self._loss)
        energy, forces = self.gradients(batch)
        processes.average_gradients(self.model)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.gradient_clip)
        self.optimizer.step()
        self.ema.update_parameters(self.model)
        self.schedule.step()
        return error_sums(energy, forces, batch).cpu()

    def _loss(self, batch: LabelledBatch) -> LossAndPredictions:
        return energy_force_loss(self.model, batch, self.config.energy_weight, self.config.force_weight)

    def _validate(self) -> dict[str, float]:
        return evaluate_samples(self.ema.module, self.validation_source, 32, self.device, self.dtype)

    def _record_untrained(self) -> None:
        """Epoch 0 of the metrics: the validation error before any training step."""
        validation = self._validate()
        self.state.history.append({
            "epoch": 0,
            "elapsed_s": 0.0,
            "learning_rate": self.schedule.learning_rate,
            "validation_energy_mae_meV": validation["energy_mae_meV"],
            "validation_force_mae_meV_per_A": validation["force_mae_meV_per_A"],
        })

    def _end_epoch(self) -> bool:
        """Validate, log, keep the best model, decay the learning rate; True to stop early."""
        state = self.state
        state.epoch += 1
        validation = self._validate()
        training = error_metrics(state.train_sums)
        record = {
            "epoch": state.epoch,
            "elapsed_s": round(state.elapsed, 2),
            "learning_rate": self.schedule.learning_rate,
            "train_energy_mae_meV": training["energy_mae_meV"],
            "train_force_mae_meV_per_A": training["force_mae_meV_per_A"],
            "validation_energy_mae_meV": validation["energy_mae_meV"],
            "validation_force_mae_meV_per_A": validation["force_mae_meV_per_A"],
        }
        state.history.append(record)
        state.train_sums = [0.0] * 6
        state.step_in_epoch = 0
        force_mae = validation["force_mae_meV_per_A"]
        if force_mae < state.best_force_mae:
            state.best_force_mae, state.best_epoch = force_mae, state.epoch
            if self.processes.rank == 0:
                save_checkpoint(self.output / BEST_FILE, self.export_model(), self._provenance(), {"validation": validation})
        self.schedule.end_epoch(state.epoch, force_mae)
        if self.processes.rank == 0:
            atomic_write_text(self.output / METRICS_FILE, "".join(json.dumps(r) + "\n" for r in state.history))
            tqdm.write(
                f"epoch {state.epoch}: validation force MAE {force_mae:.2f} meV/Å, energy MAE "
                f"{validation['energy_mae_meV']:.2f} meV (best {state.best_force_mae:.2f} at epoch {state.best_epoch}), "
                f"lr {self.schedule.learning_rate:.2e}, {state.elapsed / 60:.1f} min",
                file=sys.stderr,
            )
        return self._should_stop()

    def _should_stop(self) -> bool:
        state, config = self.state, self.config
        if state.epoch - state.best_epoch >= config.early_stopping_patience:
            return True
        return config.scheduler == "plateau" and self.schedule.learning_rate <= config.min_learning_rate * (1 + 1e-9)

    def export_model(self) -> GeoFormer:
        """A copy of the EMA model that predicts total energies (the baseline moved into its readout)."""
        model = copy.deepcopy(self.ema.module).cpu().float()
        scale = float(self.model.readout.scale)
        model.readout.set_energy_statistics(scale, 0.0, self.baseline.reference_energies)
        return model

    def _provenance(self) -> dict[str, Any]:
        return {
            "training_config": self.config.to_dict(),
            "data": self.data_description,
            "epochs": self.state.epoch,
            "best_epoch": self.state.best_epoch,
            "training_time_s": round(self.state.elapsed, 1),
            "hardware": self.state.invocations[-1]["hardware"],
            "torch": torch.__version__,
            "commands": [i["command"] for i in self.state.invocations if i["command"]],
            "invocations": list(self.state.invocations),
        }

    def _result(self, status: str) -> TrainingResult:
        best = min((r for r in self.state.history if r["epoch"] > 0), key=lambda r: r["validation_force_mae_meV_per_A"], default={})
        return TrainingResult(status, self.state.epoch, best, list(self.state.history), self.output)

    def _save_state(self) -> None:
        if self.processes.rank != 0:
            return
        state = self.state
        content = {
            "format": STATE_FORMAT,
            "config": self.config.to_dict(),
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "epoch": state.epoch,
            "step_in_epoch": state.step_in_epoch,
            "train_sums": state.train_sums,
            "best_force_mae": state.best_force_mae,
            "best_epoch": state.best_epoch,
            "history": json.dumps(state.history),
            "elapsed": state.elapsed,
            "invocations": json.dumps(state.invocations),
        }
        with atomic_path(self.output / STATE_FILE) as temporary:
            torch.save(content, temporary)

    def _load_state(self, path: Path) -> None:
        try:
            content = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as error:
            raise GeoFormerError(f"{path} cannot be read ({type(error).__name__}: {error}); the run cannot be resumed") from error
        if not isinstance(content, dict) or content.get("format") != STATE_FORMAT:
            raise GeoFormerError(f"{path} is not an ase-geoformer training state")
        saved = TrainingConfig.from_dict(content["config"])
        changed = [name for name, value in self.config.to_dict().items()
                   if name not in RESUMABLE_CHANGES and saved.to_dict()[name] != value]
        if changed:
            raise GeoFormerError(
                f"cannot resume {path.parent} with different settings {changed}: only {sorted(RESUMABLE_CHANGES)} may "
                "change on resume (start a new run in another folder to change the rest)"
            )
        self.model.load_state_dict(content["model"])
        self.ema.load_state_dict(content["ema"])
        self.optimizer.load_state_dict(content["optimizer"])
        self.schedule.load_state_dict(content["schedule"])
        self.schedule.start_at(int(content["epoch"]))
        self.state = _Progress(
            epoch=int(content["epoch"]),
            step_in_epoch=int(content["step_in_epoch"]),
            train_sums=[float(x) for x in content["train_sums"]],
            best_force_mae=float(content["best_force_mae"]),
            best_epoch=int(content["best_epoch"]),
            history=json.loads(content["history"]),
            elapsed=float(content["elapsed"]),
            invocations=_saved_invocations(content),
        )


def _saved_invocations(content: dict[str, Any]) -> list[dict[str, Any]]:
    """The invocations of a saved state; states written before hardware was recorded per
    invocation hold only the command lines, and their hardware is "not recorded"."""
    if "invocations" in content:
        return json.loads(content["invocations"])
    return [{"command": c, "hardware": "not recorded", "first_epoch": None} for c in json.loads(content.get("commands", "[]"))]


RESUMABLE_CHANGES = frozenset({
    "time_budget", "max_epochs", "early_stopping_patience", "save_interval", "device",
    "scheduler", "decay_factor", "decay_patience", "min_learning_rate", "cuda_graphs", "data_dir",
})
"""Settings a resumed run may change: its length and budget, where it runs and finds its rMD17 files
(``data_dir``: another copy of the same files), and how the learning rate decays from here on."""


def load_training_data(config: TrainingConfig) -> tuple[AtomsDataset, AtomsDataset]:
    """The training and validation datasets that ``config`` names."""
    from ase_geoformer import rmd17

    if config.molecule is not None:
        split = rmd17.standard_split(config.molecule, config.data_dir, config.split_seed, config.num_train, config.num_validation)
        return split.train, split.validation
    pool = read_dataset(config.train_file)
    if config.validation_file is not None:
        return pool, read_dataset(config.validation_file)
    train, validation = rmd17.split_indices(len(pool), min(config.num_train, len(pool) - config.num_validation), config.num_validation, config.split_seed)
    return pool.subset(train), pool.subset(validation)


def _training_device(requested: str | None, local_rank: int) -> torch.device:
    """``None`` or ``"cuda"``: this process's GPU (``cuda:<local rank>``) when there is one; else as given."""
    if requested in (None, "cuda"):
        if torch.cuda.is_available():
            return torch.device(f"cuda:{local_rank}")
        if requested == "cuda":
            raise GeoFormerError("device 'cuda' was requested but CUDA is not available; use --device cpu")
        return torch.device("cpu")
    return torch.device(requested)


def _hardware(device: torch.device, processes: int) -> str:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"{_cpu_name()}, {torch.get_num_threads()} threads"
    return f"{processes} x {name}" if processes > 1 else name


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
