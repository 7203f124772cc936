"""Fixtures for the data tests: an isolated environment, MNIST on disk, IDX files, a local HTTP server."""

from __future__ import annotations

import gzip
import os
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
# Captured before the autouse fixture below clears GENLAB_DATA for every test.
_MNIST_CANDIDATES = [
    Path(p) for p in (os.environ.get("GENLAB_DATA"), Path(__file__).resolve().parents[3] / "shared/data/mnist") if p
]


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def closed_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused at once)."""
    return f"http://127.0.0.1:{_closed_port()}/"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test gets its own empty cache, no GENLAB_DATA and mirrors that cannot reach the internet."""
    cache = tmp_path_factory.mktemp("genlab-cache")
    monkeypatch.delenv("GENLAB_DATA", raising=False)
    monkeypatch.setenv("GENLAB_CACHE", str(cache))
    monkeypatch.setenv("GENLAB_MIRRORS", f"http://127.0.0.1:{_closed_port()}/")
    return cache


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The directory holding the four gzipped MNIST files (skips the test when there is none)."""
    for candidate in _MNIST_CANDIDATES:
        if all((candidate / name).is_file() for name in MNIST_FILES):
            return candidate
    where = ", ".join(str(c) for c in _MNIST_CANDIDATES)
    pytest.skip(f"MNIST not found at {where}; set GENLAB_DATA to the folder with the four .gz files")


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format."""
    assert array.dtype == np.uint8
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


@pytest.fixture
def make_idx():
    """The :func:`idx_bytes` encoder, for tests."""
    return idx_bytes


@dataclass
class TinyIdx:
    """A tiny MNIST look-alike: 4x4 images, 3 classes; raw IDX bytes per file stem."""

    images: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    raw: dict[str, bytes] = field(default_factory=dict)

    def write(self, folder: Path, gz: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for stem, data in self.raw.items():
            if gz:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(data, mtime=0))
            else:
                (folder / stem).write_bytes(data)
        return folder


@pytest.fixture
def tiny_idx() -> TinyIdx:
    rng = np.random.RandomState(0)
    tiny = TinyIdx(images={}, labels={})
    for prefix, n in (("train", 12), ("t10k", 5)):
        images = rng.randint(0, 256, size=(n, 4, 4)).astype(np.uint8)
        labels = rng.randint(0, 3, size=n).astype(np.uint8)
        tiny.images[prefix], tiny.labels[prefix] = images, labels
        tiny.raw[f"{prefix}-images-idx3-ubyte"] = idx_bytes(images)
        tiny.raw[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(labels)
    return tiny


@pytest.fixture
def tiny_spec(tiny_idx: TinyIdx):
    """An IdxSpec for :func:`tiny_idx` with content digests, so load_idx can be tested with tiny files."""
    import hashlib

    from genlab.data.idx import IdxSpec

    return IdxSpec(
        name="tiny",
        title="Tiny",
        sha256={stem: hashlib.sha256(data).hexdigest() for stem, data in tiny_idx.raw.items()},
        digest_of="content",
        mirrors=(),
        class_names=("a", "b", "c"),
        homepage="https://example.invalid/tiny",
        image_shape=(4, 4),
    )


class _Handler(BaseHTTPRequestHandler):
    server: _FileHTTPServer

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        body, length = route
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


class _FileHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, tuple[bytes, int | None]]
    requests: list[str]


@dataclass
class FileServer:
    """Handle on the running server: register paths with :meth:`serve`; ``requests`` lists paths asked for."""

    url: str
    routes: dict[str, tuple[bytes, int | None]]
    requests: list[str]

    def serve(self, path: str, body: bytes, content_length: int | None = None) -> None:
        """Serve ``body`` at ``path`` announcing ``content_length`` (default: the true length)."""
        self.routes[path] = (body, content_length)


@pytest.fixture
def http_server():
    """A ThreadingHTTPServer on 127.0.0.1 (random port) in a thread, shut down after the test."""
    server = _FileHTTPServer(("127.0.0.1", 0), _Handler)
    server.routes, server.requests = {}, []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield FileServer(url=f"http://{host}:{port}", routes=server.routes, requests=server.requests)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
