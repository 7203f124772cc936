"""Shared fixtures. MNIST is looked for in $GENLAB_DATA, else ../shared/data/mnist beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
_SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
_SHARED_TABLES = ROOT.parent / "shared" / "data" / "tables"


def mnist_dir() -> Path | None:
    env = os.environ.get("GENLAB_DATA")
    for cand in ([Path(env), Path(env) / "mnist"] if env else []) + [_SHARED_MNIST]:
        if (cand / "train-labels-idx1-ubyte.gz").exists() or (cand / "train-labels-idx1-ubyte").exists():
            return cand
    return None


@pytest.fixture
def mnist_root() -> Path:
    d = mnist_dir()
    if d is None:
        pytest.skip("MNIST not found: set GENLAB_DATA to a folder with the four IDX files")
    return d


def tables_dir() -> Path | None:
    env = os.environ.get("GENLAB_DATA")
    dirs = [Path(p) for p in env.split(os.pathsep) if p] if env else []
    for cand in [d for e in dirs for d in (e, e / "tables", e.parent / "tables")] + [_SHARED_TABLES]:
        if (cand / "penguins.csv").exists():
            return cand
    return None


@pytest.fixture
def tables_root(monkeypatch) -> Path:
    """The folder of the shared mixed-type tables (penguins.csv, diamonds.csv...), also put on GENLAB_DATA."""
    d = tables_dir()
    if d is None:
        pytest.skip("the shared tables were not found: set GENLAB_DATA to a folder holding penguins.csv etc.")
    monkeypatch.setenv("GENLAB_DATA", str(d))
    return d


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's cache or the network from tests."""
    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("GENLAB_MIRRORS", "http://127.0.0.1:9/")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny test models run fastest on one thread, and two processes spinning two OpenMP threads each on a
    2-core machine slow each other down many times over."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)
