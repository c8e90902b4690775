"""``GeoFormerConfig``: every hyperparameter of the model, round-tripping to dict, JSON and YAML."""

from __future__ import annotations

import dataclasses
import inspect
import os
from dataclasses import dataclass
from typing import Any

from ase.data import chemical_symbols

from ase_geoformer.io_utils import read_mapping, write_mapping


def attribute_docs(cls: type) -> dict[str, str]:
    """Each attribute's description, from the ``Attributes:`` section of ``cls``'s docstring."""
    lines = (inspect.getdoc(cls) or "").splitlines()
    if "Attributes:" not in lines:
        return {}
    docs: dict[str, str] = {}
    name = None
    for line in lines[lines.index("Attributes:") + 1:]:
        if not line.startswith("    "):
            break
        text = line[4:]
        if text[0] != " " and ":" in text:
            name, _, text = text.partition(":")
            docs[name] = text.strip()
        elif name is not None:
            docs[name] += " " + text.strip()
    return docs


@dataclass(frozen=True)
class GeoFormerConfig:
    """Architecture of a GeoFormer model.

    Attributes:
        species: atomic numbers the model knows, ascending (e.g. ``(1, 6, 8)``).
        channels: width d of both streams (invariant ``h``: d numbers; equivariant ``V``: 3 x d).
        num_heads: attention heads; must divide ``channels``.
        num_blocks: number of GeoFormer blocks.
        num_radial: K, the number of Bessel radial basis functions.
        r_max: cutoff radius in Å; every interaction vanishes smoothly there.
        envelope_exponent: degree p of the polynomial envelope (C^2 at ``r_max`` for p >= 2).
        ffn_multiplier: hidden width of the feed-forward nets, in units of ``channels``.
        gate_hidden: hidden width of the per-block distance gate psi.
        readout_hidden: hidden width of the per-atom energy readout.
        neighbour_species: if True, the initial features (positional encoding and V) weight each
            neighbour's radial filter by a learned vector of the neighbour's species; if False they
            see only distances, as in GeoT.
    """

    species: tuple[int, ...]
    channels: int = 128
    num_heads: int = 8
    num_blocks: int = 4
    num_radial: int = 16
    r_max: float = 5.0
    envelope_exponent: int = 6
    ffn_multiplier: int = 2
    gate_hidden: int = 32
    readout_hidden: int = 64
    neighbour_species: bool = False

    def __post_init__(self) -> None:
        species = tuple(int(z) for z in self.species)
        object.__setattr__(self, "species", species)
        if not species:
            raise ValueError("GeoFormerConfig.species is empty: give the atomic numbers the model should know, e.g. (1, 6, 8)")
        bad = [z for z in species if not 1 <= z < len(chemical_symbols)]
        if bad:
            raise ValueError(f"GeoFormerConfig.species holds invalid atomic numbers {bad}; use 1..{len(chemical_symbols) - 1}")
        if list(species) != sorted(set(species)):
            raise ValueError(f"GeoFormerConfig.species must be ascending without repeats, got {species}")
        if self.channels % self.num_heads:
            raise ValueError(
                f"channels ({self.channels}) must be divisible by num_heads ({self.num_heads}); "
                "change one of them"
            )
        if not isinstance(self.neighbour_species, bool):
            raise ValueError(f"neighbour_species must be true or false, got {self.neighbour_species!r}")
        if self.r_max <= 0:
            raise ValueError(f"r_max must be positive (Å), got {self.r_max}")
        for name in ("channels", "num_heads", "num_blocks", "num_radial", "ffn_multiplier", "gate_hidden", "readout_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of built-in types (lists, numbers, strings)."""
        data = dataclasses.asdict(self)
        data["species"] = list(self.species)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GeoFormerConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown GeoFormerConfig fields {unknown}; known fields are {sorted(known)}")
        return cls(**data)

    def save(self, path: str | os.PathLike) -> None:
        """Write as JSON (``.json``) or YAML (``.yaml``/``.yml``, needs PyYAML), atomically."""
        write_mapping(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "GeoFormerConfig":
        """Read a config written by ``save`` (JSON or YAML by file extension)."""
        return cls.from_dict(read_mapping(path))
