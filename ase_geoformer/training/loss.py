"""The training loss on energies and forces of a labelled batch."""

from __future__ import annotations

from typing import NamedTuple

import torch

from ase_geoformer.labelled import LabelledBatch
from ase_geoformer.nn.model import GeoFormer
from ase_geoformer.predict import predict


class LossAndPredictions(NamedTuple):
    """``loss`` (scalar, differentiable), predicted ``energy (B,)`` eV and ``forces (B, N, 3)`` eV/Å (detached)."""

    loss: torch.Tensor
    energy: torch.Tensor
    forces: torch.Tensor


def energy_force_loss(
    model: GeoFormer, batch: LabelledBatch, energy_weight: float, force_weight: float
) -> LossAndPredictions:
    """``energy_weight * mean((dE / n_atoms)^2) + force_weight * mean(dF^2)`` (eV, eV/Å), padding excluded.

    Forces come from autograd with ``create_graph=True``, so the loss differentiates through them.
    """
    output = predict(model, batch.inputs, compute_forces=True, create_graph=True)
    energy_loss = ((output["energy"] - batch.energies) / batch.num_atoms).pow(2).mean()
    force_loss = (output["forces"] - batch.forces).pow(2).sum() / (3 * batch.num_atoms.sum())
    loss = energy_weight * energy_loss + force_weight * force_loss
    return LossAndPredictions(loss, output["energy"].detach(), output["forces"].detach())
