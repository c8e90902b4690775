"""Initial features of both streams, built from species and the geometry around each atom."""

from __future__ import annotations

import torch
from torch import nn

from ase_geoformer.nn.graph import Graph


class GeometricPositionalEncoding(nn.Module):
    """GeoT's positional encoding ``e_i = W sum_j g(phi(d_ij)) c(d_ij)``.

    A learned function ``g`` (SiLU network) of each neighbour's radial basis, weighted by the
    envelope, summed over neighbours; permutation invariant (no sequence positions).
    Returns node features ``(..., C)``.
    """

    def __init__(self, num_radial: int, channels: int) -> None:
        super().__init__()
        self.pair_function = nn.Sequential(nn.Linear(num_radial, channels), nn.SiLU(), nn.Linear(channels, channels))
        self.output = nn.Linear(channels, channels, bias=False)

    def forward(self, graph: Graph, radial: torch.Tensor, cutoff: torch.Tensor) -> torch.Tensor:
        pair_features = self.pair_function(radial) * cutoff[..., None]
        return self.output(graph.sum_over_neighbours(pair_features))


class InitialVectorFeatures(nn.Module):
    """Equivariant start ``V_i = sum_j u_ij (x) (W phi(d_ij)) c(d_ij)``, shape ``(..., 3, C)``.

    ``u_ij`` is the unit vector from i to j: V is translation invariant and rotates with the
    structure.
    """

    def __init__(self, num_radial: int, channels: int) -> None:
        super().__init__()
        self.radial_weights = nn.Linear(num_radial, channels, bias=False)

    def forward(self, graph: Graph, radial: torch.Tensor, cutoff: torch.Tensor) -> torch.Tensor:
        unit_vectors = graph.vectors / graph.distances[..., None]
        weights = self.radial_weights(radial) * cutoff[..., None]
        return graph.sum_over_neighbours(unit_vectors[..., :, None] * weights[..., None, :])
