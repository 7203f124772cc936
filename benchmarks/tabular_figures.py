"""Pictures of the table models learning, for docs/tabular.md.

Trains ``ctgan``, ``tvae`` and ``gaussian_copula`` on the training split of penguins (batch 60, seed 0) and scores
a sample of 275 rows (the training split's size) every few epochs with genlab.metrics.tabular: the quality score
and the pair trends of the related pairs (|Pearson| > 0.5 or Cramer's V > 0.3), beside the same scores of an
independent-columns table (each column shuffled on its own). Writes docs/images/tabular-penguins-learning.png,
the marginals and pair-trend heat map of the final CTGAN and TVAE, and benchmarks/results/tabular_figures.json.

Usage: GENLAB_DATA=../shared/data python benchmarks/tabular_figures.py [--epochs 600]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result
from genlab import plotting
from genlab.metrics import tabular as mt
from genlab.report.tabular import table_pictures
from genlab.tabular import Synthesizer, load_frame, split_frame
from genlab.training.callbacks import Callback

DOCS = Path(__file__).resolve().parents[1] / "docs" / "images"
RELATED = {"correlation_threshold": 0.5, "association_threshold": 0.3}


class Scores(Callback):
    """Samples and scores the model every ``every`` epochs."""

    def __init__(self, train: pd.DataFrame, every: int) -> None:
        self.train, self.every, self.rows = train, every, []

    def on_epoch_end(self, trainer, model, metrics) -> None:
        if trainer.epoch % self.every:
            return
        synth = Synthesizer.from_model(model)
        fake = synth.sample(len(self.train), seed=1)
        kinds = synth.columns
        q = mt.quality_score(self.train, fake, kinds)
        related = mt.quality_score(self.train, fake, kinds, **RELATED)
        self.rows.append((trainer.epoch, q.score, related.column_pair_trends))
        model.train()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=600)
    args = ap.parse_args()
    train = split_frame(load_frame("penguins"), "train")
    rng = np.random.default_rng(0)
    independent = pd.DataFrame({c: train[c].to_numpy()[rng.permutation(len(train))] for c in train.columns})
    curves, finals = {}, {}
    for name in ("ctgan", "tvae"):
        cb = Scores(train, every=max(1, args.epochs // 20))
        synth = Synthesizer(name, epochs=args.epochs, batch_size=60, seed=0)
        synth.fit(train, callbacks=[cb])
        curves[name] = cb.rows
        finals[name] = synth
    copula = Synthesizer("gaussian_copula", seed=0).fit(train)
    kinds = copula.columns
    fake = copula.sample(len(train), seed=1)
    flat = {
        "gaussian_copula": (
            mt.quality_score(train, fake, kinds).score,
            mt.quality_score(train, fake, kinds, **RELATED).column_pair_trends,
        ),
        "independent columns": (
            mt.quality_score(train, independent, kinds).score,
            mt.quality_score(train, independent, kinds, **RELATED).column_pair_trends,
        ),
    }
    series_q = {n: ([r[0] for r in rows], [r[1] for r in rows]) for n, rows in curves.items()}
    series_p = {f"{n} (related pairs)": ([r[0] for r in rows], [r[2] for r in rows]) for n, rows in curves.items()}
    xs = [0, args.epochs]
    for n, (q, p) in flat.items():
        series_q[n] = (xs, [q, q])
        series_p[f"{n} (related pairs)"] = (xs, [p, p])
    DOCS.mkdir(parents=True, exist_ok=True)
    plotting.save_lines(
        series_q, DOCS / "tabular-penguins-quality.png", "epoch", "quality score", title="penguins: quality score"
    )
    plotting.save_lines(
        series_p, DOCS / "tabular-penguins-pairs.png", "epoch", "pair trends", title="penguins: related pairs"
    )
    for name, synth in finals.items():
        pics = table_pictures(train, synth.sample(len(train), seed=1), synth.columns, None, f"{name} on penguins", [])
        (DOCS / f"tabular-penguins-{name}-marginals.png").write_bytes(pics["marginals"])
        q = mt.quality_score(train, synth.sample(len(train), seed=1), synth.columns).as_dict()
        pics = table_pictures(train, synth.sample(len(train), seed=1), synth.columns, q, f"{name} on penguins", [])
        (DOCS / f"tabular-penguins-{name}-pairs.png").write_bytes(pics["pair_trends"])
    final = {n: {"quality": rows[-1][1], "related_pairs": rows[-1][2]} for n, rows in curves.items()}
    final.update({n: {"quality": q, "related_pairs": p} for n, (q, p) in flat.items()})
    for n, v in final.items():
        print(f"{n:22s} quality {v['quality']:.4f}  related pairs {v['related_pairs']:.4f}")
    write_result(
        "tabular_figures",
        value=round(final["ctgan"]["related_pairs"], 4),
        unit=f"CTGAN pair trends of the related pairs on penguins after {args.epochs} epochs",
        anchor="independent columns (each column shuffled on its own)",
        anchor_value=round(final["independent columns"]["related_pairs"], 4),
        final=final,
        curves={n: [list(r) for r in rows] for n, rows in curves.items()},
    )


if __name__ == "__main__":
    main()
