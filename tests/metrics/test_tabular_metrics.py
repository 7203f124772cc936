"""Table fidelity, utility and privacy metrics on frames whose answers are known by hand or by construction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from genlab.errors import ConfigError, DataError
from genlab.metrics import tabular as T

PENGUINS = Path(__file__).resolve().parents[3] / "shared" / "data" / "tables" / "penguins.csv"


def mixed(n: int, seed: int) -> pd.DataFrame:
    """Mixed dtypes with missing cells: floats, ints, text, booleans and datetimes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "x": x,
            "y": 2 * x + rng.normal(size=n),
            "count": rng.integers(0, 5, n),
            "color": rng.choice(["red", "green", "blue"], n).astype(object),
            "flag": rng.random(n) < 0.3,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        }
    )
    frame.loc[rng.random(n) < 0.1, "x"] = np.nan
    frame.loc[rng.random(n) < 0.1, "color"] = None
    frame.loc[rng.random(n) < 0.1, "when"] = pd.NaT
    return frame


# ---------------------------------------------------------------------------------------------- kinds, errors


def test_kinds_are_inferred_from_dtypes():
    kinds = T.column_kinds(mixed(20, 0))
    assert kinds == {
        "x": "numerical",
        "y": "numerical",
        "count": "numerical",
        "color": "categorical",
        "flag": "boolean",
        "when": "datetime",
    }


def test_missing_columns_empty_frames_and_bad_kinds_are_errors_that_say_what_to_do():
    real = mixed(30, 0)
    with pytest.raises(DataError, match=r"synthetic lacks the columns \['color', 'flag'\]"):
        T.column_shapes(real, real.drop(columns=["color", "flag"]))
    with pytest.raises(DataError, match="real is empty"):
        T.quality_score(real.iloc[:0], real)
    with pytest.raises(DataError, match="synthetic is empty"):
        T.column_pair_trends(real, real.iloc[:0])
    with pytest.raises(DataError, match="holdout is empty"):
        T.privacy(real, real, real.iloc[:0])
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        T.column_shapes(real.to_numpy(), real)
    with pytest.raises(ConfigError, match="unknown column kinds"):
        T.column_shapes(real, real, {"x": "float"})
    with pytest.raises(DataError, match=r"declared numerical .* such as '(red|green|blue)'"):
        T.column_shapes(real, real, {"color": "numerical"})
    with pytest.raises(DataError, match="target 'nope' is not among the columns"):
        T.tstr(real, real, real, "nope")
    with pytest.raises(ConfigError, match="model must be"):
        T.detection_score(real, real, model="svm")


# ---------------------------------------------------------------------------------------------- fidelity


def test_identical_frames_score_one_everywhere():
    real = mixed(200, 1)
    shapes = T.column_shapes(real, real.copy())
    pairs = T.column_pair_trends(real, real.copy())
    report = T.quality_score(real, real.copy())
    assert set(shapes) == set(real.columns) and all(v == pytest.approx(1.0) for v in shapes.values())
    assert len(pairs) == 15 and all(v == pytest.approx(1.0) for v in pairs.values())
    assert report.score == pytest.approx(1.0) and report.column_shapes == pytest.approx(1.0)
    assert report.column_pair_trends == pytest.approx(1.0)
    json.dumps(report.as_dict(), allow_nan=False)


def test_disjoint_categories_score_zero_and_a_known_ks():
    real = pd.DataFrame({"c": ["a", "b", "a"], "v": [0.0, 1.0, 2.0]})
    syn = pd.DataFrame({"c": ["x", "y", "y"], "v": [2.0, 3.0, 4.0]})
    assert T.column_shapes(real, syn)["c"] == 0.0
    real = pd.DataFrame({"v": [0, 1, 2, 3]})
    syn = pd.DataFrame({"v": [2, 3, 4, 5]})
    assert T.column_shapes(real, syn)["v"] == pytest.approx(0.5)  # F_r(1) = 1/2, F_s(1) = 0


def test_ks_statistic_is_scipys_with_ties():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 20, 300).astype(float), rng.integers(2, 25, 200).astype(float)
    assert T.ks_statistic(x, y) == pytest.approx(ks_2samp(x, y).statistic, abs=1e-12)


def test_missing_cells_numbers_use_present_values_categories_count_missing():
    real = pd.DataFrame({"v": [1.0, 2.0, np.nan, 3.0], "c": ["a", None, "a", "b"]})
    syn = pd.DataFrame({"v": [1.0, 2.0, 3.0, 3.0], "c": ["a", "a", "a", "b"]})
    syn.loc[3, "v"] = np.nan
    shapes = T.column_shapes(real, syn)
    assert shapes["v"] == 1.0
    assert shapes["c"] == pytest.approx(0.75)  # p = (a .5, b .25, NA .25), q = (a .75, b .25)
    dropped = T.column_shapes(real, syn, missing_category=False)
    assert dropped["c"] == pytest.approx(1 - 0.5 * (abs(2 / 3 - 0.75) + abs(1 / 3 - 0.25)))


