"""Train the feature networks genlab ships for its sample-quality metrics (seeded, reproducible).

- ``mnist-cnn``: 28x28 grey images, trained on the 60,000 MNIST training images (target: >= 99.3% test
  accuracy);
- ``digits-cnn``: the 8x8 digits, trained on genlab's fixed 1,438-image training split.

Architecture (``genlab.metrics.FeatureNet``): two blocks of two 3x3 convolutions (32 then 64 channels,
batch norm, ReLU) each followed by a 2x2 max pool, a 128-unit feature layer (batch norm, ReLU), dropout 0.3 and
a linear classifier. Training: Adam (lr 1e-3 decayed linearly to 0), batch 128, random shifts of up to 2
pixels (1 for the digits), the data in [0, 1]. The weights go to ``src/genlab/metrics/weights/<name>.safetensors``
and ``manifest.json`` records their SHA-256 (checked at every load), the test accuracy and this command.

Usage::

    GENLAB_DATA=../shared/data/mnist python benchmarks/feature_nets.py --net mnist --threads 2
    python benchmarks/feature_nets.py --net digits
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, write_result
from genlab import fileutil
from genlab.data import load
from genlab.metrics.features import MANIFEST, WEIGHTS_DIR, FeatureNet

ARCH = {"widths": [32, 64], "convs": 2, "feature_dim": 128, "n_classes": 10}
NETS = {
    "mnist": {"name": "mnist-cnn", "data": "mnist", "epochs": 8, "shift": 2, "target": 99.3},
    "digits": {"name": "digits-cnn", "data": "digits", "epochs": 60, "shift": 1, "target": None},
}


def shifted(x: torch.Tensor, shift: int, g: torch.Generator) -> torch.Tensor:
    """Each image moved by a random offset of at most ``shift`` pixels in each direction (zeros come in)."""
    b, c, h, w = x.shape
    pad = F.pad(x, (shift, shift, shift, shift))
    dy = torch.randint(0, 2 * shift + 1, (b,), generator=g)
    dx = torch.randint(0, 2 * shift + 1, (b,), generator=g)
    rows = (dy[:, None] + torch.arange(h)[None]).reshape(b, 1, h, 1).expand(b, c, h, w)
    cols = (dx[:, None] + torch.arange(w)[None]).reshape(b, 1, 1, w).expand(b, c, h, w)
    return _crop(pad, rows, cols)


def _crop(pad: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    b, c, h, w = rows.shape
    bi = torch.arange(b).reshape(b, 1, 1, 1).expand(b, c, h, w)
    ci = torch.arange(c).reshape(1, c, 1, 1).expand(b, c, h, w)
    return pad[bi, ci, rows, cols]


@torch.no_grad()
def accuracy(net: FeatureNet, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    pred = torch.cat([net(x[a : a + 1000]).argmax(1) for a in range(0, len(x), 1000)])
    return float((pred == y).double().mean()) * 100


def fit_cnn(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, shift: int, log=None) -> FeatureNet:
    """The recipe of the shipped CNNs on any labelled images ``x`` (N, C, H, W): Adam (lr 1e-3 decayed linearly
    to 0), batch 128, random shifts of up to ``shift`` pixels. ``log(epoch, net, seconds)`` is called now and
    then (and after the last epoch)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = FeatureNet(
            tuple(x.shape[1:]),
            widths=tuple(ARCH["widths"]),
            convs=ARCH["convs"],
            feature_dim=ARCH["feature_dim"],
            n_classes=ARCH["n_classes"],
        )
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(seed)
        steps = epochs * -(-len(x) // 128)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / steps))
        t0 = time.perf_counter()
        for epoch in range(epochs):
            net.train()
            order = torch.randperm(len(x), generator=g)
            for a in range(0, len(x), 128):
                idx = order[a : a + 128]
                loss = F.cross_entropy(net(shifted(x[idx], shift, g)), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
            if log is not None and (epoch == epochs - 1 or epoch % max(1, epochs // 8) == 0):
                log(epoch, net, time.perf_counter() - t0)
    net.eval()
    return net


def train(key: str, epochs: int, seed: int) -> dict:
    spec = NETS[key]
    tr, te = load(spec["data"], split="train"), load(spec["data"], split="test")

    def log(epoch: int, net: FeatureNet, seconds: float) -> None:
        acc = accuracy(net, te.x, te.y)
        print(f"{spec['name']}: epoch {epoch + 1}/{epochs}, test accuracy {acc:.2f}% ({seconds:.0f} s)", flush=True)

    t0 = time.perf_counter()
    net = fit_cnn(tr.x, tr.y, epochs, seed, spec["shift"], log)
    return {
        "net": net,
        "test_accuracy": accuracy(net, te.x, te.y),
        "train_accuracy": accuracy(net, tr.x, tr.y),
        "seconds": time.perf_counter() - t0,
        "input_shape": list(tr.info.sample_shape),
        "n_train": len(tr),
        "n_test": len(te),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", choices=[*NETS, "all"], default="all")
    ap.add_argument("--epochs", type=int, default=None, help="default 8 (mnist) / 60 (digits)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {"nets": {}}
    for key in NETS if args.net == "all" else [args.net]:
        spec = NETS[key]
        epochs = args.epochs or spec["epochs"]
        r = train(key, epochs, args.seed)
        file = f"{spec['name']}.safetensors"
        WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
        state = {k: v.contiguous() for k, v in r["net"].state_dict().items()}
        with fileutil.atomic_path(WEIGHTS_DIR / file, suffix=".safetensors") as tmp:
            save_file(state, str(tmp))
        digest = hashlib.sha256((WEIGHTS_DIR / file).read_bytes()).hexdigest()
        command = f"python benchmarks/feature_nets.py --net {key} --seed {args.seed}" + (
            f" --epochs {args.epochs}" if args.epochs else ""
        )
        manifest["nets"][spec["name"]] = {
            "file": file,
            "sha256": digest,
            "input_shape": r["input_shape"],
            "architecture": ARCH,
            "trained_on": f"{spec['data']} train ({r['n_train']} images), random shifts <= {spec['shift']} px",
            "test_accuracy": round(r["test_accuracy"], 2),
            "train_accuracy": round(r["train_accuracy"], 2),
            "epochs": epochs,
            "seed": args.seed,
            "command": command,
            "date": _dt.date.today().isoformat(),
        }
        fileutil.write_json(MANIFEST, manifest)
        print(f"{spec['name']}: test accuracy {r['test_accuracy']:.2f}% in {r['seconds']:.0f} s; sha256 {digest[:16]}")
        write_result(
            f"feature_net_{key}",
            value=round(r["test_accuracy"], 2),
            unit=f"% test accuracy ({r['n_test']} {spec['data']} test images)",
            anchor="issue 6 target" if spec["target"] else "none (no published figure for this split)",
            anchor_value=spec["target"],
            train_accuracy=round(r["train_accuracy"], 2),
            train_seconds=round(r["seconds"], 1),
            epochs=epochs,
            sha256=digest,
            command=command,
            machine=machine(),
        )


if __name__ == "__main__":
    main()
