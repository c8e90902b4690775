"""ase-geoformer: an ASE calculator for the GeoFormer equivariant dual-stream transformer force field."""

from ase_geoformer.batched import evaluate_structures
from ase_geoformer.batch import DenseBatch, NeighbourListBatch, dense_batch, neighbour_list_batch
from ase_geoformer.calculator import GeoFormerCalculator
from ase_geoformer.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from ase_geoformer.config import GeoFormerConfig
from ase_geoformer.errors import (
    CheckpointError,
    GeoFormerError,
    InvalidStructureError,
    ModelNotFoundError,
    UnsupportedElementError,
)
from ase_geoformer.nn.committee import GeoFormerCommittee
from ase_geoformer.nn.model import GeoFormer
from ase_geoformer.predict import predict
from ase_geoformer.zoo import shipped_models

__version__ = "0.1.0"

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "DenseBatch",
    "GeoFormer",
    "GeoFormerCalculator",
    "GeoFormerCommittee",
    "GeoFormerConfig",
    "GeoFormerError",
    "InvalidStructureError",
    "ModelNotFoundError",
    "NeighbourListBatch",
    "UnsupportedElementError",
    "dense_batch",
    "evaluate_structures",
    "load_checkpoint",
    "neighbour_list_batch",
    "predict",
    "save_checkpoint",
    "shipped_models",
]
