"""The initial features see the species of an atom's neighbours only with ``neighbour_species``."""

from __future__ import annotations

import pytest
import torch
from ase import Atoms

from ase_geoformer import GeoFormer
from ase_geoformer.batch import dense_batch, neighbour_list_batch
from conftest import SPECIES, random_model, small_config


def _initial_features_of_first_atom(model, atoms: Atoms) -> tuple[torch.Tensor, torch.Tensor]:
    dense = dense_batch([atoms], SPECIES, "cpu", torch.float64)
    sparse = neighbour_list_batch([atoms], SPECIES, model.r_max, "cpu", torch.float64)
    results = []
    for species, graph in ((dense.species, dense.graph(model.r_max)), (sparse.species, sparse.graph(model.r_max))):
        radial, cutoff = model.radial_basis(graph.distances), model.envelope(graph.distances)
        h, vectors = model.initial_features(species, graph, radial, cutoff)
        results.append((h.reshape(-1, h.shape[-1])[0], vectors.reshape(-1, *vectors.shape[-2:])[0]))
    (h_dense, v_dense), (h_sparse, v_sparse) = results
    torch.testing.assert_close(h_dense, h_sparse, rtol=0, atol=1e-12)
    torch.testing.assert_close(v_dense, v_sparse, rtol=0, atol=1e-12)
    return h_dense, v_dense


@pytest.mark.parametrize("neighbour_species", [False, True])
def test_initial_features_see_neighbour_species_only_when_asked(neighbour_species):
    model = random_model(small_config(neighbour_species=neighbour_species))
    positions = [[0.0, 0.0, 0.0], [1.1, 0.2, 0.0], [-0.3, 1.4, 0.5]]
    with_carbon = _initial_features_of_first_atom(model, Atoms("HCH", positions=positions))
    with_oxygen = _initial_features_of_first_atom(model, Atoms("HOH", positions=positions))
    changed = [not torch.allclose(a, b, rtol=0, atol=1e-9) for a, b in zip(with_carbon, with_oxygen)]
    assert changed == [neighbour_species, neighbour_species]


def test_neighbour_species_filters_start_species_blind():
    """A new model with the option computes what the species-blind model computes, until it learns."""
    torch.manual_seed(0)
    aware = GeoFormer(small_config(neighbour_species=True)).double()
    blind = GeoFormer(small_config()).double()
    blind.load_state_dict({k: v for k, v in aware.state_dict().items() if not k.startswith("neighbour_")})
    atoms = Atoms("HCOH", positions=[[0, 0, 0], [1.1, 0.2, 0], [2.3, 0.1, 0.3], [2.9, 0.8, 0.1]])
    batch = dense_batch([atoms], SPECIES, "cpu", torch.float64)
    graph = batch.graph(blind.r_max)
    torch.testing.assert_close(
        aware.atomic_energies(batch.species, graph), blind.atomic_energies(batch.species, graph), rtol=0, atol=1e-12
    )
