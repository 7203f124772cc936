"""load(): the registry, digits, common options and the errors of the dispatcher."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import genlab.data as gd
from genlab.errors import DataError


def test_registry_lists_every_named_source() -> None:
    names = gd.list_datasets()
    images_and_toys = [
        "digits",
        "digits28",
        "digits-to-mnist",
        "mnist",
        "fashion-mnist",
        "ring8",
        "grid25",
        "swiss_roll",
    ]
    tables = ["penguins", "diamonds", "mpg", "txhousing", "iris", "wine", "breast_cancer", "diabetes"]
    assert names == images_and_toys + tables
    assert set(gd.TOY_DATASETS) == {"ring8", "grid25", "swiss_roll"}
    assert set(gd.describe_datasets()) == set(names)


def test_digits_train_and_test_shapes_ranges_labels() -> None:
    train, test = gd.load("digits"), gd.load("digits", split="test")
    assert train.x.shape == (1438, 1, 8, 8) and test.x.shape == (359, 1, 8, 8)
    for ds in (train, test):
        assert ds.x.dtype == torch.float32 and ds.y.dtype == torch.int64
        assert ds.x.min() == 0.0 and ds.x.max() == 1.0
        assert ds.info.value_range == (0.0, 1.0)
        assert ds.info.sample_shape == (1, 8, 8)
        assert ds.info.class_names == tuple("0123456789")
        assert set(ds.y.tolist()) == set(range(10))


def test_digits_split_is_a_fixed_partition_of_sklearns_data() -> None:
    train, test = gd.load("digits"), gd.load("digits", split="test")
    index_train, index_test = train.extras["index"], test.extras["index"]
    assert len(set(index_train.tolist()) | set(index_test.tolist())) == 1797
    assert not set(index_train.tolist()) & set(index_test.tolist())
    bunch = load_digits()
    assert torch.equal(test.x[:, 0] * 16, torch.from_numpy(bunch.images[index_test.numpy()]).float())
    assert torch.equal(test.y, torch.from_numpy(bunch.target[index_test.numpy()]))
    assert torch.equal(gd.load("digits", split="test").x, test.x)  # deterministic


def test_digits_scale_flatten_binarize_options() -> None:
    unit = gd.load("digits")
    sym = gd.load("digits", scale="symmetric")
    assert torch.allclose(sym.x, unit.x * 2 - 1)
    assert sym.info.value_range == (-1.0, 1.0)
    raw = gd.load("digits", scale=None)
    assert raw.x.max() == 16.0 and raw.info.value_range == (0.0, 16.0)
    flat = gd.load("digits", flatten=True)
    assert flat.x.shape == (1438, 64) and flat.info.sample_shape == (64,)
    assert torch.equal(flat.x, unit.x.reshape(1438, 64))
    binary = gd.load("digits", binarize="static")
    assert torch.equal(binary.x, (unit.x > 0.5).float())
    assert binary.info.value_range == (0.0, 1.0)
    binary_sym = gd.load("digits", binarize="static", scale="symmetric")
    assert set(binary_sym.x.unique().tolist()) == {-1.0, 1.0}
    assert binary_sym.info.value_range == (-1.0, 1.0)


def test_names_ignore_case_and_dash_underscore() -> None:
    a = gd.load("Swiss-Roll", n_samples=10)
    assert a.info.name == "swiss_roll"


def test_unknown_name_suggests_a_close_match_and_lists_known_names() -> None:
    with pytest.raises(
        DataError, match=r"unknown dataset 'mnst' \(did you mean 'mnist'\?\).*digits, digits28, digits-to-mnist, mnist"
    ):
        gd.load("mnst")
    with pytest.raises(DataError, match=r"path of an image folder, a \.csv, \.npy or \.txt file"):
        gd.load("no_such_thing_at_all")


def test_unknown_option_names_it_and_the_accepted_ones() -> None:
    pattern = r"unknown option 'scal' \(did you mean 'scale'\?\) for 'digits'; accepted options: scale, flatten"
    with pytest.raises(DataError, match=pattern):
        gd.load("digits", scal="unit")
    with pytest.raises(DataError, match=r"unknown option 'image_size'.*accepted options: n_samples, std, seed"):
        gd.load("ring8", image_size=(8, 8))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"scale": "zero_one"}, "scale='zero_one' is not valid; use one of 'unit', 'symmetric', None"),
        ({"binarize": "dynamic"}, "binarize='dynamic' is not valid"),
        ({"flatten": "yes"}, "flatten must be True or False"),
    ],
)
def test_bad_option_values_are_rejected(options, match) -> None:
    with pytest.raises(DataError, match=match):
        gd.load("digits", **options)


def test_split_must_be_train_or_test() -> None:
    with pytest.raises(DataError, match=r"split must be 'train' or 'test', got 'valid'.*Dataset.split"):
        gd.load("digits", split="valid")


def test_paths_dispatch_on_type_and_reject_splits_and_foreign_options(tmp_path: Path) -> None:
    np.save(tmp_path / "t.npy", np.ones((3, 2)))
    assert gd.load(tmp_path / "t.npy").x.shape == (3, 2)
    assert gd.load(str(tmp_path / "t.npy")).x.shape == (3, 2)
    with pytest.raises(DataError, match=r"no predefined train/test split.*Dataset\.split"):
        gd.load(tmp_path / "t.npy", split="test")
    with pytest.raises(DataError, match=r"unknown option 'label_column'.*accepted options: allow_missing, scale"):
        gd.load(tmp_path / "t.npy", label_column=0)
    (tmp_path / "notes.dat").write_text("hello")
    with pytest.raises(DataError, match=r"unsupported file type '.dat'.*folder of images.*\.csv / \.npy / \.txt"):
        gd.load(tmp_path / "notes.dat")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"the text has 5 characters, fewer than one sequence of seq_len=64"):
        gd.load(tmp_path / "notes.txt")


def test_load_rejects_non_path_arguments() -> None:
    with pytest.raises(DataError, match="takes a dataset name or a path"):
        gd.load(42)
