"""Tabular sources: CSV and NPY files written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import genlab.data as gd
from genlab.errors import DataError


def _csv(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_header(tmp_path: Path) -> None:
    ds = gd.load(_csv(tmp_path, "a,b,c\n1,2,3\n4,5.5,-6\n"))
    assert ds.x.dtype == torch.float32
    assert torch.equal(ds.x, torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.5, -6.0]]))
    assert ds.y is None and ds.info.value_range == (-6.0, 5.5) and ds.info.sample_shape == (3,)
    assert ds.extras["columns"] == ["a", "b", "c"] and ds.info.name == "t"


def test_csv_header_detection_and_override(tmp_path: Path) -> None:
    no_header = _csv(tmp_path, "1,2\n3,4\n")
    assert gd.load(no_header).x.shape == (2, 2)
    assert gd.load(no_header, header=True).x.tolist() == [[3.0, 4.0]]
    assert gd.load(_csv(tmp_path, "x,y\n1,2\n", "h.csv"), header=None).x.tolist() == [[1.0, 2.0]]
    # a string label in the first data row is not mistaken for a header
    ds = gd.load(_csv(tmp_path, "1,2,cat\n3,4,dog\n", "s.csv"), label_column=2)
    assert ds.x.shape == (2, 2) and ds.info.class_names == ("cat", "dog")
    with pytest.raises(DataError, match="header=1 is not valid"):
        gd.load(no_header, header=1)


def test_csv_string_labels_map_to_sorted_class_names(tmp_path: Path) -> None:
    path = _csv(tmp_path, "x1,species,x2\n1,versicolor,2\n3,setosa,4\n5,virginica,6\n7,setosa,8\n")
    ds = gd.load(path, label_column="species")
    assert ds.info.class_names == ("setosa", "versicolor", "virginica")
    assert ds.y.tolist() == [1, 0, 2, 0] and ds.y.dtype == torch.int64
    assert torch.equal(ds.x, torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]))
    assert ds.extras["columns"] == ["x1", "x2"]
    assert torch.equal(gd.load(path, label_column=1).y, ds.y)
    assert torch.equal(gd.load(path, label_column=-2).y, ds.y)


def test_csv_integer_labels_keep_their_codes(tmp_path: Path) -> None:
    ds = gd.load(_csv(tmp_path, "a,label\n0.5,2\n1.5,0\n2.5,2.0\n"), label_column="label")
    assert ds.y.tolist() == [2, 0, 2] and ds.info.class_names == ("0", "1", "2")
    assert ds.x.shape == (3, 1)


@pytest.mark.parametrize(
    ("label_column", "match"),
    [
        ("specis", r"no column 'specis' \(did you mean 'species'\?\); columns: x1, species"),
        (5, "label_column=5 is out of range: .* has 2 columns"),
        (True, "label_column must be a column name or index"),
    ],
)
def test_csv_bad_label_column(tmp_path: Path, label_column, match) -> None:
    path = _csv(tmp_path, "x1,species\n1,a\n2,b\n")
    with pytest.raises(DataError, match=match):
        gd.load(path, label_column=label_column)


def test_csv_label_name_without_header_and_missing_or_negative_labels(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"is a name but .* has no header row; pass the index"):
        gd.load(_csv(tmp_path, "1,2\n3,4\n"), label_column="y")
    with pytest.raises(DataError, match=r"label column 'y' .* 1 missing value\(s\) \(first at line 3\)"):
        gd.load(_csv(tmp_path, "x,y\n1,a\n2,\n", "m.csv"), label_column="y")
    with pytest.raises(DataError, match="negative codes"):
        gd.load(_csv(tmp_path, "x,y\n1,-1\n2,0\n", "n.csv"), label_column="y")


def test_csv_missing_values_need_allow_missing(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,b,c\n1,,3\nnan,5,NA\n7,8,9\n")
    pattern = r"3 missing value\(s\) .*first in column 'b', line 2.*allow_missing=True.*impute"
    with pytest.raises(DataError, match=pattern):
        gd.load(path)
    ds = gd.load(path, allow_missing=True)
    assert torch.equal(ds.x.isnan(), torch.tensor([[False, True, False], [True, False, True], [False] * 3]))
    assert ds.info.value_range == (1.0, 9.0)


def test_csv_non_numeric_column_is_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, "size,color\n1,red\n2,blue\n")
    with pytest.raises(DataError, match=r"column 'color' .* is not numeric \(line 2: 'red'\).*label_column='color'"):
        gd.load(path)
    with pytest.raises(DataError, match=r"table model \(genlab train ctgan / tvae / gaussian_copula --data .*t\.csv\)"):
        gd.load(path)
    with pytest.raises(
        DataError, match=r"column 'column 1' .* \(line 2: 'blue'\); if it holds labels pass label_column=1,"
    ):
        gd.load(_csv(tmp_path, "1,2\n2,blue\n", "n.csv"))


def test_csv_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    text = "\n  \na,b\n\n1,2\n,\n3,x\n"
    with pytest.raises(DataError, match=r"column 'b' .* \(line 7: 'x'\)"):
        gd.load(_csv(tmp_path, text))
    ds = gd.load(_csv(tmp_path, "\n  \na,b\n\n1,2\n,\n3,4\n", "ok.csv"))
    assert ds.x.tolist() == [[1.0, 2.0], [3.0, 4.0]] and ds.extras["columns"] == ["a", "b"]
    with pytest.raises(DataError, match=r"line 4 has 3 fields but the first row has 2"):
        gd.load(_csv(tmp_path, 'a,b\n"x\ny",2\n3,4,5\n', "q.csv"))
    with pytest.raises(DataError, match=r"2 missing value\(s\) .*first in column 'b', line 4"):
        gd.load(_csv(tmp_path, "a,b\r\n1,2\r\n\r\n3, N/A \r\nnone,5\r\n", "crlf.csv"))
    with pytest.raises(DataError, match=r"line 4 has 1 fields but the first row has 2"):
        gd.load(_csv(tmp_path, "a,b\n1,2\n\n3\n", "short.csv"))


def test_csv_encodings(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("a,b\n1,2\n".encode("utf-8-sig"))
    assert gd.load(path).extras["columns"] == ["a", "b"]
    path.write_bytes("a,\xe9\n1,2\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"bom\.csv is not a UTF-8 text file.*save it as UTF-8"):
        gd.load(path)


def test_csv_infinite_ragged_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"1 infinite value\(s\) \(first in column 'b', line 3\)"):
        gd.load(_csv(tmp_path, "a,b\n1,2\n3,inf\n"))
    with pytest.raises(DataError, match="line 3 has 3 fields but the first row has 2"):
        gd.load(_csv(tmp_path, "a,b\n1,2\n3,4,5\n", "r.csv"))
    with pytest.raises(DataError, match="is empty"):
        gd.load(_csv(tmp_path, "\n\n", "e.csv"))
    with pytest.raises(DataError, match="has a header but no data rows"):
        gd.load(_csv(tmp_path, "a,b\n", "h.csv"))


def test_csv_delimiter_and_per_column_scaling(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a;b;c\n0;10;5\n5;30;5\n10;20;5\n")
    unit = gd.load(path, delimiter=";", scale="unit")
    assert torch.allclose(unit.x, torch.tensor([[0.0, 0.0, 0.0], [0.5, 1.0, 0.0], [1.0, 0.5, 0.0]]))
    assert unit.info.value_range == (0.0, 1.0)
    sym = gd.load(path, delimiter=";", scale="symmetric")
    assert torch.allclose(sym.x, unit.x * 2 - 1) and sym.info.value_range == (-1.0, 1.0)
    with pytest.raises(DataError, match="scale='minmax' is not valid"):
        gd.load(path, delimiter=";", scale="minmax")


def test_npy_arrays(tmp_path: Path) -> None:
    array = np.arange(12, dtype=np.int64).reshape(4, 3)
    np.save(tmp_path / "a.npy", array)
    ds = gd.load(tmp_path / "a.npy")
    assert torch.equal(ds.x, torch.from_numpy(array).float()) and ds.info.value_range == (0.0, 11.0)
    np.save(tmp_path / "b.npy", np.array([[True, False]]))
    assert gd.load(tmp_path / "b.npy").x.tolist() == [[1.0, 0.0]]


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.zeros(5), r"1-D array of shape \(5,\).*must be 2-D.*reshape"),
        (np.zeros((2, 3, 4)), r"3-D array of shape \(2, 3, 4\)"),
        (np.array([["a", "b"]]), "non-numeric data"),
        (np.array([[1.0, np.inf]]), "infinite value"),
        (np.array([[1.0, np.nan]]), r"1 missing value\(s\).*allow_missing=True"),
    ],
)
def test_npy_rejects_bad_arrays(tmp_path: Path, array: np.ndarray, match: str) -> None:
    np.save(tmp_path / "x.npy", array)
    with pytest.raises(DataError, match=match):
        gd.load(tmp_path / "x.npy")


def test_npy_nan_allowed_on_request_and_pickles_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "n.npy", np.array([[1.0, np.nan], [3.0, 4.0]]))
    ds = gd.load(tmp_path / "n.npy", allow_missing=True)
    assert ds.x.isnan().sum() == 1 and ds.info.value_range == (1.0, 4.0)
    np.save(tmp_path / "o.npy", np.array([[{"a": 1}]], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="holds Python objects"):
        gd.load(tmp_path / "o.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match=r"junk\.npy"):
        gd.load(tmp_path / "junk.npy")
