"""The two feed-forward nets of a block."""

from __future__ import annotations

import torch
from torch import nn


class InvariantFeedForward(nn.Module):
    """Inv-FFN: ``Linear -> SiLU -> Linear`` on h, ``(..., C) -> (..., C)``."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(channels, hidden), nn.SiLU(), nn.Linear(hidden, channels))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


class EquivariantFeedForward(nn.Module):
    """Equ-FFN: ``W_out((W_in V) * g(h))``, a channel-wise gate g (SiLU network of h), bias-free maps of V.

    ``V (..., 3, C), h (..., C) -> (..., 3, C)``.
    """

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.vector_in = nn.Linear(channels, hidden, bias=False)
        self.gate = nn.Sequential(nn.Linear(channels, channels), nn.SiLU(), nn.Linear(channels, hidden))
        self.vector_out = nn.Linear(hidden, channels, bias=False)

    def forward(self, vectors: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return self.vector_out(self.vector_in(vectors) * self.gate(h).unsqueeze(-2))
