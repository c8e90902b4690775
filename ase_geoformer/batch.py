"""Model inputs: batches of structures on the dense path or the neighbour-list path.

``DenseBatch`` pads a list of molecules to a common size (fast for molecules of tens of
atoms); ``NeighbourListBatch`` concatenates structures and lists the pairs within ``r_max``
with matscipy (large or periodic systems). Both build the model's graph and sum per-atom
values per structure. Positions in Å.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from ase import Atoms
from ase.data import chemical_symbols
from matscipy.neighbours import neighbour_list

from ase_geoformer.errors import InvalidStructureError, UnsupportedElementError
from ase_geoformer.nn.graph import DenseAtomGraph, NeighbourListGraph, pair_mask_of


def species_indices(numbers: np.ndarray, species: Sequence[int]) -> np.ndarray:
    """Map atomic numbers to positions in ``species``; raise naming any unknown element."""
    numbers = np.asarray(numbers)
    lookup = np.full(max(int(numbers.max(initial=0)), max(species)) + 1, -1, dtype=np.int64)
    lookup[list(species)] = np.arange(len(species))
    indices = lookup[numbers]
    if (indices < 0).any():
        unknown = sorted({int(z) for z in numbers[indices < 0]})
        raise UnsupportedElementError(
            f"element(s) {', '.join(f'{chemical_symbols[z]} (Z={z})' for z in unknown)} not supported: this model was "
            f"trained on {', '.join(chemical_symbols[z] for z in species)} only. Use a model trained on every "
            "element of your structure."
        )
    return indices


def check_structure(atoms: Atoms) -> None:
    """Raise ``InvalidStructureError`` for a structure no model can evaluate."""
    if len(atoms) == 0:
        raise InvalidStructureError("the Atoms object is empty (0 atoms): add atoms before asking for energies")
    positions = atoms.positions
    bad = np.flatnonzero(~np.isfinite(positions).all(axis=1))
    if bad.size:
        raise InvalidStructureError(
            f"positions of atom(s) {bad[:10].tolist()}{' ...' if bad.size > 10 else ''} are NaN or infinite; the "
            "structure is broken (in MD: a blown-up trajectory, try a smaller time step)"
        )
    if atoms.pbc.any() and abs(atoms.cell.volume) < 1e-12:
        raise InvalidStructureError(
            f"the cell is periodic along axes {np.flatnonzero(atoms.pbc).tolist()} but degenerate (volume 0, cell "
            f"lengths {atoms.cell.lengths().round(6).tolist()} Å): give all three cell vectors a length "
            "(e.g. atoms.center(vacuum=10, axis=2) for a slab) or set pbc=False"
        )


@dataclass
class DenseBatch:
    """Molecules padded to a common atom count N.

    Attributes:
        species: ``(B, N)`` int64 species indices (0 at padding).
        positions: ``(B, N, 3)`` Å (0 at padding).
        atom_mask: ``(B, N)`` bool, False at padding.
        pair_mask: ``(B, N, N)`` bool, the pairs that exist; built from ``atom_mask`` when not given
            and kept by ``with_positions``, so a molecule's masks are built once.
    """

    species: torch.Tensor
    positions: torch.Tensor
    atom_mask: torch.Tensor
    pair_mask: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.pair_mask is None:
            self.pair_mask = pair_mask_of(self.atom_mask)

    @property
    def num_structures(self) -> int:
        return self.species.shape[0]

    def graph(self, r_max: float) -> DenseAtomGraph:
        return DenseAtomGraph(self.positions, self.pair_mask, dummy_distance=2.0 * r_max)

    def with_positions(self, positions: torch.Tensor) -> "DenseBatch":
        return dataclasses.replace(self, positions=positions)

    def sum_per_structure(self, atomic: torch.Tensor) -> torch.Tensor:
        """``(B, N) -> (B,)``, ignoring padding."""
        return self.zero_padding(atomic).sum(dim=1)

    def zero_padding(self, atomic: torch.Tensor) -> torch.Tensor:
        """Per-atom values ``(B, N, ...)`` with exact zeros at padding."""
        mask = self.atom_mask.reshape(*self.atom_mask.shape, *([1] * (atomic.dim() - 2)))
        return torch.where(mask, atomic, torch.zeros_like(atomic))


@dataclass
class NeighbourListBatch:
    """Structures concatenated atom by atom, with their pairs within ``r_max``.

    Attributes:
        species: ``(N,)`` int64 species indices.
        positions: ``(N, 3)`` Å.
        structure_index: ``(N,)`` int64, which structure each atom belongs to.
        cells: ``(G, 3, 3)`` Å, rows are cell vectors (zeros for a non-periodic molecule).
        receivers, senders: ``(E,)`` int64 atom indices i and j of each pair.
        cell_shifts: ``(E, 3)`` integer image shifts S, so ``r_ij = r_j - r_i + S @ cell``.
    """

    species: torch.Tensor
    positions: torch.Tensor
    structure_index: torch.Tensor
    cells: torch.Tensor
    receivers: torch.Tensor
    senders: torch.Tensor
    cell_shifts: torch.Tensor

    @property
    def num_structures(self) -> int:
        return self.cells.shape[0]

    def graph(self, r_max: float) -> NeighbourListGraph:
        shifts = torch.einsum("ek,ekl->el", self.cell_shifts, self.cells[self.structure_index[self.receivers]])
        vectors = self.positions[self.senders] - self.positions[self.receivers] + shifts
        return NeighbourListGraph(vectors, self.receivers, self.senders, self.species.shape[0])

    def with_positions(self, positions: torch.Tensor) -> "NeighbourListBatch":
        return dataclasses.replace(self, positions=positions)

    def strained(self, strain: torch.Tensor) -> "NeighbourListBatch":
        """Positions and cells deformed by ``(I + strain)``, ``strain (G, 3, 3)``."""
        positions = self.positions + torch.einsum("ni,nij->nj", self.positions, strain[self.structure_index])
        cells = self.cells + self.cells @ strain
        return dataclasses.replace(self, positions=positions, cells=cells)

    def sum_per_structure(self, atomic: torch.Tensor) -> torch.Tensor:
        """``(N,) -> (G,)``."""
        out = atomic.new_zeros(self.num_structures)
        return out.index_add(0, self.structure_index, atomic)

    def zero_padding(self, atomic: torch.Tensor) -> torch.Tensor:
        """No padding on this path: returns ``atomic`` unchanged."""
        return atomic


Batch = DenseBatch | NeighbourListBatch


def dense_batch(
    structures: Sequence[Atoms], species: Sequence[int], device: torch.device | str, dtype: torch.dtype
) -> DenseBatch:
    """Pad molecules into a ``DenseBatch`` (cells and pbc are ignored: use the neighbour-list path for periodic systems)."""
    size = max(len(atoms) for atoms in structures)
    indices = np.zeros((len(structures), size), dtype=np.int64)
    positions = np.zeros((len(structures), size, 3))
    mask = np.zeros((len(structures), size), dtype=bool)
    for b, atoms in enumerate(structures):
        n = len(atoms)
        indices[b, :n] = species_indices(atoms.numbers, species)
        positions[b, :n] = atoms.positions
        mask[b, :n] = True
    return DenseBatch(
        species=torch.from_numpy(indices).to(device),
        positions=torch.from_numpy(positions).to(device=device, dtype=dtype),
        atom_mask=torch.from_numpy(mask).to(device),
    )


def neighbour_list_batch(
    structures: Sequence[Atoms],
    species: Sequence[int],
    r_max: float,
    device: torch.device | str,
    dtype: torch.dtype,
) -> NeighbourListBatch:
    """List the pairs within ``r_max`` of each structure (periodic images included) with matscipy."""
    indices, positions, structure_index, cells = [], [], [], []
    receivers, senders, shifts = [], [], []
    offset = 0
    for g, atoms in enumerate(structures):
        i, j, s = _pairs_within(atoms, r_max)
        indices.append(species_indices(atoms.numbers, species))
        positions.append(atoms.positions)
        structure_index.append(np.full(len(atoms), g, dtype=np.int64))
        cells.append(atoms.cell.array if atoms.pbc.any() else np.zeros((3, 3)))
        receivers.append(i + offset)
        senders.append(j + offset)
        shifts.append(s)
        offset += len(atoms)

    def long_tensor(parts: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.concatenate(parts).astype(np.int64)).to(device)

    def float_tensor(parts: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.concatenate(parts).astype(np.float64)).to(device=device, dtype=dtype)

    return NeighbourListBatch(
        species=long_tensor(indices),
        positions=float_tensor(positions),
        structure_index=long_tensor(structure_index),
        cells=torch.from_numpy(np.stack(cells)).to(device=device, dtype=dtype),
        receivers=long_tensor(receivers),
        senders=long_tensor(senders),
        cell_shifts=float_tensor(shifts),
    )


def _pairs_within(atoms: Atoms, r_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j, S) with ``|r_j - r_i + S @ cell| < r_max``, self pairs (i = j, S = 0) excluded."""
    if atoms.pbc.any():
        i, j, s = neighbour_list("ijS", atoms=atoms, cutoff=r_max)
    else:
        # A box around the molecule, only for matscipy's binning (nothing is periodic).
        lower = atoms.positions.min(axis=0)
        box = np.diag(np.ptp(atoms.positions, axis=0) + r_max)
        i, j = neighbour_list(
            "ij", positions=atoms.positions, cutoff=r_max, cell=box, cell_origin=lower, pbc=np.zeros(3, dtype=bool)
        )
        s = np.zeros((len(i), 3))
    return i, j, s
