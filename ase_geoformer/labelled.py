"""Structures with energy and force targets: the energy baseline, samples, padded batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ase_geoformer.batch import DenseBatch, species_indices
from ase_geoformer.data import AtomsDataset


@dataclass(frozen=True)
class EnergyBaseline:
    """Per-element reference energies (eV) fitted by least squares of energy on composition.

    Training targets are energies minus this baseline (small numbers, safe in float32); the
    exported model carries the references in its readout, so it predicts total energies.
    With one composition (an MD17 molecule) this is the mean energy, spread over the elements.
    """

    species: tuple[int, ...]
    reference_energies: tuple[float, ...]

    @classmethod
    def fit(cls, dataset: AtomsDataset, species: Sequence[int]) -> "EnergyBaseline":
        counts = _composition(dataset, species)
        references = np.linalg.lstsq(counts, dataset.energies, rcond=None)[0]
        return cls(species=tuple(species), reference_energies=tuple(float(e) for e in references))

    def of(self, dataset: AtomsDataset) -> np.ndarray:
        """``(F,)`` baseline energy of each frame, eV."""
        return _composition(dataset, self.species) @ np.asarray(self.reference_energies)


def force_rms(dataset: AtomsDataset) -> float:
    """Root mean square of the force components, eV/Å (the readout's scale)."""
    return float(np.sqrt(np.mean(dataset.forces**2)))


@dataclass
class LabelledBatch:
    """A padded batch with its targets: ``energies (B,)`` eV relative to the baseline (float64, the dtype of
    the model's energies), ``forces (B, N, 3)`` eV/Å (zero at padding), ``num_atoms (B,)``."""

    inputs: DenseBatch
    energies: torch.Tensor
    forces: torch.Tensor
    num_atoms: torch.Tensor


@dataclass
class Sample:
    """One structure with targets (energy relative to the baseline)."""

    numbers: np.ndarray
    positions: np.ndarray
    energy: float
    forces: np.ndarray


class SampleSource:
    """Frames of a dataset as ``Sample``s with baseline-relative energies."""

    def __init__(self, dataset: AtomsDataset, baseline: EnergyBaseline) -> None:
        self.dataset = dataset
        self.relative_energies = dataset.energies - baseline.of(dataset)

    def __len__(self) -> int:
        return len(self.dataset)

    def sample(self, index: int) -> Sample:
        numbers, positions, _, forces = self.dataset.frame(int(index))
        return Sample(numbers, positions, float(self.relative_energies[index]), forces)


def collate(
    samples: Sequence[Sample], species: Sequence[int], device: torch.device, dtype: torch.dtype
) -> LabelledBatch:
    """Pad ``samples`` into a ``LabelledBatch``."""
    size = max(len(s.numbers) for s in samples)
    count = len(samples)
    indices = np.zeros((count, size), dtype=np.int64)
    positions = np.zeros((count, size, 3))
    forces = np.zeros((count, size, 3))
    mask = np.zeros((count, size), dtype=bool)
    for b, sample in enumerate(samples):
        n = len(sample.numbers)
        indices[b, :n] = species_indices(sample.numbers, species)
        positions[b, :n] = sample.positions
        forces[b, :n] = sample.forces
        mask[b, :n] = True
    return LabelledBatch(
        inputs=DenseBatch(
            species=torch.from_numpy(indices).to(device),
            positions=torch.from_numpy(positions).to(device=device, dtype=dtype),
            atom_mask=torch.from_numpy(mask).to(device),
        ),
        energies=torch.tensor([s.energy for s in samples], device=device, dtype=torch.float64),
        forces=torch.from_numpy(forces).to(device=device, dtype=dtype),
        num_atoms=torch.from_numpy(mask.sum(axis=1)).to(device=device, dtype=dtype),
    )


def _composition(dataset: AtomsDataset, species: Sequence[int]) -> np.ndarray:
    """``(F, S)`` count of each species in each frame."""
    counts = np.zeros((len(dataset), len(species)))
    index = species_indices(dataset.numbers, species)
    np.add.at(counts, (dataset.frame_of_atom(), index), 1.0)
    return counts
