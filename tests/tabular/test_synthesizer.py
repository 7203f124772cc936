"""Table models through the Synthesizer: dtypes survive fit / sample / save / load, conditions hold, the copula is
right in closed form, runs resume exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import genlab
from genlab.errors import ConfigError, DataError
from genlab.tabular import Synthesizer, load_table
from genlab.training import Trainer
from genlab.training.callbacks import Checkpoint

from .test_transform import mixed_frame

FAST = {
    "ctgan": {
        "epochs": 3,
        "batch_size": 100,
        "embedding_dim": 16,
        "generator_dims": (32,),
        "discriminator_dims": (32,),
    },
    "tvae": {"epochs": 3, "batch_size": 100, "embedding_dim": 8, "compress_dims": (32,), "decompress_dims": (32,)},
    "gaussian_copula": {},
}


def fit(name: str, df: pd.DataFrame, **kw) -> Synthesizer:
    return Synthesizer(name, seed=0, **{**FAST[name], **kw}).fit(df)


@pytest.mark.parametrize("name", list(FAST))
def test_dtypes_categories_and_integers_survive_fit_sample_save_load(name, tmp_path):
    df = mixed_frame(200)
    synth = fit(name, df)
    fake = synth.sample(300, seed=1)
    assert list(fake.columns) == list(df.columns) and len(fake) == 300
    assert fake.dtypes.to_dict() == df.dtypes.to_dict()
    assert list(fake["size"].cat.categories) == ["S", "M", "L"] and fake["size"].cat.ordered
    assert set(fake["colour"]) <= {"red", "green", "blue"}
    assert (fake["count"] == fake["count"].round()).all()
    assert fake["x"].between(df["x"].min(), df["x"].max()).all()  # bounds kept
    assert fake["when"].dt.normalize().equals(fake["when"])  # dates at the data's resolution (days)
    assert set(fake["tier"].dropna()) <= {"a", "b"}
    path = synth.save(tmp_path / "model")
    again = Synthesizer.load(path)
    pd.testing.assert_frame_equal(again.sample(300, seed=1), fake)
    assert again.columns == synth.columns
    with pytest.raises(genlab.errors.RunExistsError):
        synth.save(tmp_path / "model")


@pytest.mark.parametrize("name", list(FAST))
def test_the_same_seed_gives_the_same_rows(name):
    df = mixed_frame(150)
    a, b = fit(name, df), fit(name, df)
    pd.testing.assert_frame_equal(a.sample(50, seed=4), b.sample(50, seed=4))
    assert not a.sample(50, seed=4).equals(a.sample(50, seed=5))


@pytest.mark.parametrize("name", list(FAST))
def test_conditional_sampling_returns_only_the_asked_categories(name):
    df = mixed_frame(200)
    synth = fit(name, df)
    rows = synth.sample(80, conditions={"colour": "green"}, seed=0)
    assert len(rows) == 80 and (rows["colour"] == "green").all()
    rows = synth.sample(40, conditions={"colour": "red", "flag": True}, seed=0)
    assert (rows["colour"] == "red").all() and rows["flag"].all()
    with pytest.raises(DataError, match="no category 'purple'"):
        synth.sample(5, conditions={"colour": "purple"})
    with pytest.raises(DataError, match="categorical or boolean"):
        synth.sample(5, conditions={"x": 1.0})


def test_ctgan_conditions_through_its_conditional_vector_not_by_rejection():
    df = mixed_frame(200)
    synth = fit("ctgan", df)
    model = synth.model_
    calls = []
    original = model._draw
    model._draw = lambda n, gen, cond: calls.append((n, cond)) or original(n, gen, cond)
    synth.sample(500, conditions={"colour": "blue"}, seed=0)
    assert len(calls) == 1 and calls[0][0] == 500 and calls[0][1] is not None  # one pass, conditioned


def correlated(n: int = 4000, rho: float = 0.8, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    return pd.DataFrame(
        {
            "a": np.round(np.exp(z[:, 0]), 6),  # a skewed marginal: the copula keeps it, the correlation of scores
            "b": np.round(10 + 3 * z[:, 1], 6),
            "grp": np.where(z[:, 1] > 0.5, "high", "low"),
        }
    )


def test_copula_recovers_marginals_and_the_rank_correlation():
    from scipy import stats

    df = correlated()
    synth = fit("gaussian_copula", df)
    fake = synth.sample(4000, seed=2)
    for c in ("a", "b"):
        assert stats.ks_2samp(df[c], fake[c]).statistic < 0.04
    rho_real = stats.spearmanr(df["a"], df["b"]).statistic
    rho_fake = stats.spearmanr(fake["a"], fake["b"]).statistic
    assert rho_fake == pytest.approx(rho_real, abs=0.04)
    assert (fake["grp"] == "high").mean() == pytest.approx((df["grp"] == "high").mean(), abs=0.03)


def test_copula_conditional_sample_follows_the_conditional_distribution():
    df = correlated()
    synth = fit("gaussian_copula", df)
    high = synth.sample(2000, conditions={"grp": "high"}, seed=0)
    assert (high["grp"] == "high").all()
    # exact conditioning: the same distribution as the model's own rows that happen to be "high" (rejection)
    free = synth.sample(20_000, seed=1)
    kept = free.loc[free["grp"] == "high", "b"]
    assert high["b"].mean() == pytest.approx(kept.mean(), abs=0.15)
    assert high["b"].std() == pytest.approx(kept.std(), rel=0.08)
    assert high["b"].mean() - df["b"].mean() > 1.5  # b given the group, not b's overall mean


def test_copula_sample_remaining_keeps_known_cells_and_fills_from_the_conditional():
    df = correlated()
    synth = fit("gaussian_copula", df)
    partial = pd.DataFrame({"a": [np.exp(2.0)] * 300 + [np.exp(-2.0)] * 300, "b": np.nan, "grp": None})
    filled = synth.sample_remaining(partial, seed=0)
    assert filled["a"].tolist() == partial["a"].tolist()
    assert filled["b"].notna().all() and set(filled["grp"]) <= {"high", "low"}
    top, bottom = filled["b"][:300].mean(), filled["b"][300:].mean()
    assert top - bottom > 6.0  # b follows a through the correlation (E[b | z_a = +-2] = 10 +- 4.8)
    with pytest.raises(DataError, match="gaussian_copula"):
        fit("tvae", df.head(300)).sample_remaining(partial)
    with pytest.raises(DataError, match="lack the column"):
        synth.sample_remaining(partial[["a"]])


def test_copula_fits_in_one_pass_and_more_passes_change_nothing_but_the_jitter():
    df = correlated(2000)
    one = fit("gaussian_copula", df)
    assert one.result_.trainer.epoch == 1
    r = one.model_.correlation()
    assert torch.allclose(r, r.T) and torch.allclose(r.diagonal(), torch.ones(3, dtype=r.dtype), atol=1e-5)
    two = fit("gaussian_copula", df, epochs=2)
    assert torch.allclose(two.model_.correlation(), r, atol=0.03)


@pytest.mark.parametrize("name", ["ctgan", "tvae", "gaussian_copula"])
def test_a_resumed_table_run_continues_exactly(name, tmp_path):
    data = load_table(mixed_frame(150), split="all", representation="columns" if name == "gaussian_copula" else "modes")
    over = {k: v for k, v in FAST[name].items() if k not in ("epochs", "batch_size")}

    def build():
        entry = genlab.registry.get_model(name)
        from genlab.tabular.transform import TableTransform

        layout = TableTransform.from_dict(data.info.table).layout
        return entry.build(data_shape=data.info.sample_shape, layout=layout, seed=3, **over)

    epochs = 4 if name != "gaussian_copula" else 2
    ref = build()
    Trainer(epochs=epochs, batch_size=32, seed=1).fit(ref, data)
    m = build()
    tr = Trainer(
        epochs=epochs,
        batch_size=32,
        seed=1,
        max_steps=6,
        run_dir=tmp_path,
        callbacks=[Checkpoint(every_steps=3, every_epochs=None, at_end=False)],
    )
    tr.fit(m, data)
    resumed = build()
    Trainer(epochs=epochs, batch_size=32, seed=1, run_dir=tmp_path).fit(resumed, data, resume=True)
    for k, v in ref.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_table_models_refuse_data_that_is_not_a_table():
    with pytest.raises((ConfigError, DataError), match="learns tables"):
        genlab.train("ctgan", "digits", epochs=1, progress=False)
    synth = Synthesizer("tvae")
    with pytest.raises(DataError, match="not fitted"):
        synth.sample(3)
    with pytest.raises(DataError, match="one of ctgan"):
        Synthesizer("vae")
    with pytest.raises(DataError, match="positive number"):
        fit("gaussian_copula", mixed_frame(50)).sample(0)


def test_named_tables_split_80_20_without_overlap(tables_root):
    train = load_table("penguins", split="train", representation="columns")
    test = load_table("penguins", split="test", representation="columns")
    every = load_table("penguins", split="all", representation="columns")
    assert len(train) + len(test) == len(every) == 344
    key = ["bill_length_mm", "bill_depth_mm", "body_mass_g", "year", "species", "island"]
    merged = train.extras["frame"].merge(test.extras["frame"], on=key, how="inner")
    assert len(merged) <= 1  # no shared rows (penguins has one all-missing duplicate pattern at most)
    iris = load_table("iris", split="all")
    assert iris.extras["frame"]["target"].dtype == "category" and len(iris) == 150
