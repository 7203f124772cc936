"""Batching from memory: shuffled index batches driven by an explicit ``torch.Generator``.

Whole datasets live in memory as tensors, so a batch is an indexing operation, not a worker process.
:class:`BatchSampler` keeps its position and its current permutation as state, so a training run
checkpointed in the middle of an epoch resumes on exactly the batch it would have seen next.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from ..errors import DataError


class BatchSampler:
    """Yields index tensors that cover ``range(n)`` once per epoch.

    Args:
        n: number of samples.
        batch_size: samples per batch (the last batch may be smaller unless ``drop_last``).
        shuffle: draw a fresh permutation each epoch from ``generator``.
        drop_last: skip a final incomplete batch.
        generator: the random source for the permutations; a seeded one makes runs repeatable.
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        *,
        shuffle: bool = True,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        if n <= 0:
            raise DataError("cannot batch an empty dataset; pass at least one sample")
        if batch_size <= 0:
            raise DataError(f"batch_size must be positive, got {batch_size}")
        self.n = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last and n >= batch_size
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self._perm: torch.Tensor | None = None
        self._pos = 0

    def __len__(self) -> int:
        """Batches per epoch."""
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)

    def _new_epoch(self) -> None:
        if self.shuffle:
            self._perm = torch.randperm(self.n, generator=self.generator)
        else:
            self._perm = torch.arange(self.n)
        self._pos = 0

    def __iter__(self) -> Iterator[torch.Tensor]:
        """Iterate over the rest of the current epoch (a new epoch if the last one finished)."""
        if self._perm is None or self._pos >= len(self):
            self._new_epoch()
        while self._pos < len(self):
            start = self._pos * self.batch_size
            idx = self._perm[start : start + self.batch_size]
            self._pos += 1
            yield idx

    @property
    def position(self) -> int:
        """Index of the next batch within the current epoch."""
        return self._pos

    def state_dict(self) -> dict[str, Any]:
        return {
            "perm": self._perm.clone() if self._perm is not None else torch.empty(0, dtype=torch.long),
            "pos": self._pos,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        perm = state["perm"]
        if perm.numel() not in (0, self.n):
            raise DataError(
                f"the checkpoint's batch order covers {perm.numel()} samples but the data has {self.n}; "
                "resume with the same data"
            )
        self._perm = perm.clone() if perm.numel() else None
        self._pos = int(state["pos"])
        self.generator.set_state(state["generator"])


def iterate_batches(
    x: torch.Tensor,
    batch_size: int,
    *,
    y: torch.Tensor | None = None,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """One pass over ``x`` (and ``y``) in batches: a convenience for evaluation loops."""
    sampler = BatchSampler(len(x), batch_size, shuffle=shuffle, generator=generator)
    for idx in sampler:
        yield x[idx], (y[idx] if y is not None else None)
