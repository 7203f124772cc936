"""Tables at full size: the copula's fit time on diamonds against SDV's GaussianCopula, and CTGAN / TVAE training
throughput and peak memory on all 53,940 diamonds.

Targets (genlab issue 17): ``gaussian_copula`` fits diamonds (53,940 x 10) in < 10 s; diamonds at full size trains
at a reported rows/second with memory below 2 GB.

- Copula: wall time of ``Synthesizer("gaussian_copula").fit(df)`` (reading excluded; column typing, the transform,
  marginals and correlation included) beside ``sdv.single_table.GaussianCopulaSynthesizer`` (metadata detected
  from the frame, then ``fit``), both on the full table in this process, rounds interleaved, median reported;
  the quality score (genlab.metrics.tabular) of 53,940 rows from each.
- CTGAN / TVAE: each in a fresh subprocess, ``Synthesizer(model, epochs=E).fit(df)`` on the full table; rows per
  second = 53,940 x E / training seconds (the trainer's own clock); peak resident memory of the process
  (``ru_maxrss``, everything included: Python, torch, pandas, the data, the transform).

Usage: GENLAB_DATA=../shared/data benchmarks/.venv-ctgan/bin/python benchmarks/tabular_scale.py [--rounds 3]
       [--epochs 3]   (the venv of requirements-ctgan.txt plus ``pip install sdv``)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result

CHILD = """
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
from genlab.tabular import Synthesizer, load_frame
df = load_frame("diamonds")
t = time.perf_counter()
s = Synthesizer(sys.argv[1], epochs=int(sys.argv[2]), seed=0).fit(df)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"train_seconds": s.result_.trainer.elapsed, "fit_seconds": wall, "peak_mib": rss,
                  "steps": s.result_.trainer.step}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from genlab.metrics import tabular as mt
    from genlab.tabular import Synthesizer, load_frame

    df = load_frame("diamonds")
    times = {"genlab": [], "sdv": []}
    quality = {}
    for r in range(args.rounds):
        for lib in ("genlab", "sdv") if r % 2 == 0 else ("sdv", "genlab"):
            t = time.perf_counter()
            if lib == "genlab":
                fitted = Synthesizer("gaussian_copula", seed=0).fit(df)
            else:
                from sdv.metadata import Metadata
                from sdv.single_table import GaussianCopulaSynthesizer

                meta = Metadata.detect_from_dataframes({"diamonds": df})
                fitted = GaussianCopulaSynthesizer(meta)
                fitted.fit({"diamonds": df})
            times[lib].append(time.perf_counter() - t)
            if r == 0:
                fake = fitted.sample(len(df), seed=1) if lib == "genlab" else fitted.sample(len(df))
                if isinstance(fake, dict):  # SDV 2 returns {table name: frame}
                    fake = fake["diamonds"]
                quality[lib] = mt.quality_score(df, fake[list(df.columns)]).score
        print({k: [round(v, 2) for v in vs] for k, vs in times.items()}, flush=True)
    g, s = float(np.median(times["genlab"])), float(np.median(times["sdv"]))
    import sdv

    scale = {}
    for model in ("ctgan", "tvae"):
        out = subprocess.run([sys.executable, "-c", CHILD, model, str(args.epochs)], capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(out.stderr)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res["rows_per_second"] = round(len(df) * args.epochs / res["train_seconds"])
        scale[model] = res
        print(model, res, flush=True)
    print(
        f"copula fit: genlab {g:.2f} s, sdv {s:.2f} s; quality genlab {quality['genlab']:.4f} sdv {quality['sdv']:.4f}"
    )
    write_result(
        "tabular_scale",
        value=round(g, 2),
        unit="seconds to fit gaussian_copula on diamonds (53,940 x 10), median of rounds",
        anchor=f"sdv {sdv.__version__} GaussianCopulaSynthesizer fit, same rows",
        anchor_value=round(s, 2),
        copula_seconds={k: [round(v, 3) for v in vs] for k, vs in times.items()},
        copula_quality=quality,
        full_size_training=scale,
        epochs=args.epochs,
        rows=len(df),
    )


if __name__ == "__main__":
    main()
