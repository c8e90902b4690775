"""The two execution paths of the model: pair operations on dense or neighbour-list graphs.

Every module of the model talks to atoms and pairs only through the methods below, so the
same module code runs on both paths:

- ``DenseAtomGraph``: all pairs of a padded batch of molecules. Node tensors are
  ``(B, N, ...)``, pair tensors ``(B, N, N, ...)`` indexed ``[b, i, j]``.
- ``NeighbourListGraph``: pairs within ``r_max`` from a neighbour list, possibly periodic.
  Node tensors are ``(N, ...)``, pair tensors ``(E, ...)``.

For a pair, ``i`` is the receiving atom and ``j`` the sending one; ``vectors`` hold
``r_ij = r_j - r_i`` (Å) and ``distances`` ``|r_ij|``. Pairs that do not exist (an atom with
itself, padding) are given a dummy distance beyond ``r_max``, so the envelope weighs them 0
exactly and every sum over them adds exact zeros: both paths give the same numbers.
"""

from __future__ import annotations

import torch


def _masked_logits(logits: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Logits of pairs with zero weight set to -inf, so that they can never overflow."""
    return logits.masked_fill(weights == 0, float("-inf"))


def pair_mask_of(atom_mask: torch.Tensor) -> torch.Tensor:
    """``(B, N) -> (B, N, N)``: pairs of two different real atoms (no padding, no self pairs)."""
    n = atom_mask.shape[1]
    exists = atom_mask[:, :, None] & atom_mask[:, None, :]
    return exists & ~torch.eye(n, dtype=torch.bool, device=atom_mask.device)


class DenseAtomGraph:
    """All pairs within each molecule of a padded batch.

    Args:
        positions: ``(B, N, 3)`` Å.
        pair_mask: ``(B, N, N)`` bool, True for the pairs that exist (``pair_mask_of``).
        dummy_distance: distance given to pairs that do not exist; must be >= ``r_max``.
    """

    def __init__(self, positions: torch.Tensor, pair_mask: torch.Tensor, dummy_distance: float) -> None:
        vectors = positions[:, None, :, :] - positions[:, :, None, :]
        # [dummy_distance, 0, 0] made on the device (no copy from the host, so CUDA graphs can record it).
        dummy = torch.nn.functional.pad(positions.new_full((1,), dummy_distance), (0, 2))
        self.vectors = torch.where(pair_mask[..., None], vectors, dummy)
        self.distances = self.vectors.square().sum(-1).sqrt()

    def dot(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``(B, N, H, D), (B, N, H, D) -> (B, N, N, H)``: ``q_i . k_j`` per head."""
        return torch.einsum("bihd,bjhd->bijh", queries, keys)

    def softmax(self, logits: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Attention ``w_ij exp(l_ij) / (1 + sum_k w_ik exp(l_ik))`` over neighbours j.

        ``logits (B, N, N, H)``, ``weights (B, N, N)`` non-negative (the envelope). The 1 in
        the denominator (a sink of logit 0) keeps the weights smooth as the last neighbour
        leaves and defined for an isolated atom.
        """
        w = weights[..., None]
        masked = _masked_logits(logits, w)
        shift = masked.amax(dim=2, keepdim=True).clamp(min=0.0).detach()
        numerators = w * torch.exp(masked - shift)
        return numerators / (torch.exp(-shift) + numerators.sum(dim=2, keepdim=True))

    def aggregate(self, attention: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """``(B, N, N, H), (B, N, H, D) -> (B, N, H, D)``: ``sum_j a_ij v_j``."""
        return torch.einsum("bijh,bjhd->bihd", attention, values)

    def sum_over_neighbours(self, pair_values: torch.Tensor) -> torch.Tensor:
        """``(B, N, N, ...) -> (B, N, ...)``: ``sum_j x_ij``."""
        return pair_values.sum(dim=2)

    def of_senders(self, node_values: torch.Tensor) -> torch.Tensor:
        """``(B, N, C) -> (B, 1, N, C)``: ``x_j`` for every pair, broadcasting over receivers i."""
        return node_values[:, None]


class NeighbourListGraph:
    """Pairs from a neighbour list (any cell, periodic or not).

    Args:
        vectors: ``(E, 3)`` Å, ``r_j - r_i`` including the periodic image shift.
        receivers: ``(E,)`` index i of each pair.
        senders: ``(E,)`` index j of each pair.
        num_atoms: N, the number of atoms (nodes).
    """

    def __init__(self, vectors: torch.Tensor, receivers: torch.Tensor, senders: torch.Tensor, num_atoms: int) -> None:
        self.vectors = vectors
        self.distances = vectors.square().sum(-1).sqrt()
        self.receivers = receivers
        self.senders = senders
        self.num_atoms = num_atoms

    def _sum_to_receivers(self, pair_values: torch.Tensor) -> torch.Tensor:
        out = pair_values.new_zeros((self.num_atoms, *pair_values.shape[1:]))
        return out.index_add(0, self.receivers, pair_values)

    def dot(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``(N, H, D), (N, H, D) -> (E, H)``: ``q_i . k_j`` per head."""
        return (queries[self.receivers] * keys[self.senders]).sum(-1)

    def softmax(self, logits: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Same as ``DenseAtomGraph.softmax``; ``logits (E, H)``, ``weights (E,)``."""
        w = weights[:, None]
        masked = _masked_logits(logits, w)
        shift = logits.new_zeros((self.num_atoms, logits.shape[1]))
        index = self.receivers[:, None].expand_as(masked)
        shift = shift.scatter_reduce(0, index, masked.detach(), reduce="amax", include_self=True)
        numerators = w * torch.exp(masked - shift[self.receivers])
        denominators = torch.exp(-shift) + self._sum_to_receivers(numerators)
        return numerators / denominators[self.receivers]

    def aggregate(self, attention: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """``(E, H), (N, H, D) -> (N, H, D)``: ``sum_j a_ij v_j``."""
        return self._sum_to_receivers(attention[..., None] * values[self.senders])

    def sum_over_neighbours(self, pair_values: torch.Tensor) -> torch.Tensor:
        """``(E, ...) -> (N, ...)``: ``sum_j x_ij``."""
        return self._sum_to_receivers(pair_values)

    def of_senders(self, node_values: torch.Tensor) -> torch.Tensor:
        """``(N, C) -> (E, C)``: ``x_j`` for every pair."""
        return node_values[self.senders]


Graph = DenseAtomGraph | NeighbourListGraph
