"""The gradient pass of a training step: loss, forces and parameter gradients of one batch.

``EagerGradients`` runs it op by op. ``CapturedGradients`` records it once as a CUDA graph and
replays the recording for every later batch: on molecules of tens of atoms a training step is
bound by the cost of launching its thousands of small operations, not by arithmetic, and a
replay launches them all at once. Both fill each parameter's ``.grad`` and return the
predictions; the optimizer step stays outside, so both give the same training.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ase_geoformer.batch import DenseBatch
from ase_geoformer.errors import GeoFormerError
from ase_geoformer.labelled import LabelledBatch
from ase_geoformer.training.loss import LossAndPredictions

LossFunction = Callable[[LabelledBatch], LossAndPredictions]


def _tensors(batch: LabelledBatch) -> list[torch.Tensor]:
    inputs = batch.inputs
    return [inputs.species, inputs.positions, inputs.atom_mask, inputs.pair_mask, batch.energies, batch.forces, batch.num_atoms]


def _copy(batch: LabelledBatch) -> LabelledBatch:
    species, positions, atom_mask, pair_mask, energies, forces, num_atoms = (t.clone() for t in _tensors(batch))
    return LabelledBatch(DenseBatch(species, positions, atom_mask, pair_mask), energies, forces, num_atoms)


class EagerGradients:
    """Sets ``.grad`` of ``model``'s parameters to the gradient of ``loss(batch)``; returns energy and forces."""

    def __init__(self, model: torch.nn.Module, loss: LossFunction) -> None:
        self.model, self.loss = model, loss

    def __call__(self, batch: LabelledBatch) -> tuple[torch.Tensor, torch.Tensor]:
        self.model.zero_grad(set_to_none=True)
        result = self.loss(batch)
        result.loss.backward()
        return result.energy, result.forces


class CapturedGradients:
    """``EagerGradients`` recorded once as a CUDA graph (on ``example``) and replayed for every batch.

    Every batch must have the shape of ``example`` (same number of structures, same padded atom
    count). The parameters' ``.grad`` tensors belong to the recording: the replay overwrites them,
    so nothing may set them to None while this object is in use. The returned energy ``(B,)`` and
    forces ``(B, N, 3)`` are overwritten by the next call.
    """

    def __init__(self, model: torch.nn.Module, loss: LossFunction, example: LabelledBatch, warmup_steps: int = 3) -> None:
        device = example.energies.device
        if device.type != "cuda":
            raise GeoFormerError(f"CUDA graphs need a CUDA device, but the batch is on {device}; train without cuda_graphs")
        self.model = model
        self.static = _copy(example)
        # Warm-up on a side stream (the recipe of torch.cuda.graphs): lazy initialisation must not be recorded.
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(warmup_steps):
                model.zero_grad(set_to_none=True)
                loss(self.static).loss.backward()
        torch.cuda.current_stream(device).wait_stream(side)
        model.zero_grad(set_to_none=True)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            result = loss(self.static)
            result.loss.backward()
        self.energy, self.forces = result.energy, result.forces

    def __call__(self, batch: LabelledBatch) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = list(zip(_tensors(self.static), _tensors(batch)))
        if any(static.shape != new.shape for static, new in pairs):
            raise GeoFormerError(
                f"CUDA graphs need every training batch in the shape of the first, {tuple(self.static.forces.shape)} "
                f"(structures, atoms, 3), but got {tuple(batch.forces.shape)}: the training set mixes molecule "
                "sizes. Train without cuda_graphs"
            )
        for static, new in pairs:
            static.copy_(new)
        self.graph.replay()
        return self.energy, self.forces
