"""How many CPU threads torch uses for a CLI command, chosen so that a busy machine does not stall training.

PyTorch's CPU build runs each large operation on one OpenMP thread per core, and its threads spin while they
wait for each other. When another process keeps one of the cores busy, every operation waits for the thread
that shares a core with it: on this project's 2-core machine, ``genlab demo`` took 90-110 s with a test
suite running beside it against 11 s with one thread and 10.5 s with two on an idle machine (the cause of
the "first demo took 89 s" report: the time is the training loop's user CPU time, not imports or caches).

So the CLI looks at the machine before it starts work (:func:`choose_threads`): with ``--threads N`` or
``GENLAB_THREADS=N`` it uses N; when ``OMP_NUM_THREADS`` is set it leaves torch as the user configured it;
otherwise it measures how many of the cores it may use are busy over a short interval (Linux
``/proc/stat``) and uses only the idle ones (at least one), saying so when that is fewer than all.
The library itself never changes torch's thread count: a Python user keeps ``torch.set_num_threads``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from .errors import ConfigError

THREADS_ENV = "GENLAB_THREADS"
PROC_STAT = Path("/proc/stat")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1


def _cpu_times(text: str, cpus: set[int] | None) -> dict[int, tuple[int, int]]:
    """``{cpu: (busy jiffies, total jiffies)}`` from the text of ``/proc/stat`` (the ``cpuN`` lines)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        name, fields = parts[0], parts[1:]
        if not name.startswith("cpu") or name == "cpu" or not name[3:].isdigit():
            continue
        cpu = int(name[3:])
        if cpus is not None and cpu not in cpus:
            continue
        values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        out[cpu] = (sum(values) - idle, sum(values))
    return out


def busy_cores(interval: float = 0.2, stat: Path = PROC_STAT) -> float | None:
    """How many of this process's cores other work kept busy over ``interval`` seconds (``None``: unknown).

    Measured from two readings of ``/proc/stat`` (Linux); ``None`` where it does not exist or cannot be read.
    """
    try:
        cpus: set[int] | None = set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = None
    try:
        before = _cpu_times(stat.read_text(), cpus)
        time.sleep(interval)
        after = _cpu_times(stat.read_text(), cpus)
    except (OSError, ValueError, IndexError):
        return None
    busy = 0.0
    for cpu, (b1, t1) in after.items():
        b0, t0 = before.get(cpu, (b1, t1))
        if t1 > t0:
            busy += (b1 - b0) / (t1 - t0)
    return busy if after else None


def choose_threads(
    requested: int | None = None, env: Mapping[str, str] | None = None, busy: float | None = None
) -> tuple[int | None, str | None]:
    """``(threads for torch or None to leave torch alone, a note for the user or None)``.

    Args:
        requested: ``--threads`` (a positive integer), or ``None`` to choose.
        env: the environment (default ``os.environ``): ``GENLAB_THREADS`` and ``OMP_NUM_THREADS`` are read.
        busy: busy cores, measured with :func:`busy_cores` when ``None``.

    Raises:
        ConfigError: ``requested`` or ``GENLAB_THREADS`` is not a positive integer.
    """
    env = os.environ if env is None else env
    if requested is None and env.get(THREADS_ENV, "").strip():
        text = env[THREADS_ENV].strip()
        if not text.isdigit():
            raise ConfigError(f"{THREADS_ENV}={text!r} must be a positive integer (threads), e.g. {THREADS_ENV}=2")
        requested = int(text)
    if requested is not None:
        if requested < 1:
            raise ConfigError(f"--threads must be at least 1, got {requested}")
        return requested, None
    if env.get("OMP_NUM_THREADS", "").strip():  # the user configured OpenMP: torch already follows it
        return None, None
    cores = usable_cores()
    if cores <= 1:
        return None, None
    busy = busy_cores() if busy is None else busy
    if busy is None:
        return None, None
    taken = min(cores - 1, math.floor(busy + 0.5))  # a core counts as taken when it is mostly busy
    if taken <= 0:
        return cores, None
    threads = cores - taken
    note = (
        f"{taken} of the {cores} cores are busy with other processes: computing on {threads} thread"
        f"{'s' if threads > 1 else ''} (torch slows down many times over when its threads share cores); "
        f"--threads {cores} uses them all"
    )
    return threads, note


def configure(requested: int | None = None, quiet: bool = False) -> int | None:
    """Set torch's intra-op threads for a CLI command (see :func:`choose_threads`); the number set, or ``None``."""
    threads, note = choose_threads(requested)
    if threads is None:
        return None
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if note and not quiet:
        print(f"genlab: {note}", file=sys.stderr)
    return threads
