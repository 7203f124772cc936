"""Noise for free functions and network blocks: drawn where the generator lives, delivered where it is used.

The same draws as the plain torch calls (``torch.randn(shape, generator=g)``...), so the numbers on the CPU do not
change; on a GPU a CPU generator still works (the draw is made on the CPU and moved) and a CUDA generator draws on
its GPU. Models use the matching methods of :class:`~genlab.models.base.GenerativeModel` (``self.randn``...),
which deliver on the model's device. Without a generator the draw comes from torch's global RNG on ``device``.
The factories take ``device`` as a required keyword, so a caller cannot forget where the noise is used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

DeviceLike = torch.device | str | None


def _on(t: torch.Tensor, device: DeviceLike) -> torch.Tensor:
    return t if device is None or t.device == torch.device(device) else t.to(device)  # None: where drawn


def _source(generator: torch.Generator | None, device: DeviceLike) -> DeviceLike:
    return generator.device if generator is not None else device


def randn(
    *shape: Any, generator: torch.Generator | None = None, device: DeviceLike, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """``torch.randn(*shape, generator=generator, dtype=dtype)`` on ``device``."""
    return _on(torch.randn(*shape, generator=generator, device=_source(generator, device), dtype=dtype), device)


def rand(
    *shape: Any, generator: torch.Generator | None = None, device: DeviceLike, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """``torch.rand(*shape, generator=generator, dtype=dtype)`` on ``device``."""
    return _on(torch.rand(*shape, generator=generator, device=_source(generator, device), dtype=dtype), device)


def randint(
    low: int,
    high: int,
    shape: Any,
    generator: torch.Generator | None = None,
    *,
    device: DeviceLike,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """``torch.randint(low, high, shape, generator=generator)`` on ``device``."""
    kw = {} if dtype is None else {"dtype": dtype}
    out = torch.randint(low, high, tuple(shape), generator=generator, device=_source(generator, device), **kw)
    return _on(out, device)


def randperm(n: int, generator: torch.Generator | None = None, *, device: DeviceLike) -> torch.Tensor:
    """``torch.randperm(n, generator=generator)`` on ``device``."""
    return _on(torch.randperm(n, generator=generator, device=_source(generator, device)), device)


def bernoulli(p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """``torch.bernoulli(p, generator=generator)`` on ``p``'s device."""
    if generator is None or generator.device == p.device:
        return torch.bernoulli(p, generator=generator)
    return torch.bernoulli(p.to(generator.device), generator=generator).to(p.device)


def multinomial(
    probs: torch.Tensor, k: int, replacement: bool = False, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``torch.multinomial(probs, k, replacement, generator=generator)`` on ``probs``' device."""
    if generator is None or generator.device == probs.device:
        return torch.multinomial(probs, k, replacement=replacement, generator=generator)
    return torch.multinomial(probs.to(generator.device), k, replacement=replacement, generator=generator).to(
        probs.device
    )


def seed_from(generator: torch.Generator) -> int:
    """A seed for torch's global RNG drawn from ``generator`` (``randint(2**62)``, on the generator's device)."""
    return int(torch.randint(2**62, (1,), generator=generator, device=generator.device))


@contextlib.contextmanager
def seeded_global_rng(seed: int, device: DeviceLike = None) -> Iterator[None]:
    """Seed torch's global RNG of the CPU and of the accelerator ``device`` (which dropout on it draws from) with
    ``seed`` for the block, and give both their states back afterwards; other devices are left alone.

    On the CPU: ``with torch.random.fork_rng(devices=[]): torch.manual_seed(seed)``.
    """
    device = torch.device("cpu" if device is None else device)
    if device.type == "cpu":
        with torch.random.fork_rng(devices=[]):
            torch.random.default_generator.manual_seed(seed)
            yield
        return
    module = torch.get_device_module(device.type)
    if not hasattr(module, "device"):  # one device of its kind (mps)
        with torch.random.fork_rng(device_type=device.type):
            torch.random.default_generator.manual_seed(seed)
            module.manual_seed(seed)
            yield
        return
    index = device.index if device.index is not None else module.current_device()
    with torch.random.fork_rng(devices=[index], device_type=device.type):
        torch.random.default_generator.manual_seed(seed)
        with module.device(index):
            module.manual_seed(seed)
        yield


__all__ = ["bernoulli", "multinomial", "rand", "randint", "randn", "randperm", "seed_from", "seeded_global_rng"]


def to_numpy(t: torch.Tensor) -> Any:
    """``t`` as a NumPy array, wherever it lives (detached and brought to the CPU first: a no-op for a CPU tensor).

    Every tensor genlab hands to NumPy goes through here, so results of a model on a GPU convert like a CPU one's.
    """
    return t.detach().cpu().numpy()


def module_device(module: torch.nn.Module) -> torch.device | None:
    """Where ``module``'s parameters (else buffers) live; ``None`` for a module with neither."""
    for t in module.parameters():
        return t.device
    for t in module.buffers():
        return t.device
    return None


def move_args(args: tuple[Any, ...], kwargs: dict[str, Any], device: torch.device | None):
    """The tensors among ``args`` / ``kwargs`` (top level) moved to ``device`` (``None``: left where they are)."""
    if device is None:
        return args, kwargs

    def mv(a: Any) -> Any:
        return a.to(device) if isinstance(a, torch.Tensor) and a.device != device else a

    return tuple(mv(a) for a in args), {k: mv(v) for k, v in kwargs.items()}
