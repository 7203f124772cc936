"""MNIST load time: genlab.data.load (with SHA-256 verification) against a bare gzip + numpy reader.

The reference is the shortest loader a user would write by hand: ``gzip.open(...).read()`` and
``np.frombuffer`` into a float32 tensor in [0, 1], with no checks. genlab additionally searches its
data directories, verifies the SHA-256 of the decompressed bytes and validates the IDX header.
Each loader runs in a fresh process (cold: imports included) and again in-process (warm), interleaved.

Usage: GENLAB_DATA=../shared/data/mnist python benchmarks/data_load.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result

GENLAB_IMPORTS = "import genlab.data as d"
GENLAB = "x = d.load('mnist', split='train', download=False).x"
PLAIN_IMPORTS = "import gzip, os, numpy as np, torch"
PLAIN = """
root = os.environ['GENLAB_DATA']
with gzip.open(os.path.join(root, 'train-images-idx3-ubyte.gz')) as f:
    raw = f.read()
x = torch.from_numpy(np.frombuffer(raw, np.uint8, offset=16).astype(np.float32) / 255).reshape(-1, 1, 28, 28)
with gzip.open(os.path.join(root, 'train-labels-idx1-ubyte.gz')) as f:
    y = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64))
"""


def timed(imports: str, code: str) -> tuple[float, float]:
    """(seconds for the whole fresh process, seconds for the load alone inside it, imports excluded)."""
    probe = f"{imports}\nimport time; t0 = time.perf_counter()\n{code}\nprint(time.perf_counter() - t0)"
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t, float(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if not os.environ.get("GENLAB_DATA"):
        sys.exit("set GENLAB_DATA to the folder holding the MNIST IDX files")
    g_proc, g_load, p_proc, p_load = [], [], [], []
    for r in range(args.rounds):
        a, b = timed(GENLAB_IMPORTS, GENLAB)
        c, d = timed(PLAIN_IMPORTS, PLAIN)
        g_proc.append(a), g_load.append(b), p_proc.append(c), p_load.append(d)
        print(f"round {r + 1}: genlab load {b:.3f}s (process {a:.2f}s); plain gzip+numpy {d:.3f}s (process {c:.2f}s)")
    g, p = statistics.median(g_load), statistics.median(p_load)
    print(f"median load of MNIST train into memory: genlab {g:.3f}s, plain {p:.3f}s (target < 3 s)")
    write_result(
        "mnist_load",
        value=round(g, 4),
        unit="s (60,000 training images into memory, imports excluded)",
        anchor="bare gzip + numpy.frombuffer reader, no checks",
        anchor_value=round(p, 4),
        target="< 3 s",
        genlab_process_seconds=statistics.median(g_proc),
        plain_process_seconds=statistics.median(p_proc),
        rounds=args.rounds,
        command="GENLAB_DATA=../shared/data/mnist python benchmarks/data_load.py " + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
