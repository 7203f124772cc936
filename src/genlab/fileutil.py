"""Atomic file writing: nothing a user had is ever half-written.

Every file genlab writes goes to a temporary name in the destination directory, is flushed to disk and
is then renamed over the final name (an atomic operation on POSIX and Windows for same-volume renames).
A reader therefore sees either the old file or the complete new one, even if the process is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is renamed to ``path``.

    Use this for writers that take a filename (``torch.save``, ``PIL.Image.save``, ``savefig``).
    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield tmp_path
        # some writers (safetensors) replace the file and make it 0600 again: set the usual permissions last
        os.chmod(tmp_path, 0o666 & ~_UMASK)
        _fsync_file(tmp_path)
        os.replace(tmp_path, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``path`` atomically when the block ends."""
    if "w" not in mode:
        raise ValueError("atomic_open only supports write modes")
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh
        fh.flush()


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``path`` when the block succeeds.

    If ``path`` exists and ``overwrite`` is False, ``FileExistsError`` is raised before anything is
    written. With ``overwrite`` the old directory is moved aside, the new one renamed in, and only then
    is the old one deleted: apart from the instant between the two renames, ``path`` always holds a
    complete directory.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_UMASK)
    try:
        yield tmp
        for f in tmp.iterdir():
            if f.is_file():
                os.chmod(f, 0o666 & ~_UMASK)  # some writers (safetensors) create files as 0600
                _fsync_file(f)
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.rmdir(old)
            os.replace(path, old)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def link_outside(path: str | os.PathLike, root: str | os.PathLike) -> str | None:
    """Where ``path`` leads if it is a symbolic link out of the directory ``root``, else ``None``.

    A link is followed to its end (links to links included); it is acceptable when the file it finally
    names lies inside ``root`` (e.g. ``model.safetensors -> weights-v2.safetensors`` in the same folder).
    A link that cannot be resolved (a loop) is reported too. ``path`` that is not a link gives ``None``.
    """
    path = Path(path)
    if not path.is_symlink():
        return None
    try:
        target = path.resolve()
        base = Path(root).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return f"{os.readlink(path)} (a link that cannot be resolved)"
    if not target.is_relative_to(base):
        return str(target)
    return None


def refuse_link_outside(path: str | os.PathLike, root: str | os.PathLike, what: str = "") -> None:
    """:class:`~genlab.errors.ModelFileError` if ``path`` is a symbolic link out of ``root`` (see
    :func:`link_outside`); ``what`` names the file in the message (e.g. ``"checkpoint"``)."""
    where = link_outside(path, root)
    if where is not None:
        from .errors import ModelFileError

        name = f"{what} {path}" if what else str(path)
        raise ModelFileError(
            f"{name} is a symbolic link to {where}, outside {root}; genlab does not follow links out of a model "
            "or run directory: copy the file into the directory instead (a link to a file inside it is fine)"
        )
