"""Energies, forces (-dE/dR) and stress (strain derivative) of a batch, by autograd."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ase_geoformer.batch import Batch, NeighbourListBatch
from ase_geoformer.nn.committee import EnergyModel


AtomicEnergyFunction = Callable[[EnergyModel, Batch], torch.Tensor]


def batch_atomic_energies(model: EnergyModel, batch: Batch) -> torch.Tensor:
    """Per-atom energies (eV) of ``batch`` (node shape), exact zeros at padding."""
    return batch.zero_padding(model.atomic_energies(batch.species, batch.graph(model.r_max)))


def compiled_atomic_energies(device: torch.device) -> AtomicEnergyFunction:
    """``batch_atomic_energies`` compiled by ``torch.compile``, with CUDA graphs on CUDA.

    The first call compiles (tens of seconds on CPU) and so may a call with new shapes (after
    which torch marks the sizes that changed dynamic); later calls reuse the compiled code.
    Forces still come from autograd through the compiled graph (AOTAutograd compiles the
    backward too).
    """
    mode = "reduce-overhead" if device.type == "cuda" else "default"
    return torch.compile(batch_atomic_energies, fullgraph=True, mode=mode)


def predict(
    model: EnergyModel,
    batch: Batch,
    compute_forces: bool = True,
    compute_stress: bool = False,
    create_graph: bool = False,
    atomic_energies: AtomicEnergyFunction = batch_atomic_energies,
) -> dict[str, torch.Tensor]:
    """Evaluate ``model`` on ``batch``.

    Returns a dict with ``energy (G,)`` eV, ``atomic_energies`` (node shape) eV, and when asked
    ``forces`` (node shape + 3) eV/Å and ``stress (G, 3, 3)`` eV/Å^3 (ASE's sign: ``(1/V) dE/d strain``).
    ``create_graph=True`` keeps the graph of the forces, for training on forces.
    ``atomic_energies`` may be swapped for ``compiled_atomic_energies(device)``.
    """
    if compute_stress and not isinstance(batch, NeighbourListBatch):
        raise ValueError("stress needs a periodic cell: build the batch with neighbour_list_batch")
    positions = batch.positions.detach().requires_grad_(compute_forces)
    batch = batch.with_positions(positions)
    inputs = [positions] if compute_forces else []
    if compute_stress:
        strain = torch.zeros_like(batch.cells, requires_grad=True)
        batch = batch.strained(0.5 * (strain + strain.transpose(-1, -2)))
        inputs.append(strain)
    atomic = atomic_energies(model, batch)
    energy = batch.sum_per_structure(atomic)
    results = {"energy": energy, "atomic_energies": atomic}
    if inputs:
        gradients = torch.autograd.grad(energy.sum(), inputs, create_graph=create_graph)
        if compute_forces:
            results["forces"] = batch.zero_padding(-gradients[0])
        if compute_stress:
            volumes = torch.linalg.det(batch.cells).abs()
            results["stress"] = gradients[-1] / volumes[:, None, None]
    return results
