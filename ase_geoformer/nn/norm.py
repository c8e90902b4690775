"""Layer normalisation of the equivariant stream."""

from __future__ import annotations

import torch
from torch import nn


class EquivariantLayerNorm(nn.Module):
    """Scale V by the root mean square, over channels, of its vector norms.

    ``V_c -> w_c V_c / sqrt(mean_c |V_c|^2 + eps)``: rotation equivariant (only norms enter
    the scale), cheap, and infinitely differentiable (no SVD, no square root at 0).
    Shape ``(..., 3, C) -> (..., 3, C)``.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))

    def forward(self, vectors: torch.Tensor) -> torch.Tensor:
        mean_square = vectors.square().sum(-2).mean(-1, keepdim=True)
        scale = torch.rsqrt(mean_square + self.eps).unsqueeze(-2)
        return vectors * scale * self.weight