def test_correlation_similarity_of_opposite_correlations_is_zero():
    x = np.arange(50.0)
    real = pd.DataFrame({"a": x, "b": 3 * x + 1})
    syn = pd.DataFrame({"a": x, "b": -x})
    assert T.column_pair_trends(real, syn)["a|b"] == pytest.approx(0.0, abs=1e-12)
    assert T.column_pair_trends(real, real)["a|b"] == pytest.approx(1.0)
    half = pd.DataFrame({"a": x, "b": np.where(x % 2 == 0, x, np.nan)})  # rows with a missing cell are dropped
    assert T.column_pair_trends(real, half)["a|b"] == pytest.approx(1.0)


def test_contingency_similarity_of_a_hand_made_two_by_two_table():
    # real joint: (a,x) 2/4, (a,y) 1/4, (b,x) 1/4, (b,y) 0; synthetic: (a,x) 1/4, (b,y) 3/4
    real = pd.DataFrame({"u": ["a", "a", "a", "b"], "w": ["x", "x", "y", "x"]})
    syn = pd.DataFrame({"u": ["a", "b", "b", "b"], "w": ["x", "y", "y", "y"]})
    want = 1 - 0.5 * (abs(0.5 - 0.25) + abs(0.25 - 0) + abs(0.25 - 0) + abs(0 - 0.75))
    assert T.column_pair_trends(real, syn)["u|w"] == pytest.approx(want)  # = 0.25


def test_numbers_are_binned_on_the_real_range_for_contingency():
    real = pd.DataFrame({"v": np.arange(10.0), "c": ["k"] * 10})
    shifted = pd.DataFrame({"v": np.arange(10.0) + 100, "c": ["k"] * 10})
    # 10 real bins of 1/10 each; every shifted value falls in the open top bin: TVD = (9 * .1 + .9) / 2
    assert T.column_pair_trends(real, shifted)["v|c"] == pytest.approx(0.1)
    # SDMetrics' QualityReport bins each frame on its own range and cannot see the shift
    assert T.column_pair_trends(real, shifted, bin_edges="own")["v|c"] == pytest.approx(1.0)


def test_a_constant_column_pair_uses_contingency_and_thresholds_filter_the_mean():
    rng = np.random.default_rng(0)
    n = 400
    a = rng.normal(size=n)
    real = pd.DataFrame({"a": a, "b": a + 0.1 * rng.normal(size=n), "noise": rng.normal(size=n), "k": 1.0})
    syn = real.sample(frac=1.0, replace=True, random_state=1).reset_index(drop=True)
    report = T.quality_score(real, syn)
    metric = {p.key: p.metric for p in report.pairs}
    assert metric["a|k"] == "contingency" and metric["a|b"] == "correlation"
    strong = T.quality_score(real, syn, correlation_threshold=0.5, association_threshold=0.3)
    used = {p.key for p in strong.pairs if p.contributes}
    assert used == {"a|b"}  # |rho(a, noise)| ~ 0 and the constant column's Cramér's V is undefined
    assert strong.column_pair_trends == pytest.approx(next(p.score for p in strong.pairs if p.key == "a|b"))
    json.dumps(strong.as_dict(), allow_nan=False)


def test_datetimes_are_scored_as_numbers_and_text_dates_are_parsed():
    real = mixed(300, 2)
    syn = real.copy()
    syn["when"] = syn["when"] + pd.Timedelta(days=120)
    shapes = T.column_shapes(real, syn)
    days_r = (real["when"] - pd.Timestamp(0)).dt.days.dropna().to_numpy()
    days_s = (syn["when"] - pd.Timestamp(0)).dt.days.dropna().to_numpy()
    assert shapes["when"] == pytest.approx(1 - ks_2samp(days_r, days_s).statistic)
    assert shapes["when"] < 0.8
    assert T.column_pair_trends(real, syn)["color|when"] < T.column_pair_trends(real, real)["color|when"]
    as_text = real.assign(when=real["when"].dt.strftime("%Y-%m-%d"))
    kinds = {"when": "datetime", "x": "numerical"}
    assert T.column_shapes(real, as_text, kinds)["when"] == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------- utility


def test_detection_cannot_tell_one_distribution_from_itself_and_spots_a_shift():
    same = T.detection_score(mixed(600, 3), mixed(600, 4))
    assert abs(same.auc - 0.5) < 0.1 and same.score > 0.8
    assert same.n_per_class == 600 and len(same.fold_aucs) == 3
    shifted = mixed(500, 6)
    shifted["y"] = shifted["y"] + 6.0
    far = T.detection_score(mixed(800, 5), shifted)  # the bigger frame is subsampled to 500 rows
    assert far.auc > 0.95 and far.score < 0.1 and far.n_per_class == 500
    assert T.detection_score(mixed(800, 5), shifted, model="gbm").auc > 0.95
    json.dumps(far.as_dict(), allow_nan=False)


