"""Time ``genlab demo`` end to end (a fresh process: imports, data, training, pictures) and read its result.

There is no competing library for this figure; the anchor is the issue's target (2 minutes on 2 cores).

With ``--busy`` the demo runs beside another process that keeps the cores busy with torch work (as a test
suite or a second training run does): genlab's automatic thread choice (``genlab.threads``) against torch's
default of one thread per core (``--threads <cores>``), interleaved; writes ``demo_busy.json``.

Usage: python benchmarks/demo_time.py [--rounds 3] [--busy]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result

BUSY = "import torch\na = torch.randn(256, 256)\nwhile True:\n    a = torch.tanh(a @ a * 0.01)\n"


def demo(*extra: str) -> tuple[float, dict]:
    """Seconds of one ``genlab demo`` in a fresh process, and its run.json."""
    out = Path(tempfile.mkdtemp()) / "demo"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "GENLAB_THREADS")}
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "genlab", "demo", "--out", str(out), "--quiet", *extra],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - t, json.loads((out / "run.json").read_text())


def busy(rounds: int) -> None:
    cores = os.cpu_count() or 1
    other = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        time.sleep(3)
        auto, every = [], []
        for r in range(rounds):
            auto.append(demo()[0])
            every.append(demo("--threads", str(cores))[0])
            print(f"round {r + 1}: automatic {auto[-1]:.1f}s, --threads {cores} {every[-1]:.1f}s", flush=True)
    finally:
        other.kill()
    a, e = statistics.median(auto), statistics.median(every)
    print(f"median: automatic {a:.1f}s, --threads {cores} (torch's default) {e:.1f}s")
    write_result(
        "demo_busy",
        value=round(a, 2),
        unit="s wall clock for `genlab demo` beside a busy torch process (automatic threads)",
        anchor=f"the same with --threads {cores} (torch's default: one thread per core)",
        anchor_value=round(e, 2),
        rounds=rounds,
        command="python benchmarks/demo_time.py " + " ".join(sys.argv[1:]),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--busy", action="store_true", help="beside a busy process: automatic threads vs all cores")
    args = ap.parse_args()
    if args.busy:
        busy(args.rounds)
        return
    times, elbos = [], []
    for r in range(args.rounds):
        seconds, info = demo()
        times.append(seconds)
        elbos.append(info["final_metrics"]["val_elbo"])
        print(f"round {r + 1}: {times[-1]:.1f}s, held-out ELBO {elbos[-1]:.2f} nats/image")
    med = statistics.median(times)
    print(f"median {med:.1f}s (target < 120 s)")
    write_result(
        "demo_time",
        value=round(med, 2),
        unit="s wall clock for `genlab demo`",
        anchor="issue target",
        anchor_value=120.0,
        heldout_elbo_nats=round(statistics.median(elbos), 3),
        rounds=args.rounds,
        command="python benchmarks/demo_time.py " + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
