"""Small sampling and enumeration helpers shared by the energy-based models."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..._device import DeviceLike, rand
from ...errors import ConfigError

#: configurations summed per chunk when enumerating binary states
CHUNK_BITS = 16
#: the most units genlab sums over exactly (2**20 configurations)
MAX_EXACT_UNITS = 20


def bernoulli(p: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Binary draws with probabilities ``p`` (same shape and dtype), from ``generator``.

    ``u < p`` for uniform ``u``: three times faster than ``torch.bernoulli`` on the CPU (0.35 vs 1 ms for a
    128x500 batch here), with the same distribution. The uniforms are drawn on ``generator``'s device and
    compared on ``p``'s.
    """
    return rand(p.shape, generator=generator, device=p.device, dtype=p.dtype).lt_(p)


def inverse_temperature(temperature: float) -> float:
    """``1 / T``, with a :class:`ConfigError` unless ``T > 0``."""
    if not temperature > 0:
        raise ConfigError(f"temperature must be > 0, got {temperature}")
    return 1.0 / temperature


def states(
    n: int, start: int = 0, stop: int | None = None, dtype: torch.dtype = torch.float64, device: DeviceLike = None
) -> torch.Tensor:
    """Binary configurations ``start..stop-1`` of ``n`` units as rows ``(stop - start, n)`` on ``device`` (default:
    the CPU); bit ``i`` is unit ``i``."""
    stop = 2**n if stop is None else stop
    codes = torch.arange(start, stop, dtype=torch.int64, device=device)
    return ((codes[:, None] >> torch.arange(n, device=device)) & 1).to(dtype)


def logsumexp_chunks(
    fn: Callable[[torch.Tensor], torch.Tensor], n: int, dtype: torch.dtype = torch.float64, device: DeviceLike = None
):
    """``log sum_s exp(fn(s))`` over all ``2**n`` binary ``s`` (made on ``device``), in chunks; ``fn`` maps
    ``(M, n)`` to ``(M,)``."""
    total = 2**n
    step = 2**CHUNK_BITS
    parts = [torch.logsumexp(fn(states(n, a, min(a + step, total), dtype, device)), 0) for a in range(0, total, step)]
    return torch.logsumexp(torch.stack(parts), 0)


def rbm_log_partition(W: torch.Tensor, b: torch.Tensor, c: torch.Tensor, sigma: torch.Tensor | None = None) -> float:
    """Exact ``log Z`` of an RBM ``(W (D, H), b, c)`` by summing over the smaller layer (at most 20 units).

    With ``sigma`` the visibles are Gaussian (standardized units) and are integrated out in closed form:
    ``int exp(-(v-b)^2 / 2 sigma^2 + v a / sigma) dv = sqrt(2 pi) sigma exp(b a / sigma + a^2 / 2)``.
    """
    W, b, c = W.double(), b.double(), c.double()
    n_v, n_h = W.shape
    if sigma is not None:
        if n_h > MAX_EXACT_UNITS:
            raise ConfigError(f"exact log Z sums over 2**n_hidden states; n_hidden={n_h} > {MAX_EXACT_UNITS}")
        sig = sigma.double()

        def term(h: torch.Tensor) -> torch.Tensor:
            a = h @ W.t()
            return h @ c + (a * b / sig + a.square() / 2).sum(1)

        return float(logsumexp_chunks(term, n_h, device=W.device) + (0.5 * math.log(2 * math.pi) + sig.log()).sum())
    if min(n_v, n_h) > MAX_EXACT_UNITS:
        raise ConfigError(
            f"exact log Z needs a layer of at most {MAX_EXACT_UNITS} units (this RBM is {n_v}-{n_h}); "
            "estimate it with genlab.metrics.log_partition (AIS)"
        )
    if n_h <= n_v:
        return float(logsumexp_chunks(lambda h: h @ c + F.softplus(h @ W.t() + b).sum(1), n_h, device=W.device))
    return float(logsumexp_chunks(lambda v: v @ b + F.softplus(v @ W + c).sum(1), n_v, device=W.device))
