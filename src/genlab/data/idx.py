"""IDX files (the MNIST format): parsing, checksum verification, and the MNIST-family sources.

The IDX format is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in C order. Files may be stored raw or gzipped; gzip is
recognised by its magic bytes, not by the file name.

MNIST and Fashion-MNIST are the same source parametrized by an :class:`IdxSpec` (file digests, mirrors,
class names). Their files are found with :func:`genlab.data.download.search_dirs` (``root=``,
``$GENLAB_DATA``, the cache), looking in ``<dir>/<name>/`` before ``<dir>/``, and downloaded into the
cache when missing.

Checksums:

- MNIST: SHA-256 of the *decompressed* IDX bytes (genlab's DESIGN.md), so raw and gzipped copies are both
  verified, whatever gzip settings a mirror used.
- Fashion-MNIST: no trustworthy digests of the decompressed files were found, so the SHA-256 of the
  published ``.gz`` files is used (from Zalando's S3 bucket, also on GitHub; the same digests appear in
  several independent projects next to the MD5s that torchvision and Zalando's README publish). Gzipped
  copies are therefore verified; raw (decompressed) Fashion-MNIST files can only be checked for a valid
  IDX structure, label range and image size, and are rejected if they are MNIST's files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import torch

from ..errors import ChecksumError, DataError, DatasetNotFoundError
from ._common import check_bool, finish_images
from .dataset import Dataset, DatasetInfo
from .download import DownloadError, cache_dir, fetch, resolve_mirrors, search_dirs

_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"

DigestOf = Literal["content", "file"]


MAX_IDX_DIMS = 8
"""Most dimensions an IDX header may announce (MNIST-style files have 1 to 4)."""
MAX_IDX_BYTES = 2**32
"""Largest IDX payload read (4 GiB; MNIST's training images are 47 MB). A header announcing more is corrupt."""
_FIX = "delete it and download it again"


def _idx_magic(head: bytes | bytearray | memoryview, name: str) -> tuple[np.dtype, int]:
    """``(dtype, number of dimensions)`` from the first 4 bytes; :class:`DataError` if they are not IDX magic."""
    zero1, zero2, code, ndim = head[0], head[1], head[2], head[3]
    if zero1 or zero2 or code not in _IDX_DTYPES or not 1 <= ndim <= MAX_IDX_DIMS:
        magic = int.from_bytes(bytes(head[:4]), "big")
        raise DataError(
            f"{name} is not an IDX file (bad magic number 0x{magic:08x}: an IDX file starts with two zero bytes, "
            f"a type code 0x08-0x0e and its number of dimensions, 1 to {MAX_IDX_DIMS}); check that it is the "
            f"right file, or {_FIX}"
        )
    return _IDX_DTYPES[code], ndim


def _idx_size(dims: tuple[int, ...], dtype: np.dtype, name: str) -> int:
    """Bytes of data the header ``dims`` announces; :class:`DataError` if more than any IDX file holds."""
    expected = math.prod(dims) * dtype.itemsize
    if expected > MAX_IDX_BYTES:
        raise DataError(
            f"{name} is not a valid IDX file: its header announces shape {dims} ({expected} bytes of data), "
            f"more than the {MAX_IDX_BYTES} bytes genlab reads (a corrupt header, or another kind of file); {_FIX}"
        )
    return expected


def parse_idx(data: bytes | bytearray | memoryview, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into a read-only numpy array.

    Args:
        data: the file's bytes.
        name: how to refer to the data in error messages (usually the path).

    Raises:
        DataError: bad magic number (not an IDX file), a header announcing an impossible size, a header or
            payload shorter than announced (truncated), or extra bytes.
    """
    if len(data) < 4:
        raise DataError(f"{name} is truncated: {len(data)} bytes is less than an IDX header; {_FIX}")
    dtype, ndim = _idx_magic(data, name)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name} is truncated: the file ends inside its {header}-byte header; {_FIX}")
    dims = struct.unpack(f">{ndim}I", bytes(data[4:header]))
    expected, payload = _idx_size(dims, dtype, name), len(data) - header
    if payload < expected:
        raise DataError(
            f"{name} is truncated: its header announces shape {dims} ({expected} bytes of data) but only "
            f"{payload} bytes follow (an interrupted download?); {_FIX}"
        )
    if payload > expected:
        raise DataError(
            f"{name} is corrupt: {payload - expected} unexpected bytes follow the {dims} data it announces; {_FIX}"
        )
    return np.frombuffer(data, dtype=dtype, count=math.prod(dims), offset=header).reshape(dims)


def read_idx(path: str | os.PathLike, sha256: str | None = None, digest_of: DigestOf = "content") -> np.ndarray:
    """Read a raw or gzipped IDX file, optionally verifying its SHA-256.

    The header is read first: a file that is not IDX, or whose header announces more data than the file
    can hold (or than ``MAX_IDX_BYTES``), is rejected before its data is read or decompressed, so a
    corrupt header or a gzip bomb never allocates more than the announced size.

    Args:
        path: the file.
        sha256: expected hex digest, or ``None`` to skip verification.
        digest_of: ``"content"``: the digest is of the decompressed IDX bytes (works for raw and gzipped
            files); ``"file"``: the digest is of the bytes on disk.

    Raises:
        DataError: unreadable, truncated or malformed file (bad gzip stream, bad magic, wrong size).
        ChecksumError: the digest differs; the message names the file, both digests and what to do.
    """
    path = Path(path)
    blob, content = _read_bytes(path)
    array = parse_idx(content, name=str(path))
    if sha256 is not None:
        actual = hashlib.sha256(content if digest_of == "content" else blob).hexdigest()
        if actual != sha256.lower():
            what = "decompressed contents" if digest_of == "content" else "bytes"
            raise ChecksumError(
                f"{path} is not the expected file: the SHA-256 of its {what} is {actual} but {sha256} was "
                "expected. It is corrupt, modified or another dataset's file; delete it and run again to "
                "download a fresh copy (or replace it with the official file)"
            )
    return array


def _read_bytes(path: Path) -> tuple[bytes, bytes]:
    """``(bytes on disk, decompressed bytes)``, reading no more data than the IDX header announces."""
    try:
        if not path.is_file():  # a directory, or a FIFO / device that reading would block on
            raise DataError(f"cannot read {path}: it is not a regular file; point genlab at the IDX file itself")
        size = path.stat().st_size
        with open(path, "rb") as fh:
            if fh.read(2) != _GZIP_MAGIC:
                fh.seek(0)
                content = _read_idx_stream(fh, str(path), size)
                return content, content
            if size > 2 * MAX_IDX_BYTES:  # gzip never grows data that much
                raise DataError(f"{path} is {size} bytes, larger than any IDX file genlab reads; {_FIX}")
            fh.seek(0)
            blob = fh.read()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}; check that it exists and is readable") from exc
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(blob)) as gz:
            return blob, _read_idx_stream(gz, str(path), None)
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(f"{path} is truncated or corrupt (gzip: {exc}); {_FIX}") from exc


def _read_idx_stream(fh: BinaryIO, name: str, size: int | None) -> bytes:
    """The bytes of one IDX file from ``fh``, header first: nothing beyond the data the header announces is
    read (the checks of :func:`parse_idx`, before the data). ``size`` is the stream's length when known."""
    head = fh.read(4)
    if len(head) == 4:
        _, ndim = _idx_magic(head, name)
        head += fh.read(4 * ndim)
    if len(head) < 4 or len(head) < 4 + 4 * head[3]:
        return head  # parse_idx reports it as truncated
    dims = struct.unpack(f">{head[3]}I", head[4:])
    expected = _idx_size(dims, _IDX_DTYPES[head[2]], name)
    if size is not None:  # a raw file: its size tells whether the data is all there before it is read
        payload = size - len(head)
        if payload > expected:
            raise DataError(
                f"{name} is corrupt: {payload - expected} unexpected bytes follow the {dims} data it announces; {_FIX}"
            )
        return head + fh.read(payload)  # parse_idx reports a short payload as truncated
    data = fh.read(expected)
    if len(data) == expected and fh.read(1):
        raise DataError(f"{name} is corrupt: more data follows the {dims} data it announces; {_FIX}")
    return head + data


@dataclass(frozen=True)
class IdxSpec:
    """One MNIST-style dataset: four IDX files, their digests, where to download them, the class names.

    Attributes:
        name: registry name and cache sub-folder, e.g. ``"mnist"``.
        title: display name, e.g. ``"MNIST"``.
        sha256: expected digest per file stem (``"train-images-idx3-ubyte"``, ...).
        digest_of: ``"content"`` (decompressed bytes) or ``"file"`` (the ``.gz`` bytes).
        mirrors: default base URLs, tried in order.
        class_names: names of labels 0..K-1.
        homepage: where a user can get the files by hand.
        image_shape: ``(H, W)`` of every image.
    """

    name: str
    title: str
    sha256: Mapping[str, str]
    digest_of: DigestOf
    mirrors: tuple[str, ...]
    class_names: tuple[str, ...]
    homepage: str
    image_shape: tuple[int, int] = (28, 28)

    def stems(self, split: str) -> tuple[str, str]:
        """The ``(images, labels)`` file stems of ``split`` (``"train"`` or ``"test"``)."""
        prefix = {"train": "train", "test": "t10k"}[split]
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def all_stems(self) -> tuple[str, ...]:
        return self.stems("train") + self.stems("test")

    def candidates(self, stem: str) -> tuple[str, str]:
        """File names for ``stem``, the one whose digest can be checked first."""
        return (stem + ".gz", stem) if self.digest_of == "file" else (stem, stem + ".gz")


MNIST = IdxSpec(
    name="mnist",
    title="MNIST",
    sha256={  # of the decompressed files (DESIGN.md)
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    digest_of="content",
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    class_names=tuple(str(i) for i in range(10)),
    homepage="http://yann.lecun.com/exdb/mnist/",
)

FASHION_MNIST = IdxSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    # SHA-256 of the published .gz files, NOT of their contents (see the module docstring). Their MD5s,
    # as published by Zalando and torchvision: train-images 8d4fb7e6c68d591d4c3dfef9ec88bf0d,
    # train-labels 25c81989df183df01b3e8a0aad5dffbe, t10k-images bef4ecab320f06d8554ea6380940ec79,
    # t10k-labels bb300cfdad3c16e7a12a480ee83cd310.
    sha256={
        "train-images-idx3-ubyte": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    digest_of="file",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    homepage="https://github.com/zalandoresearch/fashion-mnist",
)

IDX_SPECS: dict[str, IdxSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}

# Content digests that identify a file as another dataset's (to explain mix-ups, e.g. MNIST in a Fashion dir).
_KNOWN_CONTENT = {
    digest: f"{spec.title} {stem}" for spec in IDX_SPECS.values() if spec.digest_of == "content"
    for stem, digest in spec.sha256.items()
}  # fmt: skip


def find_file(spec: IdxSpec, stem: str, dirs: list[Path]) -> Path | None:
    """The first existing file for ``stem``: for each base dir, ``<dir>/<name>/`` then ``<dir>/``."""
    for base in dirs:
        for folder in (base / spec.name, base):
            for filename in spec.candidates(stem):
                if (folder / filename).is_file():
                    return folder / filename
    return None


def load_idx(
    spec: IdxSpec,
    split: str,
    root: str | os.PathLike | None = None,
    *,
    scale: str | None = "unit",
    flatten: bool = False,
    binarize: str | None = None,
    download: bool = True,
    mirrors: str | list[str] | None = None,
) -> Dataset:
    """Load one split of an MNIST-style dataset as images ``(N, 1, 28, 28)`` and int64 labels ``(N,)``.

    Args:
        spec: which dataset (:data:`MNIST`, :data:`FASHION_MNIST`).
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000).
        root: a directory searched first (see :mod:`genlab.data.download`).
        scale: ``"unit"`` ([0, 1], default), ``"symmetric"`` ([-1, 1]) or ``None`` (pixel values 0..255).
        flatten: return ``(N, 784)`` instead of ``(N, 1, 28, 28)``.
        binarize: ``"static"`` thresholds the [0, 1] intensities at 0.5.
        download: fetch missing files from ``mirrors`` into the cache.
        mirrors: base URLs to download from (a list or a comma-separated string); default
            ``$GENLAB_MIRRORS`` or the public mirrors.

    Raises:
        DatasetNotFoundError: files missing and not downloadable; the message lists where they may go.
        ChecksumError: a local or downloaded file has the wrong digest.
        DataError: a truncated or malformed file.
    """
    check_bool("download", download)
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    dirs = search_dirs(root)
    image_stem, label_stem = spec.stems(split)
    paths = {stem: find_file(spec, stem, dirs) for stem in (image_stem, label_stem)}
    missing = [stem for stem, path in paths.items() if path is None]
    if missing and not download:
        raise DatasetNotFoundError(_not_found(spec, split, dirs, missing, None))
    if missing:
        urls = resolve_mirrors(mirrors, spec.mirrors)
        for stem in missing:
            dest = cache_dir() / spec.name / (stem + ".gz")
            try:
                paths[stem] = fetch(stem + ".gz", urls, dest, lambda tmp, s=stem: _read_member(spec, s, tmp))
            except DownloadError as exc:
                error = ChecksumError if exc.bad_data else DatasetNotFoundError
                still_missing = [s for s in missing if paths[s] is None]
                raise error(_not_found(spec, split, dirs, still_missing, exc.attempts)) from None
    images = _read_member(spec, image_stem, paths[image_stem])
    labels = _read_member(spec, label_stem, paths[label_stem])
    _check_pair(spec, images, labels, paths[image_stem], paths[label_stem])
    x = torch.empty((len(images), 1, *images.shape[1:]), dtype=torch.float32)
    x.numpy()[:, 0] = images  # a fresh CPU tensor filled in one pass, no intermediate copy
    x, value_range = finish_images(x, (0.0, 255.0), scale=scale, flatten=flatten, binarize=binarize)
    info = DatasetInfo(
        name=spec.name,
        sample_shape=tuple(x.shape[1:]),
        value_range=value_range,
        class_names=spec.class_names,
        source=str(paths[image_stem].parent),
    )
    files = [str(paths[image_stem]), str(paths[label_stem])]
    return Dataset(x=x, y=torch.from_numpy(labels.astype(np.int64)), info=info, extras={"files": files})


def _read_member(spec: IdxSpec, stem: str, path: Path) -> np.ndarray:
    """Read one of ``spec``'s files, verifying it wherever its digest applies."""
    verifiable = spec.digest_of == "content" or _is_gzip(path)
    try:
        array = read_idx(path, spec.sha256[stem] if verifiable else None, spec.digest_of)
    except ChecksumError as exc:
        other = _identify(path)
        if other is None:
            raise
        raise ChecksumError(
            f"{exc}. (It is the {other} file: keep each dataset in its own sub-folder, e.g. <dir>/{spec.name}/.)"
        ) from None
    if not verifiable:
        other = _identify(path)
        if other is not None and not other.startswith(spec.title + " "):
            raise DataError(
                f"{path} is the {other} file, not {spec.title}'s: keep each dataset in its own "
                f"sub-folder, e.g. <dir>/{spec.name}/"
            )
    return array


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def _identify(path: Path) -> str | None:
    try:
        _, content = _read_bytes(path)
    except DataError:
        return None
    return _KNOWN_CONTENT.get(hashlib.sha256(content).hexdigest())


def _check_pair(spec: IdxSpec, images: np.ndarray, labels: np.ndarray, image_path: Path, label_path: Path) -> None:
    fix = "delete the files and download them again"
    if images.ndim != 3 or images.shape[1:] != spec.image_shape or images.dtype != np.uint8:
        raise DataError(
            f"{image_path} holds {images.dtype} data of shape {images.shape}, not "
            f"{spec.title} images (N, {spec.image_shape[0]}, {spec.image_shape[1]}); {fix}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(f"{label_path} holds {labels.dtype} data of shape {labels.shape}, not labels; {fix}")
    if len(images) != len(labels):
        raise DataError(f"{image_path} has {len(images)} images but {label_path} has {len(labels)} labels; {fix}")
    if labels.size and int(labels.max()) >= len(spec.class_names):
        raise DataError(
            f"{label_path} has label {int(labels.max())} but {spec.title} has {len(spec.class_names)} classes; {fix}"
        )


def _not_found(spec: IdxSpec, split: str, dirs: list[Path], missing: list[str], attempts: list[str] | None) -> str:
    looked = ", ".join(str(folder) for base in dirs for folder in (base / spec.name, base))
    files = ", ".join(f"{stem}[.gz]" for stem in missing)
    if attempts is None:
        download = "Downloading is off (download=False)."
    else:
        download = "Download failed: " + "; ".join(attempts) + "."
    four = ", ".join(stem + ".gz" for stem in spec.all_stems())
    return (
        f"{spec.title} {split} files not found: {files}. Looked in: {looked}. {download} "
        f"To fix: put the four files {four} (gzipped or not; from {spec.homepage}) into "
        f"{cache_dir() / spec.name}, or into any directory and point GENLAB_DATA (or root=) at it."
    )


__all__ = ["FASHION_MNIST", "IDX_SPECS", "MNIST", "IdxSpec", "find_file", "load_idx", "parse_idx", "read_idx"]
