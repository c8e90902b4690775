"""Energies, forces (-dE/dR) and stress (strain derivative) of a batch, by autograd."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ase_geoformer.batch import Batch, NeighbourListBatch
from ase_geoformer.nn.committee import AtomicEnergies, EnergyModel, VectorizedMembers


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
    positions, strain = _differentiable_inputs(batch, (), compute_forces, compute_stress)
    batch = _deformed(batch, positions, strain)
    atomic = atomic_energies(model, batch)
    energy = batch.sum_per_structure(atomic)
    return _with_derivatives(batch, energy, atomic, positions, strain, batch.zero_padding, create_graph)


MemberEnergyFunction = Callable[..., tuple[torch.Tensor, torch.Tensor]]


def compiled_member_energies() -> MemberEnergyFunction:
    """``member_energies`` compiled by ``torch.compile``: the first call compiles for minutes on CPU
    (the vmap of every layer is traced), later calls are about twice as fast. Forces still come from
    autograd through the compiled graph."""
    return torch.compile(member_energies)


def member_energies(
    members: VectorizedMembers, batch: Batch, positions: torch.Tensor, *strain: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each member's energies ``(M, G)`` and per-atom energies ``(M, node shape)`` (eV), at its own
    ``positions (M, node shape, 3)`` and, when given, its own ``strain (M, G, 3, 3)``."""
    return members.map(_energies_of_one_member, (batch, members.r_max), positions, *strain)


def _energies_of_one_member(
    atomic_energies: AtomicEnergies, context: tuple[Batch, float], positions: torch.Tensor, *strain: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    batch, r_max = context
    member_batch = _deformed(batch, positions, *strain)
    atomic = member_batch.zero_padding(atomic_energies(member_batch.species, member_batch.graph(r_max)))
    return member_batch.sum_per_structure(atomic), atomic


def predict_members(
    members: VectorizedMembers,
    batch: Batch,
    compute_forces: bool = True,
    compute_stress: bool = False,
    energies: MemberEnergyFunction = member_energies,
) -> dict[str, torch.Tensor]:
    """``predict`` for each member of a committee, all at once; every output gains a first axis ``(M, ...)``.

    Each member gets its own copy of the positions (and strain), so one backward pass gives every
    member's own forces (and stress). ``energies`` may be swapped for ``compiled_member_energies()``.
    """
    positions, strain = _differentiable_inputs(batch, (members.num_members,), compute_forces, compute_stress)
    energy, atomic = energies(members, batch, positions, *([strain] if compute_stress else []))
    zero_padding = torch.vmap(batch.zero_padding)
    return _with_derivatives(batch, energy, atomic, positions, strain, zero_padding, create_graph=False)


def _differentiable_inputs(
    batch: Batch, leading: tuple[int, ...], compute_forces: bool, compute_stress: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Copies of the positions and, for stress, a zero strain ``(*leading, G, 3, 3)``, as leaves to differentiate by."""
    if compute_stress and not isinstance(batch, NeighbourListBatch):
        raise ValueError("stress needs a periodic cell: build the batch with neighbour_list_batch")
    positions = batch.positions.detach().expand(*leading, *batch.positions.shape).clone().requires_grad_(compute_forces)
    strain = None
    if compute_stress:
        strain = batch.cells.new_zeros((*leading, *batch.cells.shape)).requires_grad_(True)
    return positions, strain


def _deformed(batch: Batch, positions: torch.Tensor, strain: torch.Tensor | None = None) -> Batch:
    """``batch`` at ``positions``, strained by the symmetric part of ``strain`` when given."""
    batch = batch.with_positions(positions)
    return batch if strain is None else batch.strained(0.5 * (strain + strain.transpose(-1, -2)))


def _with_derivatives(
    batch: Batch,
    energy: torch.Tensor,
    atomic: torch.Tensor,
    positions: torch.Tensor,
    strain: torch.Tensor | None,
    zero_padding: Callable[[torch.Tensor], torch.Tensor],
    create_graph: bool,
) -> dict[str, torch.Tensor]:
    """Energy, per-atom energies and, from one backward pass, forces (when ``positions`` require
    gradients; ``zero_padding`` zeroes padded atoms) and stress (when ``strain`` is given)."""
    results = {"energy": energy, "atomic_energies": atomic}
    inputs = ([positions] if positions.requires_grad else []) + ([strain] if strain is not None else [])
    if inputs:
        gradients = torch.autograd.grad(energy.sum(), inputs, create_graph=create_graph)
        if positions.requires_grad:
            results["forces"] = zero_padding(-gradients[0])
        if strain is not None:
            volumes = torch.linalg.det(batch.cells).abs()
            results["stress"] = gradients[-1] / volumes[:, None, None]
    return results
