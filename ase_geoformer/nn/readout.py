"""Per-atom energy readout, scaled and shifted by training-set statistics."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn


class AtomicEnergyReadout(nn.Module):
    """``E_i = scale * f(h_i) + shift + E_ref[z_i]`` in eV, ``f`` a small SiLU network.

    ``scale`` and ``shift`` (eV) and the per-element reference energies (eV) are buffers set
    from the training set (``set_energy_statistics``); they travel in the state dict.
    ``h (..., C), species (...) -> (...)``, float64 whatever the model's dtype.

    The reference energies (about -1,000 eV per carbon) stay float64 when the model is cast,
    and the residual ``scale * f(h_i) + shift`` (a few eV) is added to them in float64: a float32
    model then predicts a molecule's total energy (-17,000 eV for aspirin, where float32 steps by
    2 meV) to the precision of its residuals, and forces are unaffected.
    """

    def __init__(self, channels: int, hidden: int, num_species: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(channels, hidden), nn.SiLU(), nn.Linear(hidden, 1))
        self.register_buffer("scale", torch.tensor(1.0))
        self.register_buffer("shift", torch.tensor(0.0))
        self.register_buffer("reference_energies", torch.zeros(num_species, dtype=torch.float64))

    def set_energy_statistics(self, scale: float, shift: float, reference_energies: Sequence[float]) -> None:
        """Set the output scale and shift (eV) and the reference energy of each species (eV)."""
        if len(reference_energies) != self.reference_energies.numel():
            raise ValueError(
                f"got {len(reference_energies)} reference energies for {self.reference_energies.numel()} species"
            )
        self.scale.fill_(scale)
        self.shift.fill_(shift)
        self.reference_energies.copy_(torch.as_tensor(reference_energies, dtype=self.reference_energies.dtype))

    def forward(self, h: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        residual = self.scale * self.net(h).squeeze(-1) + self.shift
        return residual.to(self.reference_energies.dtype) + self.reference_energies[species]

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> "AtomicEnergyReadout":
        """``Module.to``, ``.float()`` and the like, except that ``reference_energies`` only moves device and stays float64."""
        reference_energies = self.reference_energies
        super()._apply(fn, recurse)
        self.reference_energies = reference_energies.to(device=self.scale.device)
        return self
