"""``GeoFormerCommittee``: the mean of several independently trained GeoFormer models."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ase_geoformer.nn.graph import Graph
from ase_geoformer.nn.model import GeoFormer


class GeoFormerCommittee(nn.Module):
    """Per-atom energies (eV) averaged over members trained on the same species with the same cutoff.

    Forces of the mean energy are the mean of the members' forces, so a committee is as smooth and
    conservative as each member. Errors the members make independently shrink in the mean; each
    call costs one forward and backward pass per member.
    """

    def __init__(self, members: Sequence[GeoFormer]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a committee needs at least one member model")
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


def member_models(model: EnergyModel) -> list[GeoFormer]:
    """The single models ``model`` is made of: a committee's members, or the model itself."""
    return list(model.members) if isinstance(model, GeoFormerCommittee) else [model]
