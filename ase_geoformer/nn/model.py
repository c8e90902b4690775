"""``GeoFormer``: the energy model E(z, R) as a sum of per-atom energies."""

from __future__ import annotations

import torch
from torch import nn

from ase_geoformer.config import GeoFormerConfig
from ase_geoformer.nn.block import GeoFormerBlock
from ase_geoformer.nn.embedding import GeometricPositionalEncoding, InitialVectorFeatures, NeighbourSpeciesFilter
from ase_geoformer.nn.graph import Graph
from ase_geoformer.nn.radial import BesselBasis, PolynomialEnvelope
from ase_geoformer.nn.readout import AtomicEnergyReadout


class GeoFormer(nn.Module):
    """Equivariant dual-stream transformer (GeoMFormer) with GeoT's learned distance gating.

    ``atomic_energies(species, graph)`` maps species indices (positions in
    ``config.species``, node shape) and a graph to per-atom energies in eV (node shape).
    Build graphs with ``ase_geoformer.batch``; forces come from ``ase_geoformer.predict``.
    """

    def __init__(self, config: GeoFormerConfig) -> None:
        super().__init__()
        self.config = config
        self.radial_basis = BesselBasis(config.r_max, config.num_radial)
        self.envelope = PolynomialEnvelope(config.r_max, config.envelope_exponent)
        self.species_embedding = nn.Embedding(len(config.species), config.channels)
        self.positional_encoding = GeometricPositionalEncoding(config.num_radial, config.channels)
        self.initial_vectors = InitialVectorFeatures(config.num_radial, config.channels)
        self.neighbour_scalar_filter = self.neighbour_vector_filter = None
        if config.neighbour_species:
            self.neighbour_scalar_filter = NeighbourSpeciesFilter(len(config.species), config.channels)
            self.neighbour_vector_filter = NeighbourSpeciesFilter(len(config.species), config.channels)
        self.blocks = nn.ModuleList(GeoFormerBlock(config) for _ in range(config.num_blocks))
        self.final_norm = nn.LayerNorm(config.channels)
        self.readout = AtomicEnergyReadout(config.channels, config.readout_hidden, len(config.species))

    @property
    def species(self) -> tuple[int, ...]:
        """Atomic numbers the model knows, ascending."""
        return self.config.species

    @property
    def r_max(self) -> float:
        """Cutoff radius in Å."""
        return self.config.r_max

    def initial_features(
        self, species: torch.Tensor, graph: Graph, radial: torch.Tensor, cutoff: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``h (..., C)`` and ``V (..., 3, C)`` before the first block."""
        scalar_filter = vector_filter = None
        if self.neighbour_scalar_filter is not None:
            scalar_filter = self.neighbour_scalar_filter(species, graph)
            vector_filter = self.neighbour_vector_filter(species, graph)
        h = self.species_embedding(species) + self.positional_encoding(graph, radial, cutoff, scalar_filter)
        return h, self.initial_vectors(graph, radial, cutoff, vector_filter)

    def forward(self, species: torch.Tensor, graph: Graph) -> torch.Tensor:
        """``atomic_energies``, so that ``torch.func.functional_call`` can run the model with other weights."""
        return self.atomic_energies(species, graph)

    def atomic_energies(self, species: torch.Tensor, graph: Graph) -> torch.Tensor:
        """Per-atom energies (eV), same shape as ``species``."""
        radial = self.radial_basis(graph.distances)
        cutoff = self.envelope(graph.distances)
        h, vectors = self.initial_features(species, graph, radial, cutoff)
        for block in self.blocks:
            h, vectors = block(h, vectors, graph, radial, cutoff)
        return self.readout(self.final_norm(h), species)
