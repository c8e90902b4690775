"""Training GeoFormer models on energies and forces: config, batches, schedule, the loop, the command."""

from ase_geoformer.training.config import TrainingConfig
from ase_geoformer.training.trainer import TrainingResult, train

__all__ = ["TrainingConfig", "TrainingResult", "train"]
