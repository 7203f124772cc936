"""Downloading against a real HTTP server on 127.0.0.1: mirrors, checksums, truncation, atomic placement."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

import genlab.data as gd
from genlab.data.download import DownloadError, fetch, resolve_mirrors
from genlab.data.idx import load_idx, read_idx
from genlab.errors import ChecksumError, DataError, DatasetNotFoundError


@pytest.fixture
def payload(make_idx) -> tuple[bytes, str]:
    """A gzipped IDX file and the SHA-256 of its contents."""
    data = make_idx(np.random.RandomState(0).randint(0, 256, (40, 8, 8)).astype(np.uint8))
    return gzip.compress(data, mtime=0), hashlib.sha256(data).hexdigest()


def _verify(digest: str):
    return lambda path: read_idx(path, sha256=digest)


def _corrupt(blob: bytes) -> bytes:
    """The same data recompressed after flipping one pixel: a valid gzip/IDX file with another digest."""
    data = bytearray(gzip.decompress(blob))
    data[-1] ^= 0xFF
    return gzip.compress(bytes(data), compresslevel=1, mtime=0)


def test_good_download_lands_under_the_final_name_only(tmp_path: Path, http_server, payload) -> None:
    blob, digest = payload
    http_server.serve("/good/f.gz", blob)
    dest = tmp_path / "cache" / "f.gz"
    assert fetch("f.gz", [http_server.url + "/good/"], dest, _verify(digest)) == dest
    assert dest.read_bytes() == blob
    assert list(dest.parent.iterdir()) == [dest]  # no temporary file left
    assert http_server.requests == ["/good/f.gz"]


def test_corrupt_mirror_falls_through_to_the_next_good_one(tmp_path: Path, http_server, payload) -> None:
    blob, digest = payload
    http_server.serve("/bad/f.gz", _corrupt(blob))
    http_server.serve("/good/f.gz", blob)
    dest = tmp_path / "f.gz"
    fetch("f.gz", [http_server.url + "/missing/", http_server.url + "/bad/", http_server.url + "/good/"], dest,
          _verify(digest))  # fmt: skip
    assert dest.read_bytes() == blob
    assert http_server.requests == ["/missing/f.gz", "/bad/f.gz", "/good/f.gz"]


def test_only_corrupt_mirrors_raise_and_leave_nothing(tmp_path: Path, http_server, payload) -> None:
    blob, digest = payload
    http_server.serve("/bad/f.gz", _corrupt(blob))
    pattern = r"/bad/f\.gz: the downloaded file is not the expected file: the SHA-256 of its decompressed contents"
    with pytest.raises(DownloadError, match=pattern) as info:
        fetch("f.gz", [http_server.url + "/bad/"], tmp_path / "f.gz", _verify(digest))
    assert info.value.bad_data
    assert list(tmp_path.iterdir()) == []


def test_body_shorter_than_content_length_is_truncation(tmp_path: Path, http_server, payload) -> None:
    blob, digest = payload
    http_server.serve("/cut/f.gz", blob[: len(blob) // 2], content_length=len(blob))
    with pytest.raises(DownloadError, match=rf"download truncated: received {len(blob) // 2} of {len(blob)} bytes"):
        fetch("f.gz", [http_server.url + "/cut/"], tmp_path / "f.gz", _verify(digest))
    assert list(tmp_path.iterdir()) == []


def test_file_cut_short_with_consistent_headers_fails_verification(tmp_path: Path, http_server, payload) -> None:
    blob, digest = payload
    http_server.serve("/short/f.gz", blob[: len(blob) // 2])
    with pytest.raises(DownloadError, match="truncated or corrupt") as info:
        fetch("f.gz", [http_server.url + "/short/"], tmp_path / "f.gz", _verify(digest))
    assert not info.value.bad_data
    assert list(tmp_path.iterdir()) == []


def test_http_errors_and_refused_connections_are_reported_per_mirror(
    tmp_path: Path, http_server, closed_url: str
) -> None:
    with pytest.raises(DownloadError) as info:
        fetch("f.gz", [closed_url, http_server.url + "/nope/"], tmp_path / "f.gz", lambda p: None)
    assert len(info.value.attempts) == 2
    assert info.value.attempts[0].startswith(f"{closed_url}f.gz: network error")
    assert "HTTP 404" in info.value.attempts[1]


def test_mirror_resolution_order_and_format(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_mirrors(["http://a/x", "http://b/"], ["http://d/"]) == ("http://a/x/", "http://b/")
    assert resolve_mirrors("http://a, http://b/", ["http://d/"]) == ("http://a/", "http://b/")
    monkeypatch.setenv("GENLAB_MIRRORS", "http://env1,http://env2")
    assert resolve_mirrors(None, ["http://d/"]) == ("http://env1/", "http://env2/")
    monkeypatch.delenv("GENLAB_MIRRORS")
    assert resolve_mirrors(None, ["http://d/"]) == ("http://d/",)
    with pytest.raises(DataError, match="mirrors is empty"):
        resolve_mirrors(" , ", [])
    with pytest.raises(DataError, match="mirrors must be a list of base URLs"):
        resolve_mirrors([1, 2], [])


def _serve_tiny(http_server, tiny_idx, prefix: str, corrupt: bool = False) -> None:
    for stem, data in tiny_idx.raw.items():
        blob = gzip.compress(data, mtime=0)
        http_server.serve(f"{prefix}{stem}.gz", _corrupt(blob) if corrupt else blob)


def test_load_idx_downloads_into_the_cache_once(
    http_server, tiny_idx, tiny_spec, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve_tiny(http_server, tiny_idx, "/m/")
    monkeypatch.setenv("GENLAB_MIRRORS", http_server.url + "/m/")
    ds = load_idx(tiny_spec, "test")
    assert torch.equal(ds.y, torch.from_numpy(tiny_idx.labels["t10k"]).long())
    files = sorted(p.name for p in (isolated_env / "tiny").iterdir())
    assert files == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    n_requests = len(http_server.requests)
    assert torch.equal(load_idx(tiny_spec, "test").x, ds.x)
    assert len(http_server.requests) == n_requests  # served from the cache the second time


def test_load_idx_with_only_bad_mirrors_raises_checksum_error_with_placement_hint(
    http_server, tiny_idx, tiny_spec, isolated_env: Path
) -> None:
    _serve_tiny(http_server, tiny_idx, "/bad/", corrupt=True)
    with pytest.raises(ChecksumError, match=r"Download failed: .*/bad/train-images.*To fix: put the four files"):
        load_idx(tiny_spec, "train", mirrors=http_server.url + "/bad/")
    assert not [p for p in isolated_env.rglob("*") if p.is_file()]


def test_load_idx_download_false_never_contacts_a_mirror(http_server, tiny_idx, tiny_spec) -> None:
    _serve_tiny(http_server, tiny_idx, "/m/")
    with pytest.raises(DatasetNotFoundError, match="Downloading is off"):
        load_idx(tiny_spec, "train", download=False, mirrors=http_server.url + "/m/")
    assert http_server.requests == []


def test_real_mnist_download_from_local_mirrors(
    mnist_dir: Path, http_server, closed_url: str, isolated_env: Path
) -> None:
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        blob = (mnist_dir / f"{stem}.gz").read_bytes()
        http_server.serve(f"/corrupt/{stem}.gz", _corrupt(blob))
        http_server.serve(f"/mnist/{stem}.gz", blob)
    mirrors = [closed_url, http_server.url + "/corrupt/", http_server.url + "/mnist/"]
    ds = gd.load("mnist", split="test", mirrors=mirrors)
    assert sorted(p.name for p in (isolated_env / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    reference = gd.load("mnist", split="test", root=mnist_dir)
    assert torch.equal(ds.x, reference.x) and torch.equal(ds.y, reference.y)
    assert "/corrupt/t10k-images-idx3-ubyte.gz" in http_server.requests


def test_real_mnist_corrupt_mirror_only_raises_checksum_error(mnist_dir: Path, http_server, isolated_env: Path) -> None:
    blob = (mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()
    http_server.serve("/corrupt/t10k-labels-idx1-ubyte.gz", _corrupt(blob))
    http_server.serve("/corrupt/t10k-images-idx3-ubyte.gz", (mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    with pytest.raises(ChecksumError, match=r"t10k-labels-idx1-ubyte\.gz: .* is not the expected file"):
        gd.load("mnist", split="test", mirrors=http_server.url + "/corrupt/")
    # The good images file was kept (it is verified); the bad labels file never got its final name.
    assert sorted(p.name for p in (isolated_env / "mnist").iterdir()) == ["t10k-images-idx3-ubyte.gz"]
