"""The four attention modules of a GeoMFormer block, with GeoT's learned distance gating.

Notation: ``h`` invariant features ``(..., C)``; ``V`` equivariant features ``(..., 3, C)``;
H heads of width D = C / H. Every module computes logits ``l_ij`` for the pairs of the
graph, turns them into attention weights

    a_ij = psi(d_ij)^2 * c(d_ij) exp(l_ij) / (1 + sum_k c(d_ik) exp(l_ik))

(``AttentionContext.weights``; c the envelope, psi^2 the block's learned gate) and returns
an update ``sum_j a_ij v_j`` for its stream. A module works in two steps: ``scores`` gives its
logits and values, and ``forward`` turns the weights into the update; between them the block
runs one softmax for all four modules. Invariant outputs feed ``h``; equivariant
outputs are built only from linear maps of V without bias, times invariants, so they rotate
with the structure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from ase_geoformer.nn.graph import Graph
from ase_geoformer.nn.heads import merge_heads, merge_vector_heads, split_heads, split_vector_heads


class AttentionScores(NamedTuple):
    """What a module hands to the shared softmax and gets back to aggregate.

    Attributes:
        logits: ``(P..., H)``.
        values: one per sending atom, ``(..., H, D)``.
    """

    logits: torch.Tensor
    values: torch.Tensor


@dataclass
class AttentionContext:
    """What the attention modules of one block share about the pairs.

    Attributes:
        graph: the dense or neighbour-list graph.
        radial: radial basis of each pair, ``(P..., K)``.
        cutoff: envelope ``c(d_ij)``, ``(P...)``.
        gate: the block's learned gate ``psi(d_ij)^2``, ``(P..., 1)``.
    """

    graph: Graph
    radial: torch.Tensor
    cutoff: torch.Tensor
    gate: torch.Tensor

    def weights(self, *logits: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Gated attention weights ``(P..., H)`` for each module's logits ``(P..., H)``.

        The softmax acts per head, so the modules' logits go through it side by side in one
        call: each module gets exactly the weights it would get alone, at a quarter of the
        operations (the eager hot path is bound by the number of operations).
        """
        joint = self.graph.softmax(torch.cat(logits, dim=-1), self.cutoff) * self.gate
        return joint.split([part.shape[-1] for part in logits], dim=-1)


class InvariantSelfAttention(nn.Module):
    """Inv-Self-Attn: h attends to h; logit ``q_i . k_j / sqrt(D)`` plus a per-head radial bias."""

    def __init__(self, channels: int, num_heads: int, num_radial: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.query = nn.Linear(channels, channels)
        self.key = nn.Linear(channels, channels)
        self.value = nn.Linear(channels, channels)
        self.radial_bias = nn.Linear(num_radial, num_heads, bias=False)
        self.output = nn.Linear(channels, channels)

    def scores(self, h: torch.Tensor, context: AttentionContext) -> AttentionScores:
        q = split_heads(self.query(h), self.num_heads)
        k = split_heads(self.key(h), self.num_heads)
        v = split_heads(self.value(h), self.num_heads)
        logits = context.graph.dot(q, k) / math.sqrt(q.shape[-1]) + self.radial_bias(context.radial)
        return AttentionScores(logits, v)

    def forward(self, weights: torch.Tensor, scores: AttentionScores, context: AttentionContext) -> torch.Tensor:
        """Update of h, ``(..., C)``, from this module's weights and values."""
        return self.output(merge_heads(context.graph.aggregate(weights, scores.values)))


class EquivariantSelfAttention(nn.Module):
    """Equ-Self-Attn: V attends to V; logit ``sum_{xyz, c} Q_i K_j / sqrt(3 D)``, output ``sum_j a_ij V_j``."""

    def __init__(self, channels: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.query = nn.Linear(channels, channels, bias=False)
        self.key = nn.Linear(channels, channels, bias=False)
        self.value = nn.Linear(channels, channels, bias=False)
        self.output = nn.Linear(channels, channels, bias=False)

    def scores(self, vectors: torch.Tensor, context: AttentionContext) -> AttentionScores:
        q = split_vector_heads(self.query(vectors), self.num_heads)
        k = split_vector_heads(self.key(vectors), self.num_heads)
        v = split_vector_heads(self.value(vectors), self.num_heads)
        return AttentionScores(context.graph.dot(q, k) / math.sqrt(q.shape[-1]), v)

    def forward(self, weights: torch.Tensor, scores: AttentionScores, context: AttentionContext) -> torch.Tensor:
        """Update of V, ``(..., 3, C)``."""
        return self.output(merge_vector_heads(context.graph.aggregate(weights, scores.values)))


class InvariantCrossAttention(nn.Module):
    """Inv-Cross-Attn: h attends to V; keys and values are ``<W_1 V_j, W_2 V_j>`` per channel."""

    def __init__(self, channels: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.query = nn.Linear(channels, channels)
        self.key_left = nn.Linear(channels, channels, bias=False)
        self.key_right = nn.Linear(channels, channels, bias=False)
        self.value_left = nn.Linear(channels, channels, bias=False)
        self.value_right = nn.Linear(channels, channels, bias=False)
        self.output = nn.Linear(channels, channels)

    def scores(self, h: torch.Tensor, vectors: torch.Tensor, context: AttentionContext) -> AttentionScores:
        q = split_heads(self.query(h), self.num_heads)
        k = split_heads((self.key_left(vectors) * self.key_right(vectors)).sum(-2), self.num_heads)
        v = split_heads((self.value_left(vectors) * self.value_right(vectors)).sum(-2), self.num_heads)
        return AttentionScores(context.graph.dot(q, k) / math.sqrt(q.shape[-1]), v)

    def forward(self, weights: torch.Tensor, scores: AttentionScores, context: AttentionContext) -> torch.Tensor:
        """Update of h, ``(..., C)``."""
        return self.output(merge_heads(context.graph.aggregate(weights, scores.values)))


class EquivariantCrossAttention(nn.Module):
    """Equ-Cross-Attn: V attends to h; keys and values are ``(W V_j) * (W' h_j)``, scalars broadcast over xyz."""

    def __init__(self, channels: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.query = nn.Linear(channels, channels, bias=False)
        self.key_vector = nn.Linear(channels, channels, bias=False)
        self.key_scalar = nn.Linear(channels, channels)
        self.value_vector = nn.Linear(channels, channels, bias=False)
        self.value_scalar = nn.Linear(channels, channels)
        self.output = nn.Linear(channels, channels, bias=False)

    def scores(self, vectors: torch.Tensor, h: torch.Tensor, context: AttentionContext) -> AttentionScores:
        q = split_vector_heads(self.query(vectors), self.num_heads)
        k = split_vector_heads(self.key_vector(vectors) * self.key_scalar(h).unsqueeze(-2), self.num_heads)
        v = split_vector_heads(self.value_vector(vectors) * self.value_scalar(h).unsqueeze(-2), self.num_heads)
        return AttentionScores(context.graph.dot(q, k) / math.sqrt(q.shape[-1]), v)

    def forward(self, weights: torch.Tensor, scores: AttentionScores, context: AttentionContext) -> torch.Tensor:
        """Update of V, ``(..., 3, C)``."""
        return self.output(merge_vector_heads(context.graph.aggregate(weights, scores.values)))
