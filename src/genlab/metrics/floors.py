"""Metric floors: what FID and KID read between two samples of the real data itself.

A model's FID of 5 means little alone: between the MNIST training and test sets the same feature network
already gives a nonzero value (different samples, finite sizes). :func:`metric_floors` computes, once per data
set and feature network (then from a cache), FID and KID between

- the training and the test split (``train_vs_test``), and
- two random halves of the test split (``test_halves``: the floor at half the sample size),

so that every model's figure can be shown next to its floor.
"""

from __future__ import annotations

import json
from typing import Any

import torch

from .. import fileutil
from .features import data_digest, dataset_features, feature_extractor, features_cache_dir
from .fid import fid
from .kid import kid


def _pair(a, b, subsets: int, subset_size: int, seed: int) -> dict[str, Any]:
    f = fid(real=a, fake=b)
    k = kid(real=a, fake=b, subsets=subsets, subset_size=subset_size, seed=seed)
    return {
        "fid": f.value,
        "kid": k.mean,
        "kid_std": k.std,
        "n": [f.n_real, f.n_fake],
        "kid_subset_size": k.subset_size,
    }


def metric_floors(
    dataset: str = "mnist",
    extractor: Any = "auto",
    *,
    data_options: dict[str, Any] | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 0,
    cache: bool = True,
    progress: bool = False,
) -> dict[str, Any]:
    """FID / KID between the train and test splits of ``dataset`` and between two halves of its test split.

    Returns ``{"dataset", "extractor", "train_vs_test": {...}, "test_halves": {...}}`` with ``fid``, ``kid``,
    ``kid_std`` and the sample sizes ``n`` of each pair. Cached under ``<cache>/features/floors`` by the
    extractor's and the data's digests. ``progress`` reports the feature extraction on standard error.
    """
    from ..data import load  # data sits below metrics; imported here to keep `import genlab.metrics` light

    opts = dict(data_options or {})
    train, test = load(dataset, split="train", **opts), load(dataset, split="test", **opts)
    ext = feature_extractor(extractor, tuple(train.info.sample_shape))
    key = f"{dataset}-{ext.name}-{ext.digest[:12]}-{data_digest(train.x)[:12]}-{data_digest(test.x)[:12]}"
    key += f"-{kid_subsets}x{kid_subset_size}-s{seed}"
    path = features_cache_dir() / "floors" / f"{key}.json"
    if cache and ext.digest and path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, OSError):
            pass
    vr = train.info.value_range
    ftr = dataset_features(train.x, ext, label=f"{dataset}-train", value_range=vr, cache=cache, progress=progress)
    fte = dataset_features(test.x, ext, label=f"{dataset}-test", value_range=vr, cache=cache, progress=progress)
    perm = torch.randperm(len(fte), generator=torch.Generator().manual_seed(seed))
    half = len(perm) // 2
    out = {
        "dataset": dataset,
        "extractor": ext.name,
        "train_vs_test": _pair(ftr, fte, kid_subsets, kid_subset_size, seed),
        "test_halves": _pair(fte.subset(perm[:half]), fte.subset(perm[half:]), kid_subsets, kid_subset_size, seed),
    }
    if cache and ext.digest:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fileutil.write_json(path, out)
        except OSError:
            pass
    return out


__all__ = ["metric_floors"]
