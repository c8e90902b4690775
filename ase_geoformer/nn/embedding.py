"""Initial features of both streams, built from species and the geometry around each atom."""

from __future__ import annotations

import torch
from torch import nn

from ase_geoformer.nn.graph import Graph


class NeighbourSpeciesFilter(nn.Module):
    """A learned vector per species that scales each neighbour's radial filter, ``s(z_j)``, ``(C,)``.

    Initialised to ones, so a new model starts species-blind and learns which neighbour sits at
    which distance. ``forward(species, graph)`` returns ``s(z_j)`` for every pair, pair shape ``(P..., C)``
    (broadcastable on the dense path).
    """

    def __init__(self, num_species: int, channels: int) -> None:
        super().__init__()
        self.weights = nn.Embedding(num_species, channels)
        nn.init.ones_(self.weights.weight)

    def forward(self, species: torch.Tensor, graph: Graph) -> torch.Tensor:
        return graph.of_senders(self.weights(species))


class GeometricPositionalEncoding(nn.Module):
    """GeoT's positional encoding ``e_i = W sum_j g(phi(d_ij)) c(d_ij)``.

    A learned function ``g`` (SiLU network) of each neighbour's radial basis, weighted by the
    envelope, summed over neighbours; permutation invariant (no sequence positions).
    ``neighbour_filter`` (pair shape ``(P..., C)``), when given, multiplies ``g`` channel-wise.
    Returns node features ``(..., C)``.
    """

    def __init__(self, num_radial: int, channels: int) -> None:
        super().__init__()
        self.pair_function = nn.Sequential(nn.Linear(num_radial, channels), nn.SiLU(), nn.Linear(channels, channels))
        self.output = nn.Linear(channels, channels, bias=False)

    def forward(
        self, graph: Graph, radial: torch.Tensor, cutoff: torch.Tensor, neighbour_filter: torch.Tensor | None = None
    ) -> torch.Tensor:
        pair_features = self.pair_function(radial) * cutoff[..., None]
        if neighbour_filter is not None:
            pair_features = pair_features * neighbour_filter
        return self.output(graph.sum_over_neighbours(pair_features))


class InitialVectorFeatures(nn.Module):
    """Equivariant start ``V_i = sum_j u_ij (x) (W phi(d_ij)) c(d_ij)``, shape ``(..., 3, C)``.

    ``u_ij`` is the unit vector from i to j: V is translation invariant and rotates with the
    structure. ``neighbour_filter`` (pair shape ``(P..., C)``), when given, multiplies ``W phi`` channel-wise.
    """

    def __init__(self, num_radial: int, channels: int) -> None:
        super().__init__()
        self.radial_weights = nn.Linear(num_radial, channels, bias=False)

    def forward(
        self, graph: Graph, radial: torch.Tensor, cutoff: torch.Tensor, neighbour_filter: torch.Tensor | None = None
    ) -> torch.Tensor:
        unit_vectors = graph.vectors / graph.distances[..., None]
        weights = self.radial_weights(radial) * cutoff[..., None]
        if neighbour_filter is not None:
            weights = weights * neighbour_filter
        return graph.sum_over_neighbours(unit_vectors[..., :, None] * weights[..., None, :])
