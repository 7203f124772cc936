"""Pictures of models learning: image grids (Pillow), loss curves and scatter plots (matplotlib, Agg).

All writers are atomic. matplotlib is imported lazily so that importing genlab stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import fileutil
from ._device import to_numpy


def image_grid(
    images: torch.Tensor,
    nrow: int | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    padding: int = 2,
    scale: int = 1,
) -> np.ndarray:
    """Tile ``(N, C, H, W)`` images (C = 1 or 3) into one ``uint8`` array ``(H', W')`` or ``(H', W', 3)``.

    Values are mapped from ``value_range`` to 0..255 and clipped; ``scale`` enlarges each pixel.
    """
    x = images.detach().to("cpu", torch.float32)
    if x.ndim == 2:  # flat samples: try a square image
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"cannot show flat samples of size {x.shape[1]} as square images")
        x = x.reshape(-1, 1, side, side)
    if x.ndim == 3:
        x = x.unsqueeze(1)
    n, c, h, w = x.shape
    if c not in (1, 3):
        raise ValueError(f"image grids need 1 or 3 channels, got {c}")
    lo, hi = value_range
    x = ((x - lo) / (hi - lo)).clamp(0, 1).mul(255).round().to(torch.uint8)
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    grid = torch.full((c, ncol * (h + padding) + padding, nrow * (w + padding) + padding), 255, dtype=torch.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top : top + h, left : left + w] = x[i]
    arr = to_numpy(grid.permute(1, 2, 0))
    if scale > 1:
        arr = arr.repeat(scale, axis=0).repeat(scale, axis=1)
    return arr[..., 0] if c == 1 else arr


def save_image_grid(images: torch.Tensor, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`image_grid` of ``images`` as a PNG (atomically). Small images are enlarged."""
    from PIL import Image

    if "scale" not in kwargs:
        h = images.shape[-1] if images.ndim >= 3 else math.isqrt(images.shape[-1])
        kwargs["scale"] = max(1, 96 // max(h, 1) // 2)
    arr = image_grid(images, **kwargs)
    path = Path(path)
    with fileutil.atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(arr).save(tmp, format="PNG")
    return path


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _finish(plt, fig, ax, path: str | Path, title: str) -> Path:
    """Title, layout, atomic PNG write, close."""
    if title and ax is not None:
        ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    with fileutil.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def save_loss_curve(
    rows: Sequence[dict[str, Any]], path: str | Path, keys: Sequence[str] | None = None, title: str = ""
) -> Path:
    """Plot per-epoch metrics (``rows`` of a metrics history) against the epoch, one line per key."""
    plt = _figure()
    keys = list(keys) if keys else [k for k in ("loss", "val_loss") if any(k in r for r in rows)]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for k in keys:
        pts = [(r["epoch"], r[k]) for r in rows if k in r and r[k] is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o" if len(pts) < 30 else None, label=k)
    ax.set_xlabel("epoch")
    ax.set_ylabel("value")
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(plt, fig, ax, path, title)


def save_scatter(
    points: torch.Tensor,
    path: str | Path,
    reference: torch.Tensor | None = None,
    title: str = "",
    centers: torch.Tensor | None = None,
) -> Path:
    """Scatter 2D ``points`` (and optional ``reference`` points such as the data, and mode ``centers``)."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    if reference is not None:
        ref = to_numpy(reference)
        ax.scatter(ref[:, 0], ref[:, 1], s=4, c="tab:gray", alpha=0.3, label="data")
    p = to_numpy(points)
    ax.scatter(p[:, 0], p[:, 1], s=4, c="tab:blue", alpha=0.6, label="samples")
    if centers is not None:
        c = to_numpy(centers)
        ax.scatter(c[:, 0], c[:, 1], s=30, c="tab:red", marker="x", label="modes")
    ax.set_aspect("equal")
    ax.legend(loc="upper right")
    return _finish(plt, fig, ax, path, title)


def save_codes(codes: torch.Tensor, labels: torch.Tensor | None, path: str | Path, title: str = "") -> Path:
    """Scatter 2-D codes ``(N, 2)``, coloured by their integer ``labels`` when given (one legend entry each)."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=100)
    z = to_numpy(codes.float())
    if labels is None or bool((labels < 0).any()):
        ax.scatter(z[:, 0], z[:, 1], s=4, c="tab:blue", alpha=0.6)
    else:
        lab = to_numpy(labels)
        cmap = plt.get_cmap("tab10" if lab.max() < 10 else "tab20")
        for k in np.unique(lab):
            sel = lab == k
            ax.scatter(z[sel, 0], z[sel, 1], s=4, color=cmap(int(k) % cmap.N), alpha=0.7, label=str(int(k)))
        ax.legend(markerscale=3, fontsize=7, loc="best", ncol=2)
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    return _finish(plt, fig, ax, path, title or "codes of the reference set")


def save_reliability(
    confidence: Sequence[float], accuracy: Sequence[float], counts: Sequence[int], path: str | Path, title: str = ""
) -> Path:
    """A reliability diagram: per confidence bin, the accuracy (bars) against the diagonal of calibration."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    n = len(counts)
    centers = (np.arange(n) + 0.5) / n
    used = np.asarray(counts) > 0
    ax.bar(centers[used], np.asarray(accuracy)[used], width=1.0 / n, edgecolor="black", alpha=0.7, label="accuracy")
    ax.plot([0, 1], [0, 1], "k--", label="calibrated")
    ax.plot(
        np.asarray(confidence)[used], np.asarray(accuracy)[used], "o", color="tab:red", ms=3, label="mean confidence"
    )
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    return _finish(plt, fig, ax, path, title or "reliability")


def save_scatter_grid(
    panels: Sequence[Sequence[torch.Tensor]],
    path: str | Path,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    reference: torch.Tensor | None = None,
    title: str = "",
) -> Path:
    """A grid of 2-D scatter plots: ``panels[i][j]`` is drawn in row ``i``, column ``j`` (e.g. loss x step),
    each over the optional ``reference`` points (mode centres) on shared axes."""
    plt = _figure()
    rows, cols = len(panels), max(len(r) for r in panels)
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.2 * rows), dpi=100, squeeze=False)
    pts = [p for r in panels for p in r] + ([reference] if reference is not None else [])
    ref = torch.cat([p.detach().float() for p in pts]) if reference is None else reference.float()
    lo, hi = ref.min(0).values, ref.max(0).values
    pad = 0.25 * (hi - lo).clamp_min(1e-3)
    for i, row in enumerate(panels):
        for j in range(cols):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(row):
                p = to_numpy(row[j].float())
                ax.scatter(p[:, 0], p[:, 1], s=1, c="tab:blue", alpha=0.4)
                if reference is not None:
                    r = to_numpy(reference.float())
                    ax.scatter(r[:, 0], r[:, 1], s=12, c="tab:red", marker="x")
            ax.set_xlim(float(lo[0] - pad[0]), float(hi[0] + pad[0]))
            ax.set_ylim(float(lo[1] - pad[1]), float(hi[1] + pad[1]))
            ax.set_aspect("equal")
            if i == 0:
                ax.set_title(col_labels[j], fontsize=8)
            if j == 0:
                ax.set_ylabel(row_labels[i], fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(plt, fig, None, path, "")


def save_lines(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    path: str | Path,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    title: str = "",
) -> Path:
    """One line per entry of ``series`` (``name -> (xs, ys)``), optionally on a log y axis."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for name, (xs, ys) in series.items():
        ax.plot(list(xs), list(ys), label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(plt, fig, ax, path, title)


def save_table_marginals(
    real: Any, fake: Any, kinds: dict[str, str], path: str | Path, max_columns: int = 16, title: str = ""
) -> Path:
    """One panel per column of two DataFrames: overlaid histograms of a numerical / datetime column, side-by-side
    category frequencies (the 12 most frequent levels) of a categorical / boolean one; missing cells as a level."""
    import numpy as np

    plt = _figure()
    names = [c for c, k in kinds.items() if k in ("numerical", "datetime", "categorical", "boolean")][:max_columns]
    cols = min(4, max(1, len(names)))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.5 * rows), dpi=90, squeeze=False)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    for ax, name in zip(axes.flat, names, strict=False):
        r, f = real[name], fake[name]
        if kinds[name] in ("numerical", "datetime"):
            rv = _as_float(r)
            fv = _as_float(f)
            rv, fv = rv[~np.isnan(rv)], fv[~np.isnan(fv)]
            lo, hi = (float(rv.min()), float(rv.max())) if len(rv) else (0.0, 1.0)
            bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 31)
            for values, label, colour in ((rv, "real", "tab:gray"), (np.clip(fv, lo, hi), "synthetic", "tab:blue")):
                if len(values):  # a column the model left all missing has nothing to draw
                    ax.hist(values, bins=bins, density=True, alpha=0.5, label=label, color=colour)
        else:
            rc = r.astype(object).where(r.notna(), "(missing)").astype(str).value_counts(normalize=True)
            fc = f.astype(object).where(f.notna(), "(missing)").astype(str).value_counts(normalize=True)
            levels = list(rc.index[:12])
            x = np.arange(len(levels))
            ax.bar(x - 0.2, [rc.get(v, 0.0) for v in levels], width=0.4, color="tab:gray", label="real")
            ax.bar(x + 0.2, [fc.get(v, 0.0) for v in levels], width=0.4, color="tab:blue", label="synthetic")
            ax.set_xticks(x, [v[:10] for v in levels], rotation=60, fontsize=7)
        ax.set_title(str(name)[:30], fontsize=9)
        ax.tick_params(labelsize=7)
    if names:
        axes.flat[0].legend(fontsize=7)
    fig.suptitle(title or "real (grey) and synthetic (blue) columns", fontsize=10)
    return _finish(plt, fig, None, path, "")


