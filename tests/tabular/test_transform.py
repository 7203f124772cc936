"""The table transform: column kinds, exact round trips of every column type, JSON, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from genlab.errors import DataError, TableWarning
from genlab.tabular import infer_columns, read_table
from genlab.tabular.transform import TableTransform, parse_layout


def mixed_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x": np.round(np.concatenate([rng.normal(-3, 0.5, n // 2), rng.normal(4, 1.0, n - n // 2)]), 3),
            "count": rng.integers(0, 50, n).astype(np.int64),
            "colour": rng.choice(["red", "green", "blue"], n),
            "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L"], ordered=True),
            "flag": rng.random(n) < 0.3,
            "when": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "score": np.where(rng.random(n) < 0.2, np.nan, np.round(rng.normal(10, 2, n), 1)),
            "tier": np.where(rng.random(n) < 0.1, None, rng.choice(["a", "b"], n)).astype(object),
        }
    )
    return df


def assert_same_table(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        assert a[c].dtype == b[c].dtype, (c, a[c].dtype, b[c].dtype)
        pd.testing.assert_series_equal(a[c], b[c], check_names=False, obj=c)


@pytest.mark.parametrize("representation", ["modes", "columns"])
def test_every_column_type_round_trips_exactly(representation):
    df = mixed_frame()
    t = TableTransform.fit(df, representation=representation)
    assert t.kinds() == {
        "x": "numerical",
        "count": "numerical",
        "colour": "categorical",
        "size": "categorical",
        "flag": "boolean",
        "when": "datetime",
        "score": "numerical",
        "tier": "categorical",
    }
    x = t.encode(df, dtype=np.float64)
    assert x.shape == (len(df), t.width)
    back = t.decode(x)
    if representation == "modes":  # a value more than 3.96 mode-stds from its drawn mode is clipped (as in CTGAN)
        ok = (back["x"] - df["x"]).abs() < 1e-9
        assert ok.mean() > 0.97
        back.loc[~ok, "x"] = df.loc[~ok, "x"]
    assert_same_table(df, back)


def test_float32_encoding_keeps_values_to_the_data_precision():
    df = mixed_frame()
    t = TableTransform.fit(df, representation="columns")
    back = t.decode(t.encode(df))  # the models' float32
    assert_same_table(df, back)  # rounding to the data's decimals / integers / days restores every value


def test_layout_describes_the_encoded_parts():
    df = mixed_frame()
    t = TableTransform.fit(df, representation="modes", max_modes=4)
    spans = parse_layout(t.layout)
    assert sum(s.width for s in spans) == t.width
    kinds = [tok[0] for tok in t.layout.split()]
    # x, count, when, score: scalar + mode one-hot; score also its missing indicator; four categorical columns
    assert kinds.count("t") == 4 and kinds.count("m") == 4 and kinds.count("n") == 1 and kinds.count("d") == 4
    x = t.encode(df)
    for s in spans:  # each one-hot part has exactly one 1 per row, scalars lie in [-0.99, 0.99]
        part = x[:, s.start : s.stop]
        if s.kind == "t":
            assert np.abs(part).max() <= 0.99 + 1e-6
        else:
            assert np.array_equal(part.sum(1), np.ones(len(df))) and set(np.unique(part)) <= {0.0, 1.0}
    # the bimodal column gets (at least) two modes from the Bayesian mixture
    assert len(next(c for c in t.columns if c.name == "x").weights) >= 2


def test_missing_values_keep_their_rate_as_an_indicator():
    df = mixed_frame(1000)
    t = TableTransform.fit(df)
    x = t.encode(df)
    score = t.column_spans()["score"]
    assert [s.kind for s in score] == ["t", "m" if score[1].kind == "m" else "?", "n"][: len(score)]
    ind = x[:, score[2].start : score[2].stop].argmax(1)
    assert ind.mean() == pytest.approx(df["score"].isna().mean())
    tier = t.column_spans()["tier"][0]
    assert tier.width == 3  # a, b and the missing level


def test_json_round_trip_gives_the_same_transform():
    df = mixed_frame()
    t = TableTransform.fit(df)
    again = TableTransform.from_dict(t.to_dict())
    assert again.layout == t.layout
    x = t.encode(df, seed=3)
    assert np.array_equal(again.encode(df, seed=3), x)
    assert_same_table(t.decode(x), again.decode(x))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(representation="pixels"),
        lambda d: d["columns"][0].update(kind="weird"),
        lambda d: d["columns"][0].update(weights=[]),
        lambda d: d["columns"][0].update(stds=[-1.0] * len(d["columns"][0]["stds"])),
        lambda d: d["columns"][2].update(categories="red"),
        lambda d: d["columns"][0].update(extra=1),
    ],
)
def test_from_dict_refuses_broken_json(mutate):
    d = TableTransform.fit(mixed_frame()).to_dict()
    mutate(d)
    with pytest.raises(DataError):
        TableTransform.from_dict(d)


def test_fit_is_deterministic_given_the_seed():
    df = mixed_frame()
    a = TableTransform.fit(df, seed=1).to_dict()
    b = TableTransform.fit(df, seed=1).to_dict()
    assert a == b


def test_bounds_are_kept_unless_told_otherwise():
    df = mixed_frame()
    t = TableTransform.fit(df, representation="columns")
    x = t.encode(df)
    x[:, 0] = 100.0  # far above the column's max
    assert t.decode(x)["x"].max() == df["x"].max()
    loose = TableTransform.fit(df, representation="columns", keep_bounds=False)
    assert loose.decode(x)["x"].max() > df["x"].max()


def test_constant_empty_and_id_columns_are_recreated_with_a_warning():
    n = 120
    df = pd.DataFrame(
        {
            "v": np.arange(n, dtype=float),
            "const": ["k"] * n,
            "empty": [np.nan] * n,
            "user": [f"user-{i}" for i in range(n)],
        }
    )
    with pytest.warns(TableWarning) as record:
        t = TableTransform.fit(df)
    messages = " ".join(str(w.message) for w in record)
    assert "'const'" in messages and "'empty'" in messages and "'user'" in messages and "identifier" in messages
    assert t.kinds() == {"v": "numerical", "const": "constant", "empty": "empty", "user": "id"}
    back = t.decode(t.encode(df))
    assert (back["const"] == "k").all() and back["empty"].isna().all()
    assert back["user"].is_unique and not set(back["user"]) & set(df["user"])


def test_metadata_and_discrete_columns_override_the_inference():
    df = mixed_frame()
    kinds = infer_columns(df, discrete_columns=["count"], metadata={"tier": "id"})
    assert kinds["count"] == "categorical" and kinds["tier"] == "id"
    with pytest.raises(DataError, match="no column"):
        infer_columns(df, discrete_columns=["nope"])
    with pytest.raises(DataError, match="kinds are"):
        infer_columns(df, metadata={"x": "fuzzy"})
    with pytest.raises(DataError, match="declared numerical"):
        infer_columns(df, metadata={"colour": "numerical"})


def test_integer_codes_declared_discrete_come_back_as_integers():
    df = pd.DataFrame({"cyl": np.array([4, 6, 8, 4, 6] * 20, dtype=np.int64), "v": np.linspace(0, 1, 100)})
    t = TableTransform.fit(df, discrete_columns=["cyl"])
    back = t.decode(t.encode(df))
    assert back["cyl"].dtype == np.int64 and set(back["cyl"]) == {4, 6, 8}


def test_bad_tables_raise_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no rows"):
        TableTransform.fit(pd.DataFrame({"a": []}))
    with pytest.raises(DataError, match="no columns"):
        TableTransform.fit(pd.DataFrame(index=range(3)))
    with pytest.raises(DataError, match="mixes"):
        TableTransform.fit(pd.DataFrame({"a": pd.Series([1, "two", 3.0] * 5, dtype=object)}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TableWarning)
        with pytest.raises(DataError, match="no column to model"):
            TableTransform.fit(pd.DataFrame({"a": [1.0] * 10, "b": [np.nan] * 10}))
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataError, match="duplicate"):
        TableTransform.fit(dup)


def test_text_that_is_mostly_numbers_warns_and_is_categorical():
    df = pd.DataFrame({"v": [str(i) for i in range(40)] + ["n.a."], "w": np.arange(41.0)})
    with pytest.warns(TableWarning, match="mostly numbers"):
        assert infer_columns(df)["v"] == "categorical"


def test_read_table_reads_csv_and_parquet_and_refuses_bad_files(tmp_path):
    df = mixed_frame(50)
    csv = tmp_path / "t.csv"
    df.to_csv(csv, index=False)
    back = read_table(csv)
    assert list(back.columns) == list(df.columns) and len(back) == 50
    assert infer_columns(back)["when"] == "datetime"  # ISO dates in text are recognised
    pq = tmp_path / "t.parquet"
    df.to_parquet(pq)
    assert read_table(pq)["size"].dtype == df["size"].dtype
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,v\nJos\xe9,1\nRen\xe9e,2\n".encode("latin-1"))
    with pytest.raises(DataError, match="file_encoding='latin-1'"):
        read_table(latin)
    assert read_table(latin, file_encoding="latin-1")["name"].tolist() == ["José", "Renée"]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_table(empty)
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "t.xlsx").write_bytes(b"PK")
    with pytest.raises(DataError, match=r"\.csv, \.tsv or \.parquet"):
        read_table(tmp_path / "t.xlsx")


def test_shared_tables_round_trip(tables_root):
    for name in ("penguins", "mpg", "txhousing"):
        df = read_table(tables_root / f"{name}.csv")
        t = TableTransform.fit(df, representation="columns")
        assert_same_table(df, t.decode(t.encode(df, dtype=np.float64)))
