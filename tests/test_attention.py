"""The block's shared softmax gives each attention module the weights it would get alone."""

from __future__ import annotations

import torch

from ase_geoformer.batch import dense_batch, neighbour_list_batch
from ase_geoformer.nn.attention import AttentionContext
from conftest import SPECIES


def _contexts(model, atoms):
    dense = dense_batch([atoms], SPECIES, "cpu", torch.float64).graph(model.r_max)
    sparse = neighbour_list_batch([atoms], SPECIES, model.r_max, "cpu", torch.float64).graph(model.r_max)
    for graph in (dense, sparse):
        radial = model.radial_basis(graph.distances)
        gate = model.blocks[0].gate(radial)
        yield AttentionContext(graph, radial, model.envelope(graph.distances), gate)


def test_joint_softmax_equals_one_module_at_a_time(model, glycine):
    torch.manual_seed(3)
    for context in _contexts(model, glycine):
        pair_shape = context.cutoff.shape
        logits = [10.0 * torch.randn(*pair_shape, 4, dtype=torch.float64) for _ in range(3)]
        together = context.weights(*logits)
        for part, joint in zip(logits, together):
            (alone,) = context.weights(part)
            assert torch.equal(joint, alone)
        assert not torch.equal(together[0], together[1])
