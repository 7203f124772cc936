"""Where dataset files are looked for, and how they are downloaded safely.

Directories searched, in order (see :func:`search_dirs`):

1. the ``root=`` passed to :func:`genlab.data.load`;
2. ``$GENLAB_DATA`` (one directory, or several separated by ``os.pathsep``);
3. the per-user cache (:func:`cache_dir`): ``$GENLAB_CACHE`` if set, else ``$XDG_CACHE_HOME/genlab``,
   else ``~/.cache/genlab``. Downloads go to ``<cache>/<dataset-name>/``.

A download streams into a temporary file next to its destination, checks the length announced by the
server, runs a verification callback (checksum, format) and only then renames the file into place, so a
partial or corrupt download never appears under the final name. Mirrors are tried in order; a network
error, a truncated body or a bad checksum moves on to the next one.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from .._version import __version__
from ..errors import ChecksumError, DataError
from ..fileutil import atomic_path

DEFAULT_TIMEOUT = 10.0
"""Seconds a socket may wait for the server (connect or read) before the mirror is given up."""

_CHUNK = 1 << 16


def cache_dir() -> Path:
    """The per-user cache directory (it may not exist yet)."""
    if os.environ.get("GENLAB_CACHE"):
        return Path(os.environ["GENLAB_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "genlab"


def search_dirs(root: str | os.PathLike | None = None) -> list[Path]:
    """The base directories searched for dataset files, in order (``root``, ``$GENLAB_DATA``, cache)."""
    dirs: list[Path] = []
    if root is not None:
        dirs.append(Path(root).expanduser())
    env = os.environ.get("GENLAB_DATA", "")
    dirs.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p.strip())
    dirs.append(cache_dir())
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def resolve_mirrors(mirrors: str | Sequence[str] | None, defaults: Sequence[str]) -> tuple[str, ...]:
    """The base URLs to try: ``mirrors`` if given, else ``$GENLAB_MIRRORS``, else ``defaults``.

    ``mirrors`` and ``$GENLAB_MIRRORS`` may be comma-separated strings. Each base URL gets a trailing ``/``.

    Raises:
        DataError: ``mirrors`` is neither a string nor a sequence of non-empty strings.
    """
    if mirrors is None:
        mirrors = os.environ.get("GENLAB_MIRRORS") or tuple(defaults)
    if isinstance(mirrors, str):
        mirrors = mirrors.split(",")
    if not isinstance(mirrors, Sequence) or not all(isinstance(m, str) for m in mirrors):
        raise DataError(f"mirrors must be a list of base URLs or a comma-separated string, got {mirrors!r}")
    urls = tuple(m.strip() if m.strip().endswith("/") else m.strip() + "/" for m in mirrors if m.strip())
    if not urls:
        raise DataError("mirrors is empty; pass at least one base URL, or download=False to only use local files")
    return urls


class DownloadError(DataError):
    """Every mirror failed.

    Attributes:
        attempts: one line per mirror saying what went wrong.
        bad_data: True if some mirror served a complete file with the wrong checksum.
    """

    def __init__(self, filename: str, attempts: list[str], bad_data: bool) -> None:
        super().__init__(f"could not download {filename}: " + "; ".join(attempts))
        self.filename = filename
        self.attempts = attempts
        self.bad_data = bad_data


def fetch(
    filename: str,
    mirrors: Sequence[str],
    dest: Path,
    verify: Callable[[Path], None],
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Download ``<mirror>/<filename>`` to ``dest``, trying each mirror until one passes ``verify``.

    Args:
        filename: the name appended to each base URL.
        mirrors: base URLs ending in ``/``.
        dest: the final path; its directory is created if needed.
        verify: called with the complete temporary file; raises a DataError (ChecksumError for a digest
            mismatch) if the file is unusable.
        timeout: socket timeout per mirror, in seconds.

    Returns:
        ``dest``.

    Raises:
        DownloadError: no mirror delivered a good file; nothing was written under ``dest``.
    """
    attempts: list[str] = []
    bad_data = False
    for base in mirrors:
        url = base + filename
        try:
            _download_one(url, dest, verify, timeout)
        except ChecksumError as exc:
            bad_data = True
            attempts.append(f"{url}: {exc}")
        except DataError as exc:
            attempts.append(f"{url}: {exc}")
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            attempts.append(f"{url}: {_describe(exc)}")
        else:
            return dest
    raise DownloadError(filename, attempts, bad_data)


def _download_one(url: str, dest: Path, verify: Callable[[Path], None], timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": f"genlab/{__version__}"})
    with atomic_path(dest) as tmp:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as fh:
            announced = response.headers.get("Content-Length")
            received = 0
            while chunk := response.read(_CHUNK):
                fh.write(chunk)
                received += len(chunk)
        if announced is not None and announced.isdigit() and received != int(announced):
            raise DataError(f"download truncated: received {received} of {int(announced)} bytes")
        try:
            verify(tmp)
        except DataError as exc:  # name the download, not the temporary file (already being removed)
            raise type(exc)(str(exc).replace(str(tmp), "the downloaded file")) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"network error ({exc.reason})"
    return f"{type(exc).__name__}: {exc}"


__all__ = ["DEFAULT_TIMEOUT", "DownloadError", "cache_dir", "fetch", "resolve_mirrors", "search_dirs"]
