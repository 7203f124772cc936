"""A real training process killed with SIGKILL and resumed ends bit-for-bit where an uninterrupted run ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from genlab.training import checkpoint as ckpt

ARGS = [
    "train",
    "vae",
    "--data",
    "digits",
    "--epochs",
    "40",
    "--batch-size",
    "16",
    "--seed",
    "5",
    "--checkpoint-every",
    "37",
    "--sample-every",
    "0",
    "--binarize",
    "dynamic",
    "--quiet",
    "--set",
    "hidden_dims=64",
    "--set",
    "latent_dim=4",
]


def genlab_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "genlab", *args]


def env() -> dict:
    e = dict(os.environ)
    e["OMP_NUM_THREADS"] = "1"  # identical arithmetic in every process
    return e


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_then_resume_is_bit_identical(tmp_path):
    full, killed = tmp_path / "full", tmp_path / "killed"
    subprocess.run(genlab_cmd(*ARGS, "--out", str(full)), check=True, env=env(), capture_output=True)

    proc = subprocess.Popen(
        genlab_cmd(*ARGS, "--out", str(killed)), env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        latest = ckpt.latest(killed / "checkpoints")
        if latest is not None and int(latest.stem.split("-")[1]) >= 37 * 8:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (killed / "model").exists()
    step_at_kill = int(ckpt.latest(killed / "checkpoints").stem.split("-")[1])
    assert step_at_kill < 40 * 90

    r = subprocess.run(
        genlab_cmd("train", "--out", str(killed), "--resume", "--quiet"), env=env(), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    a = load_file(str(full / "model" / "model.safetensors"))
    b = load_file(str(killed / "model" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert (full / "metrics.csv").read_text().splitlines()[0] == (killed / "metrics.csv").read_text().splitlines()[0]
    # the per-epoch losses agree too (the time column differs)
    strip = lambda p: [line.split(",")[:2] + line.split(",")[3:] for line in p.read_text().splitlines()]  # noqa: E731
    assert strip(full / "metrics.csv") == strip(killed / "metrics.csv")