def toy(n: int, seed: int, regression: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    c = rng.choice(["a", "b", "c"], n)
    signal = x1 - x2 + np.where(c == "a", 1.5, 0.0)
    target = signal + 0.3 * rng.normal(size=n) if regression else np.where(signal > 0.3, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "c": c, "t": target})


@pytest.mark.parametrize("regression", [False, True])
def test_tstr_gap_is_small_for_a_fresh_sample_and_large_for_a_shuffled_target(regression):
    train, syn, test = toy(800, 0, regression), toy(800, 1, regression), toy(1000, 2, regression)
    good = T.tstr(train, syn, test, "t")
    assert good["task"] == ("regression" if regression else "classification")
    assert good["primary"] == ("r2" if regression else "f1_macro")
    assert good["best_real"] > 0.8 and abs(good["gap"]) < 0.05
    shuffled = syn.assign(t=syn["t"].sample(frac=1.0, random_state=0).to_numpy())
    bad = T.tstr(train, shuffled, test, "t")
    assert bad["gap"] > 0.3
    json.dumps(bad, allow_nan=False)


def test_tstr_survives_one_class_unseen_categories_and_missing_targets():
    train, test = toy(300, 3), toy(300, 4)
    syn = toy(300, 5).assign(t="yes")
    syn.loc[:10, "t"] = None  # dropped
    test.loc[:20, "c"] = "never seen"
    out = T.tstr(train, syn, test, "t")
    assert out["n_train"]["synthetic"] == 289 and out["n_test"] == 300
    assert out["models"]["gbm"]["synthetic"]["constant"] is True
    assert out["models"]["linear"]["synthetic"]["accuracy"] == pytest.approx((test["t"] == "yes").mean())


# ---------------------------------------------------------------------------------------------- privacy


def test_privacy_of_a_copy_of_the_training_rows():
    train, holdout = mixed(400, 7), mixed(400, 8)
    out = T.privacy(train, train.copy(), holdout)
    assert out["exact_copy_rate"] == 1.0 and out["holdout_copy_rate"] == 0.0
    assert out["dcr_synthetic_median"] == 0.0 and out["dcr_ratio"] == 0.0
    assert out["mia_auc"] > 0.95
    json.dumps(out, allow_nan=False)


def test_privacy_of_an_independent_sample():
    train, syn, holdout = mixed(500, 9), mixed(500, 10), mixed(500, 11)
    out = T.privacy(train, syn, holdout)
    assert out["exact_copy_rate"] < 0.01 and out["holdout_copy_rate"] < 0.01
    assert 0.7 < out["dcr_ratio"] < 1.4
    assert abs(out["mia_auc"] - 0.5) < 0.1
    assert out["dcr_synthetic_p05"] <= out["dcr_synthetic_median"]


def test_the_dcr_distance_is_the_mean_per_column_difference():
    train = pd.DataFrame({"v": [0.0, 10.0], "c": ["a", "a"]})
    # row 0: v 2.5 from 0 (0.25 of the range), same category -> 0.125; row 1: v missing, new category -> 1
    syn = pd.DataFrame({"v": [2.5, np.nan], "c": ["a", "z"]})
    out = T.privacy(train, syn, train.iloc[:1])
    assert out["dcr_synthetic_p05"] == pytest.approx(0.125 + 0.05 * (1 - 0.125))  # linear percentile of 2
    assert out["dcr_synthetic_median"] == pytest.approx((0.125 + 1.0) / 2)
    assert out["exact_copy_rate"] == 0.0 and out["dcr_ratio"] is None  # the holdout row is a train row


# ---------------------------------------------------------------------------------------------- real data


def test_every_metric_runs_on_the_penguins_table():
    if not PENGUINS.exists():
        pytest.skip(f"the penguins table is not at {PENGUINS}")
    pen = pd.read_csv(PENGUINS, na_values=["NA"])
    assert pen.isna().any().any()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(pen))
    train, holdout = pen.iloc[order[:240]], pen.iloc[order[240:]]
    syn = train.sample(n=240, replace=True, random_state=1).reset_index(drop=True)  # copies of train rows...
    syn.loc[::2, "body_mass_g"] += rng.normal(0, 50, 120)  # ...half of them with a noisy body mass
    report = T.quality_score(train, syn)
    assert 0.8 < report.score < 1.0 and len(report.shapes) == 8 and len(report.pairs) == 28
    assert 0.0 <= T.detection_score(train, syn).score <= 1.0
    util = T.tstr(train, syn, holdout, "species")
    assert util["best_real"] > 0.9 and util["models"]["gbm"]["synthetic"]["f1_macro"] > 0.8
    priv = T.privacy(train, syn, holdout)
    assert 0.45 < priv["exact_copy_rate"] < 0.6  # the odd rows, and even ones with a missing body mass
    assert priv["dcr_ratio"] < 0.5 and priv["mia_auc"] > 0.6
    for result in (report.as_dict(), util, priv):
        json.dumps(result, allow_nan=False)
