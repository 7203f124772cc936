"""Semi-supervised MNIST with the M2 model and M1+M2 (Kingma et al. 2014), 100 and 1,000 labels.

M1 is a VAE trained without labels on all 60,000 training images (784-``--m1-hidden``-``--m1-hidden``-50,
Bernoulli likelihood, dynamic binarization). M2 (``ssvae``: a class-conditional VAE with a classifier
q(y|x), the class summed out for unlabelled samples) is then trained on M1's posterior means on its active
units, standardised (Gaussian likelihood with learned scales), with only ``n`` labels kept
(class-balanced, seeded; the labelled codes repeated ``--repeat`` times so every batch holds some). The test
error is that of q(y|x) on the codes of the 10,000 test images. ``--direct`` trains M2 on the pixels instead
(M2 alone in the paper). Targets: M1+M2 3.33% (100 labels) and 2.40% (1,000 labels); M2 alone 11.97% / 3.60%.

Usage: GENLAB_DATA=../shared/data/mnist python benchmarks/ssvae_mnist.py --seeds 0 1 2 [--m1-cache DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import write_result
from genlab.training import LRSchedule, ProgressBar, Trainer

TARGETS = {"m1m2": {100: 3.33, 1000: 2.40}, "m2": {100: 11.97, 1000: 3.60}}


def train_m1(args, train) -> tuple[genlab.models.autoencoders.VAE, float]:
    path = Path(args.m1_cache) if args.m1_cache else None
    if path is not None and (path / "config.json").exists():
        seconds = (
            json.loads((path / "m1_seconds.json").read_text())["seconds"]
            if (path / "m1_seconds.json").exists()
            else 0.0
        )
        return genlab.load(path), seconds
    m1 = genlab.create(
        "vae",
        data_shape=(1, 28, 28),
        hidden_dims=(args.m1_hidden,) * 2,
        latent_dim=50,
        kl_warmup_steps=args.m1_warmup_epochs * 600,  # 600 steps of 100 images per epoch
        seed=0,
    )
    t = time.perf_counter()
    cbs = [ProgressBar(), LRSchedule("cosine", final=0.05)]
    Trainer(epochs=args.m1_epochs, batch_size=100, seed=0, batch_transform="dynamic_binarize", callbacks=cbs).fit(
        m1, train
    )
    seconds = time.perf_counter() - t
    if path is not None:
        m1.save(path, overwrite=True)
        (path / "m1_seconds.json").write_text(json.dumps({"seconds": seconds}))
    return m1, seconds


def m1_codes(m1, x_train: torch.Tensor, x_test: torch.Tensor, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """M1's posterior means on its active units (variance of the mean over the data > 0.01, Burda et al.
    2016), standardised with the training statistics; ``kind="all"`` keeps all 50 units unstandardised."""
    with torch.no_grad():
        c_train, c_test = m1.encode(x_train), m1.encode(x_test)
    if kind == "all":
        return c_train, c_test
    active = m1.active_units(x_train)
    mu, sd = c_train[:, active].mean(0), c_train[:, active].std(0)
    return (c_train[:, active] - mu) / sd, (c_test[:, active] - mu) / sd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--m1-epochs", type=int, default=30)
    ap.add_argument("--m1-hidden", type=int, default=500)
    ap.add_argument("--m1-warmup-epochs", type=int, default=10, help="KL warm-up of M1 (keeps more units active)")
    ap.add_argument("--m1-cache", default=None, help="save M1 here, or load it from here if present")
    ap.add_argument("--m2-epochs", type=int, default=30)
    ap.add_argument("--labels", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--repeat", type=int, default=0, help="labelled copies (default: a tenth of each batch labelled)")
    ap.add_argument("--classifier-weight", type=float, default=10.0)
    ap.add_argument("--features", choices=["active", "all"], default="active", help="which M1 code units M2 models")
    ap.add_argument("--direct", action="store_true", help="M2 on the pixels (no M1)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="label draws (and M2 initialisations)")
    args = ap.parse_args()
    train = genlab.data.load("mnist", split="train", download=False)
    test = genlab.data.load("mnist", split="test", download=False)
    m1_seconds = 0.0
    if args.direct:
        x_train, x_test = train.x, test.x
        m2_kw = dict(data_shape=(1, 28, 28), hidden_dims=(500,), likelihood="bernoulli")
        transform = "dynamic_binarize"
    else:
        m1, m1_seconds = train_m1(args, train)
        x_train, x_test = m1_codes(m1, train.x, test.x, args.features)
        print(f"M1 codes: {x_train.shape[1]} of 50 units active", flush=True)
        m2_kw = dict(
            data_shape=(x_train.shape[1],), hidden_dims=(500,), likelihood="gaussian", learn_obs_std=True, obs_std=1.0
        )
        transform = None
    method = "m2" if args.direct else "m1m2"
    codes = train.with_x(x_train, value_range=(float(x_train.min()), float(x_train.max())))
    results: dict[int, dict] = {n: {"runs": []} for n in args.labels}
    for seed in args.seeds:  # the seed draws the labelled subset and M2's initial weights
        for n in args.labels:
            repeat = args.repeat or max(1, round(len(codes) / (9 * n)))  # labelled rows ~ 10% of the data
            data = codes.semi_supervised(n, seed=seed, repeat=repeat)
            m2 = genlab.create(
                "ssvae",
                latent_dim=50,
                classifier_dims=(500,),
                classifier_weight=args.classifier_weight,
                seed=seed,
                **m2_kw,
            )
            t = time.perf_counter()
            cbs = [ProgressBar(), LRSchedule("cosine", final=0.05)]
            Trainer(epochs=args.m2_epochs, batch_size=100, seed=seed, batch_transform=transform, callbacks=cbs).fit(
                m2, data
            )
            seconds = time.perf_counter() - t
            err = 100 * float((m2.predict(x_test) != test.y).float().mean())
            results[n]["runs"].append({"seed": seed, "test_error": round(err, 2), "seconds": round(seconds, 1)})
            results[n]["repeat"] = repeat
            print(f"{method} {n} labels, seed {seed}: error {err:.2f}% (target {TARGETS[method][n]}%), {seconds:.0f}s")
    for n, r in results.items():
        errs = torch.tensor([run["test_error"] for run in r["runs"]])
        r["mean"] = round(float(errs.mean()), 2)
        r["std"] = round(float(errs.std()), 2) if len(errs) > 1 else 0.0
        print(f"{method} {n} labels: {r['mean']:.2f} +- {r['std']:.2f}% over {len(errs)} seeds", flush=True)
    first = args.labels[0]
    write_result(
        f"ssvae_mnist_{method}",
        value=results[first]["mean"],
        unit=f"test error % with {first} labels (mean over seeds)",
        anchor=f"Kingma et al. 2014, {'M1+M2' if method == 'm1m2' else 'M2'}, {first} labels",
        anchor_value=TARGETS[method].get(first),
        results=results,
        targets=TARGETS[method],
        m1_epochs=0 if args.direct else args.m1_epochs,
        m1_warmup_epochs=0 if args.direct else args.m1_warmup_epochs,
        m1_active_units=None if args.direct else int(x_train.shape[1]),
        m1_seconds=round(m1_seconds, 1),
        m2_epochs=args.m2_epochs,
        classifier_weight=args.classifier_weight,
        features="pixels" if args.direct else args.features,
        command="GENLAB_DATA=../shared/data/mnist python benchmarks/ssvae_mnist.py " + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
