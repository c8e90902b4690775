"""Reshaping between channels and attention heads, for invariant and equivariant features.

An invariant feature ``(..., C)`` splits into ``(..., H, C/H)``. An equivariant feature
``(..., 3, C)`` splits into ``(..., H, 3 C/H)``: each head sees its channels' xyz components
flattened, so a dot product over the last axis is a sum over xyz and channels (invariant).
"""

from __future__ import annotations

import torch


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """``(..., C) -> (..., H, C/H)``."""
    return x.unflatten(-1, (num_heads, -1))


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``(..., H, D) -> (..., H D)``."""
    return x.flatten(-2)


def split_vector_heads(v: torch.Tensor, num_heads: int) -> torch.Tensor:
    """``(..., 3, C) -> (..., H, 3 C/H)``."""
    return v.unflatten(-1, (num_heads, -1)).transpose(-3, -2).flatten(-2)


def merge_vector_heads(x: torch.Tensor) -> torch.Tensor:
    """``(..., H, 3 D) -> (..., 3, H D)``; the inverse of ``split_vector_heads``."""
    return x.unflatten(-1, (3, -1)).transpose(-3, -2).flatten(-2)
