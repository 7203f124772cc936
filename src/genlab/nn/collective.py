"""What a network needs to know about data-parallel training: the batch it sees may be one shard of it.

Under ``torchrun`` each process holds a shard of every batch. Gradients are averaged by the trainer, but a few
layers compute statistics of the batch itself (ActNorm's data-dependent initialisation, batch norm, an RBM's
centering offsets); they call :func:`shard_mean` so the statistic is the one of the whole batch. In one process
(no process group, or a group of one) every function here is the identity, and costs nothing.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def world_size() -> int:
    """Processes in the default process group (1 when torch.distributed is not initialised)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def shard_mean(t: torch.Tensor) -> torch.Tensor:
    """The mean of ``t`` over the processes (``t`` itself in one process); not differentiable.

    For a statistic that each process computes on its shard of a batch (a mean over its rows), this is the
    statistic of the whole batch when the shards are the same size, as the trainer makes them.
    """
    n = world_size()
    if n == 1:
        return t
    out = t.detach().clone()
    dist.all_reduce(out)
    return out.div_(n)


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose batch statistics are those of the whole batch across processes, on any backend.

    torch's own ``nn.SyncBatchNorm`` runs on CUDA only; this one reduces ``(sum, sum of squares, count)``
    with a differentiable all-reduce, so it runs with gloo on the CPU as well, and gradients flow through the
    other processes' statistics as they would through one big batch. In eval mode, or in one process, it is
    exactly :class:`torch.nn.BatchNorm2d` / ``1d`` (same parameters and buffers, so state dicts interchange).
    """

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"SyncBatchNorm expects a batch of shape (B, C, ...), got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or world_size() == 1:
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        dims = [0, *range(2, x.dim())]
        count = torch.tensor(float(x.numel() // x.shape[1]), dtype=x.dtype, device=x.device)
        stats = torch.cat([x.sum(dims), x.square().sum(dims), count.reshape(1)])
        stats = all_reduce(stats)  # differentiable: the backward pass sums the gradients of every process
        c = x.shape[1]
        n = stats[-1]
        mean = stats[:c] / n
        var = (stats[c : 2 * c] / n - mean.square()).clamp_min(0.0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean.detach(), m)
                self.running_var.lerp_(var.detach() * n / (n - 1).clamp_min(1.0), m)
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + self.eps)
        if self.affine:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y


def convert_sync_batchnorm(module: nn.Module) -> list[tuple[nn.Module, str, _BatchNorm]]:
    """Swap every batch-norm layer of ``module`` for a :class:`SyncBatchNorm` sharing its parameters and buffers.

    Returns what was swapped, for :func:`restore_batchnorm` to put back after training.
    """
    swapped = []
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, _BatchNorm) and not isinstance(child, SyncBatchNorm):
                c = child
                sync = SyncBatchNorm(c.num_features, c.eps, c.momentum, c.affine, c.track_running_stats)
                sync.weight, sync.bias = child.weight, child.bias
                for buf in ("running_mean", "running_var", "num_batches_tracked"):
                    setattr(sync, buf, getattr(child, buf))
                sync.train(child.training)
                setattr(parent, name, sync)
                swapped.append((parent, name, child))
    return swapped


def restore_batchnorm(swapped: list[tuple[nn.Module, str, _BatchNorm]]) -> None:
    """Put back the layers :func:`convert_sync_batchnorm` swapped (their parameters and buffers were shared)."""
    for parent, name, original in reversed(swapped):
        current = getattr(parent, name)
        original.train(current.training)
        setattr(parent, name, original)
