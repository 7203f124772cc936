"""Character-level text files: vocabulary, windows, and the errors."""

from __future__ import annotations

import pytest
import torch

from genlab.data import load
from genlab.errors import DataError


def test_text_file_becomes_windows_of_character_tokens(tmp_path):
    f = tmp_path / "corpus.txt"
    f.write_text("abcab cab\nzz", encoding="utf-8")  # 12 characters
    ds = load(f, seq_len=5)
    vocab = ds.extras["vocab"]
    assert vocab == "\n abcz" and ds.x.shape == (2, 5) and ds.info.value_range == (0.0, 5.0)
    assert "".join(vocab[int(t)] for t in ds.x.reshape(-1)) == "abcab cab\n"  # the remainder "zz" is dropped
    assert ds.x.dtype == torch.float32 and ds.y is None
    train, test = ds.split(0.5, generator=torch.Generator().manual_seed(0))
    assert train.extras["vocab"] == vocab and len(train) + len(test) == 2


def test_text_errors(tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("abc", encoding="utf-8")
    with pytest.raises(DataError, match="fewer than one sequence"):
        load(short, seq_len=10)
    with pytest.raises(DataError, match="seq_len"):
        load(short, seq_len=1)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00abc")
    with pytest.raises(DataError, match="UTF-8"):
        load(binary)
    with pytest.raises(DataError, match="two distinct"):
        (tmp_path / "same.txt").write_text("aaaaaaaa")
        load(tmp_path / "same.txt", seq_len=4)
