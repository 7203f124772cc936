import pytest
import torch

import genlab.data as gd
from genlab.errors import DataError


def test_subset_and_split_keep_labels_and_per_sample_extras_aligned():
    ds = gd.load("digits")
    sub = ds.subset([5, 0, 7])
    assert torch.equal(sub.y, ds.y[[5, 0, 7]])
    assert torch.equal(sub.extras["index"], ds.extras["index"][[5, 0, 7]])
    a, b = ds.split(0.25, generator=torch.Generator().manual_seed(0))
    assert len(a) + len(b) == len(ds) and len(b) == round(0.25 * len(ds))
    assert sorted(torch.cat([a.extras["index"], b.extras["index"]]).tolist()) == sorted(ds.extras["index"].tolist())


def test_as_dataset_checks_and_infers_range():
    ds = gd.as_dataset([[0.5, 2.0], [-1.0, 0.0]], [0, 1])
    assert ds.info.value_range == (-1.0, 2.0) and ds.y.tolist() == [0, 1]
    with pytest.raises(DataError, match="NaN"):
        gd.as_dataset([[float("nan"), 1.0]])
    with pytest.raises(DataError, match="infinite"):
        gd.as_dataset([[float("inf"), 1.0]])
    with pytest.raises(DataError, match="1 dimension"):
        gd.as_dataset([1.0, 2.0])
    with pytest.raises(DataError, match="empty"):
        gd.as_dataset(torch.empty(0, 3))
    with pytest.raises(DataError, match="one entry per sample"):
        gd.as_dataset([[1.0], [2.0]], [0])
    nan_ok = gd.as_dataset([[float("nan"), 1.0], [3.0, 0.0]], allow_nan=True)
    assert nan_ok.info.value_range == (0.0, 3.0)
