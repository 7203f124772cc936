"""Character-level text: a UTF-8 file cut into fixed-length sequences of character tokens.

The vocabulary is the sorted set of characters in the whole file (``extras["vocab"]``), token ``i`` being
``vocab[i]``; the samples are consecutive, non-overlapping windows of ``seq_len`` characters (a trailing
remainder is dropped), as float32 token values ``(N, seq_len)``. Split them with :meth:`Dataset.split`.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import DataError
from .dataset import Dataset, DatasetInfo


def text_dataset(text: str, *, seq_len: int = 64, name: str = "text", source: str = "", vocab: str | None = None):
    """A :class:`Dataset` of ``seq_len``-character windows of ``text`` (see the module docstring)."""
    if not isinstance(seq_len, int) or isinstance(seq_len, bool) or seq_len < 2:
        raise DataError(f"seq_len must be an integer >= 2, got {seq_len!r}")
    chars = vocab if vocab is not None else "".join(sorted(set(text)))
    unknown = sorted(set(text) - set(chars))
    if unknown:
        raise DataError(f"the text has characters outside the vocab: {unknown[:10]}")
    if len(chars) < 2:
        raise DataError("the text needs at least two distinct characters")
    n = len(text) // seq_len
    if n == 0:
        raise DataError(f"the text has {len(text)} characters, fewer than one sequence of seq_len={seq_len}")
    index = {ch: i for i, ch in enumerate(chars)}
    codes = torch.tensor([index[ch] for ch in text[: n * seq_len]], dtype=torch.float32).reshape(n, seq_len)
    info = DatasetInfo(name=name, sample_shape=(seq_len,), value_range=(0.0, float(len(chars) - 1)), source=source)
    return Dataset(x=codes, y=None, info=info, extras={"vocab": chars})


def load_text(path: str | os.PathLike, *, seq_len: int = 64) -> Dataset:
    """Load a UTF-8 text file as character sequences of length ``seq_len``.

    Raises:
        DataError: unreadable or non-UTF-8 file, fewer than ``seq_len`` characters, a single distinct character.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path} as UTF-8 text: {exc}") from exc
    return text_dataset(text, seq_len=seq_len, name=path.stem, source=str(path))


__all__ = ["load_text", "text_dataset"]