def _as_float(s: Any) -> np.ndarray:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.astype("datetime64[ns]").astype("int64").where(s.notna()).to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def save_heatmap(
    matrix: Any, labels: Sequence[str], path: str | Path, title: str = "", vmin: float = 0.0, vmax: float = 1.0
) -> Path:
    """A square heat map of ``matrix`` ``(K, K)`` with the ``labels`` on both axes and a colour bar (NaN blank)."""
    plt = _figure()
    k = len(labels)
    size = min(3 + 0.45 * k, 12)
    fig, ax = plt.subplots(figsize=(size + 1, size), dpi=90)
    im = ax.imshow(np.asarray(matrix, dtype=float), vmin=vmin, vmax=vmax, cmap="viridis")
    ax.set_xticks(range(k), [str(s)[:14] for s in labels], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), [str(s)[:14] for s in labels], fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return _finish(plt, fig, ax, path, title)


def save_samples(samples: torch.Tensor, path: str | Path, value_range=(0.0, 1.0), **kwargs: Any) -> Path | None:
    """Picture samples the way their shape suggests: a grid for images, a scatter for 2D points.

    Returns ``None`` (writes nothing) for shapes with no natural picture.
    """
    shape = tuple(samples.shape[1:])
    if len(shape) == 3 and shape[0] in (1, 3):
        return save_image_grid(samples, path, value_range=value_range, **kwargs)
    if shape == (2,):
        return save_scatter(samples, path, **kwargs)
    if len(shape) == 1 and math.isqrt(shape[0]) ** 2 == shape[0] and shape[0] >= 16:
        return save_image_grid(samples, path, value_range=value_range, **kwargs)
    return None
