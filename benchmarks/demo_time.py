"""Time ``genlab demo`` end to end (a fresh process: imports, data, training, pictures) and read its result.

There is no competing library for this figure; the anchor is the issue's target (2 minutes on 2 cores).

Usage: python benchmarks/demo_time.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    times, elbos = [], []
    for r in range(args.rounds):
        out = Path(tempfile.mkdtemp()) / "demo"
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "genlab", "demo", "--out", str(out), "--quiet"], check=True, capture_output=True
        )
        times.append(time.perf_counter() - t)
        info = json.loads((out / "run.json").read_text())
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
