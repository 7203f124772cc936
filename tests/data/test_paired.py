"""Paired (input, target) image data: built from a corruption or two arrays, kept aligned through every
selection, split and batch."""

import pytest
import torch

import genlab
from genlab.data import Dataset, load, paired, paired_arrays
from genlab.errors import DataError
from genlab.training import Trainer


def test_a_corruption_makes_fixed_pairs_for_a_seed():
    a = load("digits", corruption="mask:random:0.3", corruption_seed=4)
    b = load("digits", corruption="mask:random:0.3", corruption_seed=4)
    c = load("digits", corruption="mask:random:0.3", corruption_seed=5)
    assert torch.equal(a.source, b.source) and not torch.equal(a.source, c.source)
    assert torch.equal(a.x, load("digits").x)  # the targets are the images themselves
    assert a.extras["corruption"] == "mask:random:0.3" and a.extras["hole"].shape == a.x.shape
    small = load("digits", corruption="downsample:2", corruption_size="small")
    assert small.source.shape == (len(small), 1, 4, 4)


def test_pairs_stay_aligned_through_subset_and_split():
    ds = load("digits", corruption="mask:center:4")
    idx = torch.tensor([5, 0, 17])
    sub = ds.subset(idx)
    assert torch.equal(sub.x, ds.x[idx]) and torch.equal(sub.source, ds.source[idx])
    assert torch.equal(sub.extras["hole"], ds.extras["hole"][idx])
    train, val = ds.split(0.25, generator=torch.Generator().manual_seed(0))
    for part in (train, val):  # every input is its own target with the hole filled by 0
        hole = part.extras["hole"]
        assert torch.equal(part.source[~hole], part.x[~hole]) and bool((part.source[hole] == 0).all())


def test_the_trainer_hands_each_batch_its_own_inputs():
    seen = []
    model = genlab.create("vae", data_shape=(1, 8, 8), hidden_dims=(8,), latent_dim=2)
    original = model.training_step

    def step(batch, optimizers, i):
        seen.append((batch.x.clone(), batch.source.clone()))
        return original(batch, optimizers, i)

    model.training_step = step
    ds = load("digits", corruption="downsample:2")
    lookup = {tuple(t.flatten().tolist()): s for t, s in zip(ds.x, ds.source, strict=True)}
    Trainer(epochs=1, batch_size=100, seed=0).fit(model, ds)
    assert sum(len(x) for x, _ in seen) == len(ds)
    for x, s in seen[:3]:
        for xi, si in zip(x, s, strict=True):
            assert torch.equal(lookup[tuple(xi.flatten().tolist())], si)


def test_paired_arrays_and_bad_pairs():
    inputs, targets = torch.rand(6, 1, 7, 7), torch.rand(6, 1, 28, 28)
    ds = paired_arrays(inputs, targets)
    assert ds.sample_shape == (1, 28, 28) and ds.source.shape == (6, 1, 7, 7)
    with pytest.raises(DataError, match="aligned"):
        paired_arrays(inputs[:5], targets)
    with pytest.raises(DataError, match="paired inputs"):
        Dataset(targets, source=inputs[:2])
    with pytest.raises(DataError, match="image dataset"):
        paired(load("digits", flatten=True), "edges")
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        paired(load("digits", scale="symmetric"), "edges")
    with pytest.raises(DataError, match="unknown corruption"):
        load("digits", corruption="blur")
