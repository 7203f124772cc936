"""Table models end to end: `genlab train` on a CSV, `genlab sample` to CSV / Parquet, `genlab evaluate` with the
table metrics and report; a short fit learns dependencies an independent-columns table lacks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import genlab
from genlab.cli.main import main
from genlab.metrics import tabular as mt
from genlab.report import evaluate_run, render_report
from genlab.tabular import Synthesizer, load_frame, split_frame

from .test_transform import mixed_frame


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "table.csv"
    mixed_frame(250).to_csv(path, index=False)
    return path


def test_train_sample_evaluate_from_the_command_line(csv, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "gaussian_copula", "--data", str(csv), "--out", str(run), "--quiet"]) == 0
    assert (run / "samples.csv").is_file() and (run / "model" / "meta.json").is_file()
    meta = json.loads((run / "model" / "meta.json").read_text())
    assert meta["data"]["table"]["representation"] == "columns"
    recorded = json.loads((run / "run.json").read_text())
    assert recorded["data"]["options"] == {"representation": "columns"}
    out = tmp_path / "synth.csv"
    assert main(["sample", str(run), "-n", "40", "--out", str(out), "--condition", "colour=red", "--seed", "3"]) == 0
    synth = pd.read_csv(out)
    assert len(synth) == 40 and list(synth.columns) == list(mixed_frame(5).columns) and (synth["colour"] == "red").all()
    pq = tmp_path / "synth.parquet"
    assert main(["sample", str(run), "-n", "10", "--out", str(pq)]) == 0
    back = pd.read_parquet(pq)  # Parquet keeps the dtypes the model learnt from the CSV
    assert back["count"].dtype == np.int64 and back["flag"].dtype == bool and back["x"].dtype == np.float64
    capsys.readouterr()
    assert main(["evaluate", str(run), "--target", "colour", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Quality score" in printed and "TSTR accuracy" in printed and "Membership inference" in printed
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["metrics"]) == {"quality", "detection", "utility", "privacy"}
    assert 0.5 < metrics["metrics"]["quality"]["score"] <= 1.0
    html = (run / "report.html").read_text()
    assert "pair trends" in html.lower() and html.count("<img") >= 2


def test_table_cli_errors_are_one_line(csv, tmp_path, capsys):
    run = tmp_path / "run"
    main(["train", "gaussian_copula", "--data", str(csv), "--out", str(run), "--quiet"])
    capsys.readouterr()
    cases = [
        (["sample", str(run), "-n", "5", "--out", str(tmp_path / "s.png")], ".csv or .parquet"),
        (["sample", str(run), "-n", "5", "--out", str(tmp_path / "s.csv"), "--condition", "colour=purple"], "purple"),
        (["sample", str(run), "-n", "5", "--out", str(tmp_path / "s.csv"), "--condition", "x=1"], "categorical"),
        (["evaluate", str(run), "--metrics", "fid"], "unknown table metric"),
        (["evaluate", str(run), "--target", "nope"], "not a column"),
        (["train", "ctgan", "--data", "digits", "--out", str(tmp_path / "d")], "learns tables"),
    ]
    for argv, message in cases:
        assert main(argv) != 0
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) <= 2 and "Traceback" not in err, (argv, err)
    assert not (tmp_path / "s.csv").exists() and not (tmp_path / "d").exists()


def test_bad_tables_fail_before_anything_is_written(tmp_path, capsys):
    bad = tmp_path / "latin.csv"
    bad.write_bytes(("city,v\n" + "S\xe3o Paulo,1\nBras\xedlia,2\n" * 20).encode("latin-1"))
    out = tmp_path / "run"
    assert main(["train", "tvae", "--data", str(bad), "--out", str(out)]) != 0
    assert "file_encoding" in capsys.readouterr().err and not out.exists()
    assert main(["train", "tvae", "--data", str(bad), "--data-opt", "file_encoding=latin-1", "--out", str(out)]) == 0
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n")
    assert main(["train", "ctgan", "--data", str(empty), "--out", str(tmp_path / "e")]) != 0
    assert "no rows" in capsys.readouterr().err and not (tmp_path / "e").exists()


def test_a_resumed_table_run_from_the_cli_keeps_its_transform(csv, tmp_path):
    run = tmp_path / "run"
    argv = ["train", "tvae", "--data", str(csv), "--out", str(run), "--quiet", "--set", "embedding_dim=4"]
    assert main([*argv, "--epochs", "2"]) == 0
    first = json.loads((run / "model" / "meta.json").read_text())["data"]["table"]
    assert main(["train", "--resume", "--out", str(run), "--epochs", "4", "--quiet"]) == 0
    assert json.loads((run / "model" / "meta.json").read_text())["data"]["table"] == first
    assert json.loads((run / "run.json").read_text())["epochs_done"] == 4


def independent_columns(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Every column shuffled on its own: the marginals of ``df`` without any of its dependencies."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: df[c].to_numpy()[rng.permutation(len(df))] for c in df.columns})


# CTGAN needs about 3,000 steps to get there on penguins (the ctgan package as many: 0.66 after 3,000 against the
# independent table's 0.65), so its case is a slow test; the VAE and the copula beat it in seconds
@pytest.mark.parametrize(
    ("name", "epochs"), [("tvae", 150), ("gaussian_copula", 1), pytest.param("ctgan", 600, marks=pytest.mark.slow)]
)
def test_a_short_fit_on_penguins_beats_independent_columns_on_pair_trends(name, epochs, tables_root):
    df = load_frame("penguins")
    train = split_frame(df, "train")
    synth = Synthesizer(name, epochs=epochs, batch_size=60, seed=0).fit(train)
    fake = synth.sample(len(train), seed=1)
    kinds = synth.columns
    # the pairs that are related in the real table (|Pearson| > 0.5 or Cramer's V > 0.3, SDMetrics' report): the
    # dependencies an independent-columns table cannot have
    related = {"correlation_threshold": 0.5, "association_threshold": 0.3}
    model_trends = mt.quality_score(train, fake, kinds, **related).column_pair_trends
    baseline = mt.quality_score(train, independent_columns(train), kinds, **related).column_pair_trends
    assert model_trends > baseline + 0.05, (model_trends, baseline)


def test_every_table_model_is_evaluated_with_the_table_metrics(tmp_path):
    for name in ("ctgan", "tvae", "gaussian_copula"):
        run = genlab.train(name, "iris", out=tmp_path / name, epochs=2, batch_size=64, progress=False).run_dir
        ev = evaluate_run(run, progress=False)
        m = ev.results["metrics"]
        assert set(m) == {"quality", "detection", "utility", "privacy"}, name
        assert m["utility"]["target"] == "target" and m["utility"]["task"] == "classification"
        assert {"marginals", "pair_trends"} <= set(ev.pictures)
        assert "<table id='metrics'>" in render_report(ev.results, ev.pictures)
