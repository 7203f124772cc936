"""Devices, mixed precision, torch.compile and data-parallel training, for the one trainer.

**Devices.** :func:`resolve_device` turns ``auto | cpu | cuda | cuda:N | mps`` into a ``torch.device``, with a
one-line error when the machine lacks it. The trainer moves the model and the in-memory data there once.

**Precision.** :class:`Precision` is ``32``, ``bf16-mixed`` or ``16-mixed``: the training step runs under
``torch.autocast``; ``16-mixed`` (GPU only) also scales the loss with a ``GradScaler``. A model lists the
precisions it supports in ``precisions`` (energy models, whose updates are exact sufficient statistics, say
``("32",)`` and why in ``precision_note``).

**Data parallel.** Started by ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the
rendezvous), every process holds the whole dataset in memory and draws the same global batch order (one seed);
each takes its contiguous shard of every global batch. Models do their own backward passes and optimizer steps
(two optimizers for a GAN, n_critic loops, gradients set by hand for an RBM), so gradients are averaged where
every family meets: just before each ``optimizer.step()``, by a hook on the optimizer (:class:`GradientReducer`),
weighted by each shard's share of the batch. That is what ``DistributedDataParallel`` computes, without DDP's
wrapper, which supports neither ``torch.autograd.grad`` (the gradient penalties) nor gradients set by hand.
Each process draws its own noise from a seed derived from the run's seed and its rank (:func:`rank_seed`);
rank 0 draws exactly the noise a one-process run draws. Metrics are averaged over the processes; rank 0 runs
the callbacks that write (checkpoints, samples, progress) and its decisions (stop, checkpoint now) are
broadcast so every process leaves the loop at the same step.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import torch
import torch.distributed as dist

from ..errors import ConfigError, TrainingError

DEVICE_CHOICES = "auto, cpu, cuda, cuda:N or mps"
PRECISIONS = ("32", "bf16-mixed", "16-mixed")


# --- devices -------------------------------------------------------------------------------------------
def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """The ``torch.device`` for ``auto | cpu | cuda | cuda:N | mps``.

    ``auto`` picks this process's CUDA GPU (``cuda:LOCAL_RANK`` under torchrun), else Apple's MPS, else the CPU.

    Raises:
        ConfigError: an unknown name, or a device this machine does not have.
    """
    if isinstance(spec, torch.device):
        spec = str(spec)
    text = (spec or "auto").strip().lower()
    local = int(os.environ.get("LOCAL_RANK", "0") or 0)
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local % torch.cuda.device_count())
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "mps":
        if not _mps_available():
            raise ConfigError("--device mps was asked for but this machine has no Apple GPU (MPS); use --device cpu")
        return torch.device("mps")
    if text == "cuda" or text.startswith("cuda:"):
        index_text = text[5:] if text.startswith("cuda:") else None
        if index_text is not None and not index_text.isdigit():
            raise ConfigError(f"unknown device {spec!r}: a GPU is cuda or cuda:N with N a number, e.g. cuda:0")
        if not torch.cuda.is_available():
            build = "a CPU-only build of torch" if torch.version.cuda is None else "no CUDA GPU visible"
            raise ConfigError(
                f"--device {text} was asked for but this machine has {build} (torch {torch.__version__}); "
                "use --device cpu (or auto)"
            )
        count = torch.cuda.device_count()
        index = int(index_text) if index_text is not None else local
        if index >= count:
            raise ConfigError(f"--device {text}: this machine has {count} CUDA GPU(s), numbered 0..{count - 1}")
        return torch.device("cuda", index)
    raise ConfigError(f"unknown device {spec!r}; choose {DEVICE_CHOICES}")


# --- precision -------------------------------------------------------------------------------------------
class Precision:
    """The arithmetic of the training step: ``32`` (float32), ``bf16-mixed`` or ``16-mixed``.

    Args:
        name: one of :data:`PRECISIONS` (``"fp32"``, ``"bf16"`` and ``"fp16"``/``"16"`` are accepted spellings).
        device: where the step runs; ``16-mixed`` needs a GPU (float16 autocast on the CPU is slow and
            numerically fragile; the CPU's mixed precision is bf16-mixed).
    """

    _ALIASES: ClassVar[dict[str, str]] = {
        **{"32": "32", "fp32": "32", "32-true": "32", "bf16": "bf16-mixed", "bf16-mixed": "bf16-mixed"},
        **{"16": "16-mixed", "fp16": "16-mixed", "16-mixed": "16-mixed"},
    }

    def __init__(self, name: str = "32", device: torch.device | str = "cpu") -> None:
        self.name = self.canonical(name)
        self.device = torch.device(device)
        if self.name == "16-mixed" and self.device.type == "cpu":
            raise ConfigError("precision 16-mixed (float16) needs a GPU; on the CPU use --precision bf16-mixed (or 32)")
        self.dtype = {"32": None, "bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}[self.name]
        self.scaler = torch.amp.GradScaler(self.device.type) if self.name == "16-mixed" else None

    @classmethod
    def canonical(cls, name: str) -> str:
        """The precision's name in :data:`PRECISIONS`; :class:`ConfigError` for an unknown one."""
        key = str(name).strip().lower()
        if key not in cls._ALIASES:
            raise ConfigError(f"unknown precision {name!r}; choose {', '.join(PRECISIONS)}")
        return cls._ALIASES[key]

    def check_model(self, model: Any) -> None:
        """A :class:`ConfigError` if the model cannot train at this precision (it says why)."""
        supported = tuple(getattr(model, "precisions", PRECISIONS))
        if self.name not in supported:
            note = getattr(model, "precision_note", "")
            raise ConfigError(
                f"{model.registry_name or type(model).__name__} trains at precision {', '.join(supported)} only"
                f"{': ' + note if note else ''}; drop --precision {self.name}"
            )

    def autocast(self) -> contextlib.AbstractContextManager:
        """The context the training step runs in (a no-op at float32)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def state_dict(self) -> dict[str, Any]:
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)


# --- the process group ----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class World:
    """This process's place among the training processes (``size`` 1: not distributed)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files and talks to the user."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def _env_int(name: str) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ConfigError(f"the environment variable {name}={text!r} must be a number (torchrun sets it)")
    return int(text)


def world_size_from_env() -> int:
    """``WORLD_SIZE`` as torchrun set it (1 outside torchrun)."""
    return _env_int("WORLD_SIZE") or 1


def launch(argv: Sequence[str], nproc: int, device: torch.device) -> int:
    """Run ``genlab <argv>`` in ``nproc`` processes on this machine through torchrun; the exit code.

    Each CPU process computes on ``cores // nproc`` threads (torchrun's own default is one). A failed process
    has printed its own one-line error; this adds one line saying which process failed.
    """
    import logging
    import sys

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser
    from torch.distributed.run import run as torchrun

    if device.type == "cpu" and not os.environ.get("OMP_NUM_THREADS"):
        os.environ["OMP_NUM_THREADS"] = str(max(1, max_processes(device) // nproc))
    logging.getLogger("torch.distributed.elastic").setLevel(logging.ERROR)  # its banners are not for users
    parsed = get_args_parser().parse_args(
        ["--standalone", f"--nproc-per-node={nproc}", "--max-restarts=0", "--module", "genlab", *argv]
    )
    try:
        torchrun(parsed)
    except ChildFailedError as exc:
        failures = exc.failures
        rank, failure = min(failures.items()) if failures else (0, None)
        code = failure.exitcode if failure is not None else 1
        print(f"genlab: error: training process {rank} of {nproc} exited with code {code}", file=sys.stderr)
        return code if isinstance(code, int) and code > 0 else 1
    return 0


def env_is_main() -> bool:
    """True unless torchrun started this process as a rank other than 0 (readable before the group exists)."""
    return (_env_int("RANK") or 0) == 0


def world() -> World:
    """The current :class:`World`: from the initialised process group, else ``World()`` (one process)."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), _env_int("LOCAL_RANK") or 0)
    return World()


def init_from_env(device: torch.device | None = None) -> World:
    """Join the process group torchrun describes in the environment (once); ``World()`` outside torchrun.

    The backend is nccl for CUDA devices and gloo otherwise.

    Raises:
        ConfigError: torchrun's variables are inconsistent, or torch was built without distributed support.
    """
    size = _env_int("WORLD_SIZE")
    if size is None or size <= 1:
        return world()
    if not dist.is_available():
        raise ConfigError("this build of torch has no torch.distributed; train in one process (without torchrun)")
    if not dist.is_initialized():
        rank = _env_int("RANK")
        if rank is None or rank >= size:
            raise ConfigError(f"WORLD_SIZE={size} but RANK={os.environ.get('RANK')!r}; launch with torchrun")
        backend = "nccl" if device is not None and device.type == "cuda" else "gloo"
        if device is not None and device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, rank=rank, world_size=size)
        atexit.register(shutdown)  # a process group left open makes gloo abort at interpreter exit
    return world()


def shutdown() -> None:
    """Leave the process group, if this process joined one (after the others are done with it)."""
    global _SHM
    _SHM = None
    if dist.is_available() and dist.is_initialized():
        with contextlib.suppress(Exception):
            dist.barrier()
        dist.destroy_process_group()


def rank_seed(seed: int, rank: int) -> int:
    """The seed of process ``rank``'s noise: the run's seed on rank 0 (a one-process run's noise), distinct and
    fixed by ``(seed, rank)`` on the others."""
    if rank == 0:
        return seed
    return (seed * 1_000_003 + rank * 7_919_993) % (2**63 - 1)


def shard(n: int, world: World) -> slice:
    """This process's contiguous rows of a global batch of ``n`` rows (sizes differ by at most one)."""
    base, extra = divmod(n, world.size)
    start = world.rank * base + min(world.rank, extra)
    return slice(start, start + base + (1 if world.rank < extra else 0))


def check_world(batch_size: int, world: World, device: torch.device) -> None:
    """The one-line errors of a distributed run that cannot work: more processes than rows or than cores."""
    if not world.distributed:
        return
    if batch_size < world.size:
        raise ConfigError(
            f"batch_size {batch_size} is smaller than the {world.size} processes: each process needs at least one "
            f"row of every batch; use --batch-size {world.size} or more (the batch size is the global one)"
        )


def max_processes(device: torch.device | str) -> int:
    """How many training processes this machine can run at once: its GPUs, or its CPU cores."""
    from ..threads import usable_cores

    dev = torch.device(device) if not isinstance(device, torch.device) else device
    if dev.type == "cuda":
        return torch.cuda.device_count()
    return usable_cores()


# --- same-host CPU collectives through shared memory ----------------------------------------------------
class SharedMemoryReducer:
    """Sums of CPU tensors over the processes of one machine, through a shared-memory segment.

    gloo reduces over TCP: on this project's 2-core machine one all-reduce costs 0.8 ms even for three numbers
    (1.9 ms for a VAE's 650k gradients), more than half of a VAE step's compute. When every process runs on the
    same host and the tensors are on the CPU, the trainer's per-step collectives (gradients, metrics, rank 0's
    decisions) go through here instead: each process writes its tensor into its own row of a shared buffer,
    publishes a sequence number, waits for the others' (spinning, then yielding the core), and adds the rows up
    in rank order (so every process computes bit-identical sums, as gloo's do). Rows alternate between two
    buffers, so a process can write the next reduction while a slower one still reads the last. 10 us for a few
    numbers, 1.4 ms for 650k floats on the same machine. ``GENLAB_COLLECTIVES=gloo`` turns it off.

    Stores become visible in program order on x86-64 (total store order), which the publish step relies on; on
    other architectures the trainer stays on gloo.
    """

    _SEQ_BYTES = 64 * 8

    def __init__(self, world: World, capacity_bytes: int = 1 << 20) -> None:
        self.world = world
        self._gen = 0
        self._map(capacity_bytes)

    @staticmethod
    def usable(world: World) -> bool:
        import platform

        if not world.distributed or os.environ.get("GENLAB_COLLECTIVES", "").strip().lower() == "gloo":
            return False
        local = _env_int("LOCAL_WORLD_SIZE")
        return local == world.size and platform.machine().lower() in ("x86_64", "amd64")

    def _map(self, capacity: int) -> None:
        import mmap
        import tempfile

        import numpy as np

        w = self.world
        size = self._SEQ_BYTES + 2 * w.size * capacity
        path = None
        if w.is_main:
            folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
            fd, path = tempfile.mkstemp(prefix="genlab-reduce-", dir=folder)
            os.ftruncate(fd, size)
            os.close(fd)
        path = broadcast_object(path)
        with open(path, "r+b") as f:
            self._mm = mmap.mmap(f.fileno(), size)
        dist.barrier()
        if w.is_main:  # every process has it mapped: the name can go, the memory stays until the last unmaps it
            os.unlink(path)
        self.capacity = capacity
        self._seq = np.frombuffer(self._mm, dtype=np.int64, count=w.size)
        self._data = np.frombuffer(self._mm, dtype=np.uint8, offset=self._SEQ_BYTES).reshape(2, w.size, capacity)

    def _rows(self, n: int, dtype: torch.dtype) -> torch.Tensor:
        """The two buffers' rows for ``n`` values of ``dtype``, as a ``(2, world, n)`` tensor view."""
        nbytes = n * torch.empty((), dtype=dtype).element_size()
        if nbytes > self.capacity:  # every process asks for the same n, so all grow together
            self._map(-(-max(nbytes, 2 * self.capacity) // 64) * 64)  # rows stay aligned for every dtype
        return torch.from_numpy(self._data[:, :, :nbytes]).view(dtype)

    def all_reduce_(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` (contiguous, CPU) replaced by its sum over the processes; returns it."""
        self._gen += 1
        gen, rank = self._gen, self.world.rank
        rows = self._rows(t.numel(), t.dtype)[gen % 2]
        rows[rank].copy_(t.reshape(-1))
        self._seq[rank] = gen  # publish: the row above is written
        seq, spins = self._seq, 0
        while (seq < gen).any():
            spins += 1
            if spins > 200:
                os.sched_yield()  # the other processes may need this core to get here
        flat = t.view(-1)
        torch.add(rows[0], rows[1], out=flat)
        for j in range(2, self.world.size):
            flat.add_(rows[j])
        return t


_SHM: SharedMemoryReducer | None = None


def _all_reduce_(t: torch.Tensor) -> torch.Tensor:
    """Sum ``t`` over the processes in place: shared memory on one x86 host with CPU tensors, else torch's group."""
    global _SHM
    w = world()
    if t.device.type == "cpu" and t.is_contiguous() and SharedMemoryReducer.usable(w):
        if _SHM is None or _SHM.world != w:
            _SHM = SharedMemoryReducer(w)
        return _SHM.all_reduce_(t)
    dist.all_reduce(t)
    return t


# --- collectives the trainer uses -----------------------------------------------------------------------
class GradientReducer:
    """Averages the gradients of every optimizer's parameters over the processes, just before each step.

    One flat all-reduce per ``optimizer.step()``: the gradients of that optimizer, each scaled by this process's
    share of the batch (:attr:`weight`) and summed. After it every process holds the gradient of the whole
    batch, so every process takes the same step and the parameters stay identical.
    """

    def __init__(self, optimizers: Sequence[torch.optim.Optimizer], world: World) -> None:
        self.world = world
        self.weight = 1.0 / world.size
        self._done: set[int] = set()
        self._handles = [opt.register_step_pre_hook(self._hook) for opt in optimizers]

    def _hook(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        if id(optimizer) in self._done:  # already reduced (the GradScaler path reduces before unscaling)
            self._done.discard(id(optimizer))
            return
        self.reduce(optimizer)

    def reduce(self, optimizer: torch.optim.Optimizer, mark: bool = False) -> None:
        """All-reduce ``optimizer``'s gradients now (``mark``: and let its next step's hook skip them)."""
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if grads:
            flat = torch.cat([g.reshape(-1) for g in grads]).mul_(self.weight)
            _all_reduce_(flat)
            offset = 0
            for g in grads:
                n = g.numel()
                g.copy_(flat[offset : offset + n].view_as(g))
                offset += n
        if mark:
            self._done.add(id(optimizer))

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []


def broadcast_state(module: torch.nn.Module) -> None:
    """Rank 0's parameters and buffers on every process (the start of a data-parallel fit, like DDP's)."""
    with torch.no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            dist.broadcast(t.data, src=0)


def weighted_sum(values: Sequence[float], weight: float, device: torch.device) -> list[float]:
    """``sum over processes of weight * values`` (a weighted mean when the weights sum to one)."""
    t = torch.tensor([float(v) * weight for v in values], dtype=torch.float64, device=device)
    return _all_reduce_(t).tolist()


def broadcast_flags(flags: Sequence[int], device: torch.device) -> list[int]:
    """Rank 0's ``flags`` on every process."""
    mine = list(flags) if world().is_main else [0] * len(flags)  # a sum in which only rank 0's values count
    t = torch.tensor(mine, dtype=torch.int64, device=device)
    return [int(v) for v in _all_reduce_(t).tolist()]


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` (picklable, e.g. a path) on every process; ``obj`` itself in one process."""
    if not world().distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_to_main(obj: Any) -> list[Any] | None:
    """Every process's ``obj``, in rank order, on rank 0 (``None`` on the others)."""
    w = world()
    if not w.distributed:
        return [obj]
    out = [None] * w.size if w.is_main else None
    dist.gather_object(obj, out, dst=0)
    return out


@contextlib.contextmanager
def sync_batchnorm(model: torch.nn.Module, enabled: bool) -> Iterator[None]:
    """Within the block, the model's batch-norm layers use the statistics of the whole batch across processes."""
    if not enabled:
        yield
        return
    from ..nn.collective import convert_sync_batchnorm, restore_batchnorm

    swapped = convert_sync_batchnorm(model)
    try:
        yield
    finally:
        restore_batchnorm(swapped)


def compile_model(model: Any) -> list[str]:
    """Compile the model's networks in place with ``torch.compile`` (``Module.compile``: state-dict keys are
    kept, so checkpoints and model directories do not change); the names compiled.

    A model says which of its networks gain in ``compile_targets()``; the default is every direct child module
    with parameters.

    Raises:
        TrainingError: this torch cannot compile here (no C++ compiler for the CPU backend, ...).
    """
    targets = model.compile_targets() if hasattr(model, "compile_targets") else None
    if targets is None:
        targets = [(n, m) for n, m in model.named_children() if any(True for _ in m.parameters())]
    if not targets:
        raise ConfigError(f"{model.registry_name} has no network that torch.compile can speed up; drop --compile")
    import shutil

    if not any(shutil.which(c) for c in ("g++", "c++", "clang++")) and next(model.parameters()).device.type == "cpu":
        raise TrainingError(
            "--compile on the CPU needs a C++ compiler for torch's inductor backend and none was found; "
            "install one (Debian: apt-get install g++) or drop --compile"
        )
    for _, module in targets:
        module.compile()
    return [n for n, _ in targets]
