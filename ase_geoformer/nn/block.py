"""One GeoFormer block: four attention modules and two feed-forward nets, pre-norm with residuals."""

from __future__ import annotations

import torch
from torch import nn

from ase_geoformer.config import GeoFormerConfig
from ase_geoformer.nn.attention import (
    AttentionContext,
    EquivariantCrossAttention,
    EquivariantSelfAttention,
    InvariantCrossAttention,
    InvariantSelfAttention,
)
from ase_geoformer.nn.feedforward import EquivariantFeedForward, InvariantFeedForward
from ase_geoformer.nn.graph import Graph
from ase_geoformer.nn.norm import EquivariantLayerNorm
from ase_geoformer.nn.radial import DistanceGate


class GeoFormerBlock(nn.Module):
    """Updates ``(h, V)``::

        h' = h + InvSelf(LN(h)) + InvCross(LN(h), EqLN(V))
        V' = V + EquSelf(EqLN(V)) + EquCross(EqLN(V), LN(h))
        h'' = h' + InvFFN(LN(h'))
        V'' = V' + EquFFN(EqLN(V'), LN(h'))

    Every attention weight is multiplied by this block's learned gate ``psi(d)^2``.
    """

    def __init__(self, config: GeoFormerConfig) -> None:
        super().__init__()
        c, heads, hidden = config.channels, config.num_heads, config.ffn_multiplier * config.channels
        self.gate = DistanceGate(config.num_radial, config.gate_hidden)
        self.attention_norm = nn.LayerNorm(c)
        self.attention_vector_norm = EquivariantLayerNorm(c)
        self.invariant_self_attention = InvariantSelfAttention(c, heads, config.num_radial)
        self.equivariant_self_attention = EquivariantSelfAttention(c, heads)
        self.invariant_cross_attention = InvariantCrossAttention(c, heads)
        self.equivariant_cross_attention = EquivariantCrossAttention(c, heads)
        self.feedforward_norm = nn.LayerNorm(c)
        self.feedforward_vector_norm = EquivariantLayerNorm(c)
        self.invariant_feedforward = InvariantFeedForward(c, hidden)
        self.equivariant_feedforward = EquivariantFeedForward(c, hidden)

    def forward(
        self,
        h: torch.Tensor,
        vectors: torch.Tensor,
        graph: Graph,
        radial: torch.Tensor,
        cutoff: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        context = AttentionContext(graph, radial, cutoff, self.gate(radial))
        h_norm, v_norm = self.attention_norm(h), self.attention_vector_norm(vectors)
        inv_self = self.invariant_self_attention.scores(h_norm, context)
        inv_cross = self.invariant_cross_attention.scores(h_norm, v_norm, context)
        equ_self = self.equivariant_self_attention.scores(v_norm, context)
        equ_cross = self.equivariant_cross_attention.scores(v_norm, h_norm, context)
        w_inv_self, w_inv_cross, w_equ_self, w_equ_cross = context.weights(
            inv_self.logits, inv_cross.logits, equ_self.logits, equ_cross.logits
        )
        h = (
            h
            + self.invariant_self_attention(w_inv_self, inv_self, context)
            + self.invariant_cross_attention(w_inv_cross, inv_cross, context)
        )
        vectors = (
            vectors
            + self.equivariant_self_attention(w_equ_self, equ_self, context)
            + self.equivariant_cross_attention(w_equ_cross, equ_cross, context)
        )
        h_norm = self.feedforward_norm(h)
        h = h + self.invariant_feedforward(h_norm)
        vectors = vectors + self.equivariant_feedforward(self.feedforward_vector_norm(vectors), h_norm)
        return h, vectors
