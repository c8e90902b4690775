"""Learning rate: linear warm-up over the first epochs, then plateau or cosine decay."""

from __future__ import annotations

import math
from typing import Any

import torch


class WarmupThenDecay:
    """Sets the optimizer's learning rate each step.

    ``lr = base * warmup * decay``: ``warmup`` rises linearly from ``1/steps`` to 1 over
    ``warmup_steps``; ``decay`` is multiplied by ``factor`` after ``patience`` epochs without
    a better validation metric ("plateau"), or follows a cosine from 1 to ``min_lr / base`` over
    ``total_epochs`` ("cosine"). All state is in ``state_dict`` (for resuming).
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        base_lr: float,
        warmup_steps: int,
        kind: str,
        factor: float,
        patience: int,
        min_lr: float,
        total_epochs: int,
    ) -> None:
        self.optimizer = optimizer
        self.base_lr, self.warmup_steps, self.kind = base_lr, max(int(warmup_steps), 1), kind
        self.factor, self.patience, self.min_lr, self.total_epochs = factor, patience, min_lr, total_epochs
        self.step_count = 0
        self.decay = 1.0
        self.best = math.inf
        self.bad_epochs = 0
        self._apply()

    @property
    def learning_rate(self) -> float:
        return self.base_lr * min(1.0, (self.step_count + 1) / self.warmup_steps) * self.decay

    def step(self) -> None:
        """After an optimizer step."""
        self.step_count += 1
        self._apply()

    def start_at(self, epoch: int) -> None:
        """Resuming after ``epoch`` completed epochs: a cosine schedule takes its value there."""
        if self.kind == "cosine":
            self._cosine(epoch)
            self._apply()

    def end_epoch(self, epoch: int, metric: float) -> None:
        """After epoch ``epoch`` (counting from 1) with validation ``metric`` (lower is better)."""
        if self.kind == "cosine":
            self._cosine(epoch)
        elif metric < self.best:
            self.best, self.bad_epochs = metric, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs > self.patience:
                self.decay = max(self.decay * self.factor, self.min_lr / self.base_lr)
                self.bad_epochs = 0
        self._apply()

    def state_dict(self) -> dict[str, Any]:
        return {"step_count": self.step_count, "decay": self.decay, "best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step_count, self.decay = int(state["step_count"]), float(state["decay"])
        self.best, self.bad_epochs = float(state["best"]), int(state["bad_epochs"])
        self._apply()

    def _cosine(self, epoch: int) -> None:
        progress = min(epoch / self.total_epochs, 1.0)
        floor = self.min_lr / self.base_lr
        self.decay = floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def _apply(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate
