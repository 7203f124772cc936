"""Small sampling and enumeration helpers shared by the energy-based models."""

from __future__ import annotations

from collections.abc import Callable

import torch

#: configurations summed per chunk when enumerating binary states
CHUNK_BITS = 16


def bernoulli(p: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Binary draws with probabilities ``p`` (same shape and dtype), from ``generator``.

    ``u < p`` for uniform ``u``: three times faster than ``torch.bernoulli`` on the CPU (0.35 vs 1 ms for a
    128x500 batch here), with the same distribution.
    """
    return torch.rand(p.shape, generator=generator, dtype=p.dtype).lt_(p)


def states(n: int, start: int = 0, stop: int | None = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Binary configurations ``start..stop-1`` of ``n`` units as rows ``(stop - start, n)``; bit ``i`` is unit ``i``."""
    stop = 2**n if stop is None else stop
    codes = torch.arange(start, stop, dtype=torch.int64)
    return ((codes[:, None] >> torch.arange(n)) & 1).to(dtype)


def logsumexp_chunks(fn: Callable[[torch.Tensor], torch.Tensor], n: int, dtype: torch.dtype = torch.float64):
    """``log sum_s exp(fn(s))`` over all ``2**n`` binary ``s``, in chunks; ``fn`` maps ``(M, n)`` to ``(M,)``."""
    total = 2**n
    step = 2**CHUNK_BITS
    parts = [torch.logsumexp(fn(states(n, a, min(a + step, total), dtype)), 0) for a in range(0, total, step)]
    return torch.logsumexp(torch.stack(parts), 0)
