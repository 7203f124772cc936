"""Exact test NLL of autoregressive models (MADE, the transformer) on binarized MNIST within a time budget.

Protocol: training on dynamically binarized MNIST (a fresh Bernoulli draw of each image every time it is
seen), Adam with the learning rate decayed linearly to 0 over ``--minutes``; the exact negative
log-likelihood (nats per image) on the test set binarized once with ``torch.Generator().manual_seed(0)``.
``--size 14`` trains on 14x14 images (2x2 average pooling before binarization): a cheaper setting for the
trend with model size and the number of heads; its NLL is per 196-pixel image and does not compare with
the 784-pixel figures.

Published (28x28, the standard binarized MNIST): NADE 88.33 nats (Uria et al. 2014, the anchor), MADE 88.04
(1 hidden layer, 32 masks) and 86.64 (2 hidden layers, 32 masks; Germain et al. 2015), PixelCNN 81.30 (the
stretch; van den Oord et al. 2016).

Usage::

    GENLAB_DATA=../shared/data/mnist python benchmarks/ar_mnist.py --model made --hidden 500 500 \
        --masks 32 --minutes 30 --threads 1
    GENLAB_DATA=... python benchmarks/ar_mnist.py --model transformer_ar --d-model 64 --heads 4 --layers 2 \
        --minutes 60 --threads 1
    python benchmarks/ar_mnist.py --pictures made_500x500_m1    # redraw the pictures of a trained model

Each run saves its model under ``benchmarks/.cache/ar_mnist_<tag>`` and draws 64 samples into
``docs/images/ar-mnist-<tag>-samples.png`` (and, for the transformer, the attention of every head of every
layer when it predicts the pixel in the middle of a sample, ``ar-mnist-<tag>-attention.png``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import TimeBudgetDecay, machine, write_result
from genlab.data import Dataset, DatasetInfo, load
from genlab.training import Trainer

ANCHOR = ("NADE, Uria et al. 2014 (binarized MNIST)", 88.33)
STRETCH = ("PixelCNN, van den Oord et al. 2016", 81.30)


def mnist(split: str, size: int) -> Dataset:
    ds = load("mnist", split=split)
    if size == 28:
        return ds
    x = F.avg_pool2d(ds.x, 28 // size)
    info = DatasetInfo(f"mnist{size}", tuple(x.shape[1:]), (0.0, 1.0), ds.info.class_names, ds.info.source)
    return Dataset(x=x, y=ds.y, info=info)


def nll(model, x: torch.Tensor, batch: int = 500) -> float:
    return -float(torch.cat([model.log_prob(x[a : a + batch]) for a in range(0, len(x), batch)]).mean())


def build(args, shape) -> tuple:
    if args.model == "made":
        cfg = {
            "hidden_dims": tuple(args.hidden),
            "n_masks": args.masks,
            "test_masks": args.masks,
            "order_agnostic": args.masks > 1,
            "lr": args.lr or 1e-3,
        }
        tag = f"made_{'x'.join(map(str, args.hidden))}_m{args.masks}"
    else:
        cfg = {"d_model": args.d_model, "n_heads": args.heads, "n_layers": args.layers, "lr": args.lr or 1e-3}
        tag = f"transformer_d{args.d_model}_h{args.heads}_l{args.layers}"
    if args.size != 28:
        tag += f"_s{args.size}"
    return genlab.create(args.model, data_shape=shape, seed=args.seed, **cfg), tag


CACHE = Path(__file__).resolve().parent / ".cache"
IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def draw(model, tag: str) -> None:
    """Sample grid (and attention maps for the transformer) of a trained model into docs/images."""
    from genlab.plotting import save_image_grid

    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        samples = model.sample(64, generator=gen)
        scale = max(1, 112 // samples.shape[-1])  # a map of 28x28 or 14x14 pixels is drawn 112 pixels wide
        save_image_grid(samples, IMAGES / f"ar-mnist-{tag}-samples.png", nrow=8, scale=max(1, scale // 2))
        if hasattr(model, "pictures"):
            for name, (images, nrow) in model.pictures(generator=gen).items():
                save_image_grid(images, IMAGES / f"ar-mnist-{tag}-{name}.png", nrow=nrow, scale=scale)
    print(f"pictures of {tag} in {IMAGES}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["made", "transformer_ar"], default="made")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--size", type=int, choices=[28, 14, 7], default=28)
    ap.add_argument("--hidden", type=int, nargs="+", default=[500], help="made: hidden widths")
    ap.add_argument("--masks", type=int, default=1, help="made: connectivity/order masks (trained and averaged)")
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tag", default=None, help="name of the results file (default from the config)")
    ap.add_argument("--pictures", metavar="TAG", default=None, help="only draw the pictures of a saved run")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.pictures:
        draw(genlab.load(CACHE / f"ar_mnist_{args.pictures}"), args.pictures)
        return
    train, test = mnist("train", args.size), mnist("test", args.size)
    test_bin = torch.bernoulli(test.x, generator=torch.Generator().manual_seed(0))
    model, tag = build(args, tuple(train.info.sample_shape))
    tag = args.tag or tag
    budget = TimeBudgetDecay(args.minutes * 60, [])
    trainer = Trainer(
        epochs=10**6, batch_size=args.batch_size, seed=args.seed, callbacks=[budget], batch_transform="dynamic_binarize"
    )
    t = time.perf_counter()
    trainer.fit(model, train)
    seconds = time.perf_counter() - t
    epochs = trainer.step * args.batch_size / len(train)
    tokens_per_s = trainer.step * args.batch_size * model.dim if hasattr(model, "dim") else None
    if hasattr(model, "length"):
        tokens_per_s = trainer.step * args.batch_size * model.length
    t = time.perf_counter()
    test_nll = nll(model, test_bin)
    eval_seconds = time.perf_counter() - t
    train_nll = nll(model, torch.bernoulli(train.x[:10_000], generator=torch.Generator().manual_seed(2)))
    params = sum(p.numel() for p in model.parameters())
    print(
        f"{tag}: test NLL {test_nll:.2f} nats ({epochs:.1f} epochs, {trainer.step} steps, {seconds / 60:.1f} min, "
        f"{params} parameters; train NLL {train_nll:.2f}; eval {eval_seconds:.0f} s)",
        flush=True,
    )
    model.save(CACHE / f"ar_mnist_{tag}", overwrite=True)
    draw(model, tag)
    write_result(
        f"ar_mnist_{tag}",
        value=round(test_nll, 3),
        unit=f"nats, exact test NLL per {args.size}x{args.size} image (test binarized once, seed 0)",
        anchor=ANCHOR[0] if args.size == 28 else "none (14x14 trend only)",
        anchor_value=ANCHOR[1] if args.size == 28 else None,
        stretch=STRETCH[0] if args.size == 28 else None,
        stretch_value=STRETCH[1] if args.size == 28 else None,
        train_nll_10k=round(train_nll, 3),
        train_minutes=round(seconds / 60, 2),
        epochs=round(epochs, 2),
        steps=trainer.step,
        parameters=params,
        tokens_per_second=round(tokens_per_s / seconds) if tokens_per_s else None,
        eval_seconds=round(eval_seconds, 1),
        config={**model.config.to_dict(), "batch_size": args.batch_size, "lr_schedule": "linear to 0"},
        binarization="train: dynamic; test: one fixed draw, torch seed 0",
        machine=machine(),
    )


if __name__ == "__main__":
    main()
