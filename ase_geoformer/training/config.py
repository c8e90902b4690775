"""``TrainingConfig``: every setting of a training run, round-tripping to YAML/JSON and the checkpoint."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from ase_geoformer.config import GeoFormerConfig
from ase_geoformer.io_utils import read_mapping, write_mapping


@dataclass
class TrainingConfig:
    """Settings of a training run (units: eV, Å, seconds).

    The loss is ``energy_weight * mean((dE / n_atoms)^2) + force_weight * mean(dF^2)`` (eV, eV/Å).

    Attributes:
        molecule: rMD17 molecule to train on (standard split of train_01); give this or ``train_file``.
        data_dir: rMD17 folder (default ``$ASE_GEOFORMER_RMD17``).
        train_file: any file ``read_dataset`` reads (npz, extxyz, HDF5); give this or ``molecule``.
        validation_file: validation frames; without it ``num_validation`` frames of the training pool.
        num_train: training frames taken from the pool.
        num_validation: validation frames taken from the pool.
        split_seed: seed of the train/validation split.
        model: GeoFormerConfig settings other than ``species`` (species come from the training data).
        energy_weight: weight of the per-atom energy term of the loss.
        force_weight: weight of the force term of the loss.
        batch_size: frames per optimiser step.
        learning_rate: peak AdamW learning rate, reached after the warm-up.
        weight_decay: AdamW weight decay.
        gradient_clip: largest gradient norm; larger gradients are scaled down to it.
        warmup_epochs: epochs of linear learning-rate warm-up.
        scheduler: "plateau" (multiply by ``decay_factor`` after ``decay_patience`` epochs without a
            better validation force MAE) or "cosine" (to ``min_learning_rate`` at ``max_epochs``).
        decay_factor: learning-rate factor of each plateau decay.
        decay_patience: epochs without a better validation force MAE before a plateau decay.
        min_learning_rate: floor of the plateau decays; end of the cosine.
        max_epochs: epochs of the whole run (and length of the cosine).
        early_stopping_patience: stop after this many epochs without a better validation force MAE.
        ema_decay: decay of the exponential moving average of the weights that is validated and saved.
        molecule_mixing: GeoT augmentation: replace a fraction of samples by two frames placed far apart.
        mixing_fraction: fraction of samples replaced by mixed pairs.
        time_budget: wall-clock seconds for this invocation; the run saves its state and stops when
            they are spent.
        save_interval: seconds between saves of the resumable training state (also saved at every
            epoch end).
        device: "cpu", "cuda", "cuda:1", ...; default CUDA when there is one.
        cuda_graphs: record the gradient pass once as a CUDA graph and replay it (one CUDA device,
            molecules of one size, no molecule mixing); the same training, several times faster on
            small molecules.
        dtype: "float32" or "float64" for training; checkpoints are saved in float32.
        seed: seed of the initial weights, batch order and augmentation.
    """

    molecule: str | None = None
    data_dir: str | None = None
    train_file: str | None = None
    validation_file: str | None = None
    num_train: int = 950
    num_validation: int = 50
    split_seed: int = 0
    model: dict[str, Any] = field(default_factory=dict)
    energy_weight: float = 1.0
    force_weight: float = 10.0
    batch_size: int = 8
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    gradient_clip: float = 10.0
    warmup_epochs: int = 5
    scheduler: str = "plateau"
    decay_factor: float = 0.8
    decay_patience: int = 25
    min_learning_rate: float = 1e-6
    max_epochs: int = 3000
    early_stopping_patience: int = 300
    ema_decay: float = 0.999
    molecule_mixing: bool = False
    mixing_fraction: float = 0.5
    time_budget: float | None = None
    save_interval: float = 60.0
    device: str | None = None
    cuda_graphs: bool = False
    dtype: str = "float32"
    seed: int = 0

    def __post_init__(self) -> None:
        if (self.molecule is None) == (self.train_file is None):
            raise ValueError("give exactly one data source: molecule (rMD17 standard split) or train_file")
        if self.scheduler not in ("plateau", "cosine"):
            raise ValueError(f"scheduler must be 'plateau' or 'cosine', got {self.scheduler!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if "species" in self.model:
            raise ValueError("model settings must not give species: they come from the training data")
        known = {f.name for f in dataclasses.fields(GeoFormerConfig)} - {"species"}
        unknown = sorted(set(self.model) - known)
        if unknown:
            raise ValueError(f"unknown model settings {unknown}; known: {sorted(known)}")
        for name in ("batch_size", "max_epochs", "num_train"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.cuda_graphs and self.molecule_mixing:
            raise ValueError(
                "cuda_graphs needs batches of one shape, and molecule_mixing changes the shape from step to step: "
                "turn one of them off"
            )
        if not 0.0 <= self.mixing_fraction <= 1.0:
            raise ValueError(f"mixing_fraction must be in [0, 1], got {self.mixing_fraction}")

    def model_config(self, species: tuple[int, ...]) -> GeoFormerConfig:
        return GeoFormerConfig(species=species, **self.model)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainingConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known settings are {sorted(known)}")
        return cls(**data)

    def save(self, path: str | os.PathLike) -> None:
        """JSON or YAML by file extension, atomically."""
        write_mapping(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrainingConfig":
        return cls.from_dict(read_mapping(path))
