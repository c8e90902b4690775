"""``GeoFormerCommittee``: the mean of several independently trained GeoFormer models."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from ase_geoformer.config import GeoFormerConfig
from ase_geoformer.nn.graph import Graph
from ase_geoformer.nn.model import GeoFormer


class GeoFormerCommittee(nn.Module):
    """Per-atom energies (eV) averaged over members trained on the same species with the same cutoff.

    Forces of the mean energy are the mean of the members' forces, so a committee is as smooth and
    conservative as each member. Errors the members make independently shrink in the mean.
    ``atomic_energies`` runs the members one after another; ``VectorizedMembers`` runs those of
    one architecture together (what the calculator does).
    """

    def __init__(self, members: Sequence[GeoFormer]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a committee needs at least one member model")
        for index, member in enumerate(members):
            if not isinstance(member, GeoFormer):
                raise ValueError(
                    f"committee member {index} is a {type(member).__name__}, not a GeoFormer: pass a committee's "
                    "members one by one (geoformer-committee does this for a committee checkpoint)"
                )
        species, r_max = members[0].species, members[0].r_max
        for index, member in enumerate(members):
            if member.species != species or member.r_max != r_max:
                raise ValueError(
                    f"committee member {index} has species {member.species} and r_max {member.r_max} Å, member 0 "
                    f"{species} and {r_max} Å: members must share both (train them on the same molecule and config)"
                )
        self.members = nn.ModuleList(members)

    @property
    def species(self) -> tuple[int, ...]:
        """Atomic numbers the members were trained on, ascending."""
        return self.members[0].species

    @property
    def r_max(self) -> float:
        """Cutoff radius in Å, shared by the members."""
        return self.members[0].r_max

    def atomic_energies(self, species: torch.Tensor, graph: Graph) -> torch.Tensor:
        """Mean over members of the per-atom energies (eV), same shape as ``species``."""
        return torch.stack([member.atomic_energies(species, graph) for member in self.members]).mean(dim=0)


EnergyModel = GeoFormer | GeoFormerCommittee

AtomicEnergies = Callable[[torch.Tensor, Graph], torch.Tensor]
"""A model as a function ``(species, graph) -> per-atom energies (eV)``."""


def member_models(model: EnergyModel) -> list[GeoFormer]:
    """The single models ``model`` is made of: a committee's members, or the model itself."""
    return list(model.members) if isinstance(model, GeoFormerCommittee) else [model]


MemberFunction = Callable[..., tuple[torch.Tensor, ...]]
"""``function(atomic_energies, context, *member_inputs) -> outputs``, evaluated for each member by ``VectorizedMembers.map``."""

GroupRunner = Callable[[MemberFunction, object, Sequence[torch.Tensor]], tuple[torch.Tensor, ...]]


class VectorizedMembers:
    """A model's members evaluated together: members of one architecture in one ``torch.vmap`` pass.

    Each group of two or more members with the same config gets its weights stacked on a new
    first axis, so every layer runs once, as a batched product, instead of once per member; on
    small molecules, where a call costs by the number of operations rather than by arithmetic,
    that is most of a committee's cost. A member alone in its architecture runs as it is (vmap
    would only add overhead). The stacks (and the member indices) are copies: build this from a
    model already on its device and dtype, and again if the model moves or its weights change.
    """

    def __init__(self, model: EnergyModel) -> None:
        members = member_models(model)
        groups: dict[GeoFormerConfig, list[int]] = {}
        for index, member in enumerate(members):
            groups.setdefault(member.config, []).append(index)
        self.num_members = len(members)
        self.r_max = members[0].r_max
        device = next(members[0].parameters()).device
        self._groups: list[tuple[torch.Tensor, GroupRunner]] = [
            (
                torch.tensor(indices, device=device),
                _alone(members[indices[0]]) if len(indices) == 1 else _stacked([members[i] for i in indices]),
            )
            for indices in groups.values()
        ]
        self._member_order = torch.argsort(torch.cat([indices for indices, _ in self._groups]))

    def map(self, function: MemberFunction, context: object, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``function(atomic_energies, context, *member_inputs)`` for every member, outputs stacked in member order.

        ``inputs`` have one entry per member on their first axis ``(M, ...)``; ``function`` gets the
        member as an ``AtomicEnergies`` function, ``context`` (shared by all members, e.g. the batch)
        and the member's slices of ``inputs``, and returns a tuple of tensors.
        """
        outputs = [run(function, context, [x[indices] for x in inputs]) for indices, run in self._groups]
        return tuple(torch.cat(parts)[self._member_order] for parts in zip(*outputs))


def _alone(member: GeoFormer) -> GroupRunner:
    """Runs ``function`` for a group of one member, as it is."""

    def run(function: MemberFunction, context: object, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        return tuple(y.unsqueeze(0) for y in function(member.atomic_energies, context, *(x[0] for x in inputs)))

    return run


def _stacked(members: list[GeoFormer]) -> GroupRunner:
    """Runs ``function`` for members of one config in one ``torch.vmap`` pass over their stacked weights."""
    parameters, buffers = stack_module_state(members)
    template = copy.deepcopy(members[0]).to("meta")

    def one_member(parameters: dict, buffers: dict, function: MemberFunction, context: object, *inputs: torch.Tensor):
        def atomic_energies(species: torch.Tensor, graph: Graph) -> torch.Tensor:
            return functional_call(template, (parameters, buffers), (species, graph), tie_weights=False)

        return function(atomic_energies, context, *inputs)

    def run(function: MemberFunction, context: object, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        in_dims = (0, 0, None, None, *([0] * len(inputs)))
        return torch.vmap(one_member, in_dims=in_dims)(parameters, buffers, function, context, *inputs)

    return run
