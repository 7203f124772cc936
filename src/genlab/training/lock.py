"""An exclusive lock on a run directory, so that two processes never write one run.

The lock is a small file beside the run directory, ``<parent>/.<name>.lock``, holding the owner's pid,
host and start time. It sits beside the directory rather than in it so that it also guards a run that does
not exist yet (two new runs with the same ``--out``) and a run being replaced (``--overwrite`` moves the old
directory aside). It is held with ``flock`` for the whole run: the kernel releases it when the owner exits,
even on ``kill -9``, so a lock file left behind by a dead process is recognised as stale and taken over.
Where ``flock`` does not exist (Windows), the file is created exclusively and a lock whose pid is no
longer alive on this host counts as stale.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from ..errors import RunLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


def lock_path(run_dir: str | Path) -> Path:
    """Where the lock of ``run_dir`` lives: ``<parent>/.<name>.lock``."""
    run_dir = Path(run_dir)
    return run_dir.parent / f".{run_dir.name}.lock"


def _owner() -> dict:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": _dt.datetime.now().isoformat(timespec="seconds"),
    }


def _describe(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']} on {info['host']}, since {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _busy(run_dir: Path, path: Path) -> RunLockedError:
    return RunLockedError(
        f"{run_dir} is in use by another genlab run ({_describe(path)}); wait for it to finish or choose another "
        f"--out (if no such process exists, delete {path})"
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


@contextlib.contextmanager
def run_lock(run_dir: str | Path) -> Iterator[Path]:
    """Hold the exclusive lock of ``run_dir`` for the block.

    Raises:
        RunLockedError: another live process holds it.
    """
    run_dir = Path(run_dir)
    path = lock_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire_flock(run_dir, path) if fcntl is not None else _acquire_exclusive(run_dir, path)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(_owner()) + "\n").encode())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # unlink while still holding the lock: a waiter then sees a new file (see below)
        os.close(fd)


def _acquire_flock(run_dir: Path, path: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _busy(run_dir, path) from None
        # the owner before us may have unlinked the file between our open and our flock: then we hold a lock
        # on a file nobody else can see, so start again on the path as it is now
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _acquire_exclusive(run_dir: Path, path: Path) -> int:  # pragma: no cover - Windows
    for _ in range(2):
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                info = json.loads(path.read_text(encoding="utf-8"))
                stale = info["host"] == socket.gethostname() and not _pid_alive(int(info["pid"]))
            except (OSError, ValueError, KeyError, TypeError):
                stale = False
            if not stale:
                raise _busy(run_dir, path) from None
            path.unlink(missing_ok=True)
    raise _busy(run_dir, path)
