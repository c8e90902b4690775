"""Training augmentation: GeoT molecule mixing."""

from __future__ import annotations

import numpy as np

from ase_geoformer.labelled import Sample


def mix_molecules(first: Sample, second: Sample, separation: float, rng: np.random.Generator) -> Sample:
    """GeoT molecule mixing: both samples randomly rotated and placed ``separation`` Å apart (gap between
    their atoms, along a random direction); the energy is the sum and the forces the concatenation."""
    parts = []
    for sample in (first, second):
        rotation = _random_rotation(rng)
        centred = sample.positions - sample.positions.mean(axis=0)
        parts.append((centred @ rotation.T, sample.forces @ rotation.T))
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    reach = np.abs(parts[0][0] @ direction).max() + np.abs(parts[1][0] @ direction).max()
    offset = direction * (reach + separation)
    return Sample(
        numbers=np.concatenate([first.numbers, second.numbers]),
        positions=np.concatenate([parts[0][0], parts[1][0] + offset]),
        energy=first.energy + second.energy,
        forces=np.concatenate([parts[0][1], parts[1][1]]),
    )


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q
