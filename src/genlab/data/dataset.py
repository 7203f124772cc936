"""The in-memory dataset every genlab loader returns, and the checks that guard it."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import DataError


@dataclass(frozen=True)
class DatasetInfo:
    """Metadata of a dataset.

    Attributes:
        name: short name (``"digits"``, ``"mnist"``, a folder or file name).
        sample_shape: shape of one sample, e.g. ``(1, 28, 28)`` for images, ``(d,)`` for tabular data.
        value_range: ``(low, high)`` the values lie in, e.g. ``(0.0, 1.0)``.
        class_names: names of the integer labels, or ``None`` when there are no labels.
        source: where it came from (a path, ``"sklearn"``, ``"generated"``).
        table: for tables, the fitted :class:`~genlab.tabular.transform.TableTransform` as JSON (its
            ``to_dict()``): how rows were encoded and how samples decode back to a DataFrame; else ``None``.
        source_shape: for image-to-image data, the shape of one input (``Dataset.source`` row); else ``None``.
        pairing: ``"paired"`` (input ``i`` belongs to target ``i``), ``"unpaired"`` (two domains sampled
            independently: inputs are domain A, targets domain B) or ``None`` (no inputs).
    """

    name: str
    sample_shape: tuple[int, ...]
    value_range: tuple[float, float]
    class_names: tuple[str, ...] | None = None
    source: str = ""
    table: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    source_shape: tuple[int, ...] | None = None
    pairing: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "sample_shape": list(self.sample_shape),
            "value_range": list(self.value_range),
            "class_names": list(self.class_names) if self.class_names is not None else None,
            "source": self.source,
        }
        if self.table is not None:
            out["table"] = self.table
        if self.source_shape is not None:
            out["source_shape"] = list(self.source_shape)
            out["pairing"] = self.pairing
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetInfo:
        names = d.get("class_names")
        return cls(
            name=str(d["name"]),
            sample_shape=tuple(int(s) for s in d["sample_shape"]),
            value_range=(float(d["value_range"][0]), float(d["value_range"][1])),
            class_names=tuple(names) if names is not None else None,
            source=str(d.get("source", "")),
            table=d.get("table"),
            source_shape=tuple(int(v) for v in d["source_shape"]) if d.get("source_shape") is not None else None,
            pairing=d.get("pairing"),
        )


@dataclass
class Dataset:
    """Samples, optional labels and metadata, all in memory.

    Attributes:
        x: float32 tensor of shape ``(N, *sample_shape)``; images are ``(N, C, H, W)``.
        y: int64 labels of shape ``(N,)`` or ``None``.
        info: a :class:`DatasetInfo`.
        centers: for toy mixtures, the true mode centres ``(K, 2)``; else ``None``.
        source: for paired (image-to-image) data, the inputs ``(N, ...)`` whose targets are ``x``, row by row
            (e.g. the downsampled or masked images); it follows every selection of ``x``. For unpaired data
            (``info.pairing == "unpaired"``) the images of domain A, of any number, drawn independently of ``x``
            (domain B) and kept whole by every selection. ``None`` for data without inputs.
    """

    x: torch.Tensor
    y: torch.Tensor | None = None
    info: DatasetInfo | None = None
    centers: torch.Tensor | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    source: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.info is None:
            self.info = infer_info(self.x, name="array")
        if self.y is not None and len(self.y) != len(self.x):
            raise DataError(f"{len(self.x)} samples but {len(self.y)} labels; pass one label per sample or no labels")
        if self.source is None:
            return
        pairing = self.info.pairing or "paired"
        if pairing not in ("paired", "unpaired"):
            raise DataError(f"pairing must be 'paired' or 'unpaired', got {pairing!r}")
        if pairing == "paired" and len(self.source) != len(self.x):
            raise DataError(f"{len(self.x)} targets but {len(self.source)} paired inputs; pass one input per target")
        if len(self.source) == 0:
            raise DataError("the inputs (domain A) are empty; pass at least one input image")
        shape = tuple(self.source.shape[1:])
        if self.info.source_shape != shape or self.info.pairing != pairing:
            self.info = dataclasses.replace(self.info, source_shape=shape, pairing=pairing)

    @property
    def unpaired(self) -> bool:
        """True for two domains sampled independently (``source`` is domain A, ``x`` domain B)."""
        return self.source is not None and self.info.pairing == "unpaired"

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def to(self, device: torch.device | str) -> Dataset:
        """This dataset with its tensors (samples, labels, inputs, masks) on ``device``; itself if already there."""
        device = torch.device(device)
        if self.x.device == device:
            return self

        def move(t: Any) -> Any:
            return t.to(device) if isinstance(t, torch.Tensor) else t

        extras = {k: move(v) for k, v in self.extras.items()}
        return dataclasses.replace(
            self, x=move(self.x), y=move(self.y), centers=move(self.centers), source=move(self.source), extras=extras
        )

    def subset(self, index: torch.Tensor | Sequence[int] | slice) -> Dataset:
        """A dataset holding the selected samples (and their labels)."""
        if not isinstance(index, slice):
            index = torch.as_tensor(index, dtype=torch.long)
        y = self.y[index] if self.y is not None else None
        source = self.source[index] if self.source is not None and not self.unpaired else self.source
        n = len(self)
        keep_whole = {"source_y"} if self.unpaired else set()  # domain A's labels stay with domain A
        extras = {  # per-sample extras (e.g. the original index) follow the selection
            k: (v[index] if isinstance(v, torch.Tensor) and v.ndim >= 1 and len(v) == n and k not in keep_whole else v)
            for k, v in self.extras.items()
        }
        return dataclasses.replace(self, x=self.x[index], y=y, extras=extras, source=source)

    def split(self, fraction: float, generator: torch.Generator | None = None) -> tuple[Dataset, Dataset]:
        """Split into ``(first, second)`` with ``fraction`` of the samples in ``second`` (shuffled)."""
        if not 0.0 < fraction < 1.0:
            raise DataError(f"split fraction must be in (0, 1), got {fraction}")
        n = len(self)
        n_second = max(1, round(n * fraction))
        if n_second >= n:
            raise DataError(f"cannot split {n} samples with fraction {fraction}: nothing would be left")
        perm = torch.randperm(n, generator=generator)
        return self.subset(perm[n_second:]), self.subset(perm[:n_second])

    def semi_supervised(self, n_labels: int, seed: int = 0, repeat: int = 1) -> Dataset:
        """Keep the labels of ``n_labels`` samples, class-balanced, and mark the others unlabelled (``-1``).

        For semi-supervised models (``ssvae``). The labelled samples are drawn with ``seed``: ``n_labels //
        K`` of each of the ``K`` classes (the remainder goes to the first classes). ``repeat > 1`` appends
        the labelled samples ``repeat - 1`` more times, so that they appear more often in the batches.
        """
        if self.y is None:
            raise DataError("semi_supervised() needs a labelled dataset; this one has no labels")
        labelled = self.y[self.y >= 0]
        classes = torch.unique(labelled)
        if not 1 <= n_labels <= len(labelled):
            raise DataError(f"n_labels must be between 1 and the {len(labelled)} labelled samples, got {n_labels}")
        if repeat < 1:
            raise DataError(f"repeat must be >= 1, got {repeat}")
        g = torch.Generator().manual_seed(seed)
        chosen = []
        for i, c in enumerate(classes.tolist()):
            members = torch.nonzero(self.y == c)[:, 0]
            want = n_labels // len(classes) + (1 if i < n_labels % len(classes) else 0)
            if want > len(members):
                raise DataError(f"class {c} has {len(members)} samples, fewer than the {want} labels asked for")
            chosen.append(members[torch.randperm(len(members), generator=g)[:want]])
        keep = torch.cat(chosen).sort().values
        y = torch.full_like(self.y, -1)
        y[keep] = self.y[keep]
        out = dataclasses.replace(self, y=y)
        if repeat > 1:
            extra = self.subset(keep.repeat(repeat - 1))
            source = self.source if self.source is None or self.unpaired else torch.cat([self.source, extra.source])
            out = dataclasses.replace(
                out, x=torch.cat([out.x, extra.x]), y=torch.cat([y, extra.y]), extras={}, source=source
            )
        return out

    def with_x(self, x: torch.Tensor, value_range: tuple[float, float] | None = None) -> Dataset:
        """The same dataset with new samples (e.g. after a transform); the metadata follows."""
        info = dataclasses.replace(
            self.info,
            sample_shape=tuple(x.shape[1:]),
            value_range=value_range if value_range is not None else self.info.value_range,
        )
        return dataclasses.replace(self, x=x, info=info)


def infer_info(x: torch.Tensor, name: str = "array", class_names: Sequence[str] | None = None) -> DatasetInfo:
    """Metadata for a bare tensor: its shape and its observed value range (NaNs ignored)."""
    if x.numel() == 0:
        lo, hi = 0.0, 0.0
    else:
        lo, hi = (float(v) for v in torch.aminmax(x))  # NaN propagates: then look at the finite values only
        if not (math.isfinite(lo) and math.isfinite(hi)):
            finite = x[torch.isfinite(x)]
            lo, hi = (float(v) for v in torch.aminmax(finite)) if finite.numel() else (0.0, 0.0)
    return DatasetInfo(
        name=name,
        sample_shape=tuple(x.shape[1:]),
        value_range=(lo, hi),
        class_names=tuple(class_names) if class_names is not None else None,
        source="array",
    )


def check_samples(
    x: Any,
    *,
    what: str = "data",
    min_ndim: int = 2,
    max_ndim: int | None = None,
    allow_nan: bool = False,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Validate user data and return it as a float tensor of ``dtype`` (float32 unless a metric needs float64).

    Raises:
        DataError: empty data, wrong number of dimensions, non-numeric values, NaN (unless
            ``allow_nan``) or infinite values. The message says what is wrong and how to fix it.
    """
    if isinstance(x, Dataset):
        x = x.x
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{what} could not be read as a numeric array ({exc})") from exc
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)):
            raise DataError(f"{what} has non-numeric values (dtype {arr.dtype}); convert it to numbers first")
        arr = np.ascontiguousarray(arr)
        t = torch.from_numpy(arr if arr.flags.writeable else arr.copy())  # memmaps and read-only views
    if t.is_complex():
        raise DataError(f"{what} is complex-valued; pass real numbers")
    t = t.to(dtype)
    if t.ndim < min_ndim or (max_ndim is not None and t.ndim > max_ndim):
        want = f"{min_ndim}" if max_ndim == min_ndim else f"at least {min_ndim}"
        if max_ndim is not None and max_ndim != min_ndim:
            want = f"{min_ndim} to {max_ndim}"
        raise DataError(
            f"{what} has {t.ndim} dimension(s) (shape {tuple(t.shape)}) but {want} are needed: "
            "samples go along the first axis, e.g. (n_samples, n_features) or (n_samples, C, H, W)"
        )
    if t.shape[0] == 0 or t.numel() == 0:
        raise DataError(f"{what} is empty (shape {tuple(t.shape)}); pass at least one sample")
    if all(math.isfinite(float(v)) for v in torch.aminmax(t)):  # fast path: NaN and Inf reach min or max
        return t
    if torch.isinf(t).any():
        n = int(torch.isinf(t).sum())
        raise DataError(f"{what} contains {n} infinite value(s); remove or clip them before fitting")
    if not allow_nan and torch.isnan(t).any():
        n = int(torch.isnan(t).sum())
        raise DataError(
            f"{what} contains {n} NaN value(s); drop or impute them, or use a method that accepts "
            "missing values (e.g. allow_missing=True / the imputer)"
        )
    return t


def as_dataset(x: Any, y: Any = None, *, name: str = "array", allow_nan: bool = False) -> Dataset:
    """Wrap an array-like (numpy, torch, nested lists) or a Dataset as a validated :class:`Dataset`."""
    if isinstance(x, Dataset):
        return x
    t = check_samples(x, what=name, allow_nan=allow_nan)
    labels = None
    if y is not None:
        labels_arr = np.asarray(y)
        if labels_arr.ndim != 1 or len(labels_arr) != len(t):
            raise DataError(
                f"labels must be a 1-D array with one entry per sample ({len(t)}), got shape {labels_arr.shape}"
            )
        if not np.issubdtype(labels_arr.dtype, np.integer):
            raise DataError("labels must be integers 0..K-1; encode class names first")
        labels = torch.from_numpy(labels_arr.astype(np.int64))
    return Dataset(x=t, y=labels, info=infer_info(t, name=name))
