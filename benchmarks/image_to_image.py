"""Image-to-image on MNIST: super-resolution, inpainting, pix2pix edges -> digits, CycleGAN digits28 <-> MNIST,
and the speed of a pix2pix epoch against a plain PyTorch loop. Each task writes
``benchmarks/results/i2i_<task>.json`` and its figure to ``docs/images/``.

- ``sr``: ``srnet`` x4 (7 x 7 -> 28 x 28, L1) against bicubic interpolation on the 10,000 test images: PSNR,
  SSIM, class preservation (genlab's mnist-cnn gives the output the input's label), training minutes.
- ``inpaint``: the ``inpaint`` preset (pix2pix with the mask channel, hole loss, paste back) on a centre
  14 x 14 hole, against the same with L1 alone (``lambda_adv=0``), mean fill (the training pixels' means) and
  genlab's ``Imputer`` app (``ae``, the configuration of benchmarks/imputation.py, fitted on the clean training
  images; it never sees a hole of this shape): hole PSNR, class preservation, FID against the test set.
- ``ceiling``: how much of the label a centre 14 x 14 hole leaves: mnist-cnn's recipe (architecture, 8 epochs,
  no shifts) trained on the holed training images and tested on the holed test images. Inpainting then classifying is
  itself a classifier of the holed image, so an inpainter's class preservation is bounded by what the best such
  classifier reaches.
- ``edges``: pix2pix (L1 + PatchGAN) against the L1-only U-Net (``lambda_adv=0``), same nets and epochs, on
  binary Sobel edge maps (``edges:0.5``) -> MNIST: class preservation, FID against the test set, PSNR; a figure.
- ``patch``: the PatchGAN's receptive field: pix2pix on edges with 1, 2 and 3 discriminator layers (16, 34 and
  70 pixels), same epochs: FID, class preservation; a figure.
- ``cycle``: CycleGAN, digits28 (A, 1,438 training images) <-> MNIST (B), no labels used: class preservation
  by genlab's MNIST classifier (mnist-cnn) in both directions (B -> A also by digits-cnn on the 8 x 8 image the
  output is drawn from), FID(A -> B, MNIST test) against FID(A, MNIST test), FID(B -> A, digits28 test); the
  same run without the cycle loss, and without the identity loss.
- ``learning``: a picture of ``inpaint`` learning on the bundled 8 x 8 digits (epochs 1, 5, 20, 60).
- ``speed``: one pix2pix epoch (5,000 pairs) through genlab's trainer against a hand-written loop over the same
  networks, batch size, optimizers and loss; best of 3 alternating rounds.

Usage: GENLAB_DATA=../shared/data python benchmarks/image_to_image.py TASK [TASK ...] [--quick]
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
from _common import write_result
from genlab import plotting
from genlab.data import load
from genlab.metrics import class_preservation, dataset_features, translation_scores
from genlab.models.translation import bicubic

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
CMD = "GENLAB_DATA=../shared/data python benchmarks/image_to_image.py"
#: the edge maps of the edges -> MNIST task: binary Sobel edges (a line drawing, as the edge maps of pix2pix's
#: edges -> photo tasks are), so the stroke's intensity profile is not given away by the input
EDGES = "edges:0.5"


def _r(scores: dict, nd: int = 4) -> dict:
    return {k: round(float(v), nd) for k, v in scores.items()}


def _test_features():
    """The mnist-cnn features of the MNIST test images (cached): the reference of every FID / KID here."""
    return dataset_features(load("mnist", split="test").x, "mnist-cnn", label="mnist-test")


def _train(name, data, seed, **kw):
    t = time.perf_counter()
    run = genlab.train(name, data, seed=seed, progress=False, **kw)
    return run.model, (time.perf_counter() - t) / 60


def _figure(rows: list[torch.Tensor], path: Path, n: int) -> None:
    plotting.save_image_grid(torch.cat([r[:n] for r in rows]), path, nrow=n, value_range=(0.0, 1.0))


def task_sr(args) -> None:
    tr = load("mnist", corruption="downsample:4", corruption_size="small")
    te = load("mnist", split="test", corruption="downsample:4", corruption_size="small")
    ref = _test_features()
    epochs = 1 if args.quick else args.sr_epochs
    model, minutes = _train(
        "srnet", tr, args.seed, overrides=dict(channels=32, n_blocks=4), epochs=epochs, batch_size=64,
        lr_schedule="cosine:0.05",
    )  # fmt: skip
    out = model.translate(te.source)
    base = bicubic(te.source, (28, 28))
    s_model = translation_scores(out, targets=te.x, labels=te.y, reference=ref)
    s_bic = translation_scores(base, targets=te.x, labels=te.y, reference=ref)
    print(f"sr x4: srnet {_r(s_model)} ({minutes:.1f} min); bicubic {_r(s_bic)}", flush=True)
    _figure([F.interpolate(te.source, size=(28, 28), mode="nearest"), base, out, te.x], IMAGES / "i2i-sr-x4.png", 16)
    write_result(
        "i2i_sr",
        value=round(s_model["psnr"] - s_bic["psnr"], 3),
        unit="dB of PSNR over bicubic, x4 (7x7 -> 28x28) on the MNIST test set",
        anchor="bicubic interpolation",
        anchor_value=0.0,
        srnet=_r(s_model),
        bicubic=_r(s_bic),
        train_minutes=round(minutes, 2),
        epochs=epochs,
        config=model.config.to_dict(),
        command=f"{CMD} sr",
    )


def task_inpaint(args) -> None:
    from genlab.apps import Imputer

    spec = "mask:center:14"
    tr = load("mnist", corruption=spec)
    te = load("mnist", split="test", corruption=spec)
    ref = _test_features()
    hole = te.extras["hole"]
    epochs = 1 if args.quick else args.inpaint_epochs
    model, minutes = _train("inpaint", tr, args.seed, epochs=epochs, batch_size=64)
    out = model.restore(te.source, hole=hole)
    l1_model, l1_minutes = _train("inpaint", tr, args.seed, overrides={"lambda_adv": 0.0}, epochs=epochs, batch_size=64)
    l1_out = l1_model.restore(te.source, hole=hole)
    mean_fill = torch.where(hole, tr.x.mean(0, keepdim=True).expand_as(te.x), te.source)
    t = time.perf_counter()
    n_fit = 2000 if args.quick else 10_000
    imp = Imputer(
        "ae", seed=args.seed, epochs=5 if args.quick else 30, batch_size=128, latent_dim=256, hidden_dims=(1024,)
    ).fit(tr.x[:n_fit].reshape(n_fit, -1))
    holes_nan = torch.where(hole, torch.full_like(te.x, float("nan")), te.x).reshape(len(te.x), -1)
    imputed = imp.transform(holes_nan).reshape(te.x.shape).float().clamp(0, 1)
    imp_minutes = (time.perf_counter() - t) / 60
    rows = {}
    done = (("inpaint", out), ("inpaint, L1 only", l1_out), ("mean fill", mean_fill), ("Imputer (ae)", imputed))
    for label, images in done:
        rows[label] = _r(translation_scores(images, targets=te.x, labels=te.y, hole=hole, reference=ref))
        print(f"inpaint: {label:14s} {rows[label]}", flush=True)
    _figure([te.source, mean_fill, imputed, l1_out, out, te.x], IMAGES / "i2i-inpaint.png", 16)
    best_app = max(rows["mean fill"]["hole_psnr"], rows["Imputer (ae)"]["hole_psnr"])
    write_result(
        "i2i_inpaint",
        value=rows["inpaint"]["hole_psnr"],
        unit="hole PSNR (dB), centre 14x14 hole, MNIST test set",
        anchor="best of mean fill and genlab's Imputer app (ae)",
        anchor_value=best_app,
        results=rows,
        train_minutes=round(minutes, 2),
        l1_only_train_minutes=round(l1_minutes, 2),
        imputer_minutes=round(imp_minutes, 2),
        epochs=epochs,
        command=f"{CMD} inpaint",
    )


def task_ceiling(args) -> None:
    from feature_nets import NETS, accuracy, fit_cnn

    spec = "mask:center:14"
    tr, te = load("mnist", corruption=spec), load("mnist", split="test", corruption=spec)
    epochs = 1 if args.quick else NETS["mnist"]["epochs"]
    t = time.perf_counter()
    # no random shifts: they would move the hole, which stays in one place in the test images
    net = fit_cnn(tr.source, tr.y, epochs, args.seed, shift=0)
    holed, clean = accuracy(net, te.source, te.y), accuracy(net, te.x, te.y)
    print(f"ceiling: test accuracy on holed images {holed:.2f}% (on whole images {clean:.2f}%)", flush=True)
    write_result(
        "i2i_inpaint_ceiling",
        value=round(holed, 2),
        unit="% test accuracy of mnist-cnn's recipe trained and tested on MNIST with the centre 14x14 hole",
        anchor="the issue's class-preservation target for inpainting",
        anchor_value=95.0,
        whole_image_accuracy=round(clean, 2),
        epochs=epochs,
        train_minutes=round((time.perf_counter() - t) / 60, 2),
        command=f"{CMD} ceiling",
    )


def task_edges(args) -> None:
    tr = load("mnist", corruption=EDGES)
    te = load("mnist", split="test", corruption=EDGES)
    ref = _test_features()
    epochs = 1 if args.quick else args.edges_epochs
    rows, outs = {}, {}
    for label, overrides in (("pix2pix (L1 + PatchGAN)", {}), ("U-Net, L1 only", {"lambda_adv": 0.0})):
        model, minutes = _train("pix2pix", tr, args.seed, overrides=overrides, epochs=epochs, batch_size=64)
        outs[label] = model.translate(te.source)
        rows[label] = {**_r(translation_scores(outs[label], targets=te.x, labels=te.y, reference=ref)),
                       "train_minutes": round(minutes, 2)}  # fmt: skip
        print(f"edges: {label:24s} {rows[label]}", flush=True)
    rows["input edges"] = _r(translation_scores(te.source, labels=te.y, reference=ref))
    _figure([te.source, *outs.values(), te.x], IMAGES / "i2i-edges.png", 16)
    adv, l1 = rows["pix2pix (L1 + PatchGAN)"], rows["U-Net, L1 only"]
    write_result(
        "i2i_edges",
        value=adv["fid"],
        unit="FID (mnist-cnn) of pix2pix outputs from Sobel edges against the MNIST test set",
        anchor="the L1-only U-Net (lambda_adv=0), same nets and epochs",
        anchor_value=l1["fid"],
        results=rows,
        epochs=epochs,
        command=f"{CMD} edges",
    )


def task_patch(args) -> None:
    """The PatchGAN's receptive field: pix2pix on edges -> MNIST with 1, 2 and 3 stride-2 discriminator layers
    (16, 34 and 70 pixels: on 28 x 28 images the last sees the whole image, a single score)."""
    from genlab.nn.translation import PatchGAN, patchgan_receptive_field

    tr = load("mnist", corruption=EDGES)
    te = load("mnist", split="test", corruption=EDGES)
    ref = _test_features()
    epochs = 1 if args.quick else args.patch_epochs
    rows, outs = {}, []
    for layers in (1, 2, 3):
        model, minutes = _train("pix2pix", tr, args.seed, overrides={"d_layers": layers}, epochs=epochs, batch_size=64)
        out = model.translate(te.source)
        outs.append(out)
        grid = PatchGAN.grid_size(28, layers)
        label = f"{layers} layers: receptive field {patchgan_receptive_field(layers)} px, {grid}x{grid} patch scores"
        rows[label] = {**_r(translation_scores(out, targets=te.x, labels=te.y, reference=ref)),
                       "train_minutes": round(minutes, 2)}  # fmt: skip
        print(f"patch: {label}: {rows[label]}", flush=True)
    _figure([te.source, *outs, te.x], IMAGES / "i2i-patchgan.png", 16)
    first = next(iter(rows.values()))
    write_result(
        "i2i_patchgan",
        value=rows[list(rows)[1]]["fid"],
        unit="FID (mnist-cnn) of pix2pix (edges -> MNIST) with the 34-pixel PatchGAN (2 layers)",
        anchor="the 16-pixel PatchGAN (1 layer), same epochs",
        anchor_value=first["fid"],
        results=rows,
        epochs=epochs,
        command=f"{CMD} patch",
    )


def to_digits8(x: torch.Tensor) -> torch.Tensor:
    """The 8 x 8 image a digits28 picture is drawn from: the centre 20 x 20, area-downsampled."""
    return F.interpolate(x[:, :, 4:24, 4:24], size=(8, 8), mode="area").clamp(0, 1)


def task_cycle(args) -> None:
    data = load("digits-to-mnist")
    test_a, test_b = load("digits28", split="test"), load("mnist", split="test")
    ref_b = _test_features()
    ref_a = dataset_features(test_a.x, "mnist-cnn", label="digits28-test")
    steps = 60 if args.quick else args.cycle_steps
    variants = {
        "cycle + identity": {},
        "no cycle loss": {"lambda_cycle": 0.0},
        "no identity loss": {"lambda_identity": 0.0},
    }
    if args.quick:
        variants = dict(list(variants.items())[:2])
    # U-Net generators (their skips keep the digit's layout) and a cycle weight of 30: in 1,500-step trials this
    # kept more labels (A -> B 91.6%) than ResNet generators (80.8% even at 3,000 steps; 88.0% with lambda 30)
    config = dict(generator="unet", base=16, lambda_cycle=30.0)
    name, extra = "i2i_cycle", ""
    if args.cycle_resnet:  # the first configuration measured: ResNet generators, the default cycle weight
        config, name, extra = dict(base=16, n_blocks=3), "i2i_cycle_resnet", " --cycle-resnet"
    rows, figs = {}, {}
    b_in, b_y = test_b.x[:2000], test_b.y[:2000]

    def scores(ab: torch.Tensor, ba: torch.Tensor) -> dict:
        # the class preservation: genlab's MNIST classifier (mnist-cnn) on the 28 x 28 outputs, both ways;
        # B -> A also by digits-cnn on the 8 x 8 image a digits28 picture is drawn from
        s_ba = translation_scores(ba, labels=b_y, reference=ref_a)
        s_ba["class_preservation_digits_cnn"] = class_preservation(to_digits8(ba), b_y, extractor="digits-cnn")
        return {"AB": _r(translation_scores(ab, labels=test_a.y, reference=ref_b)), "BA": _r(s_ba)}

    for label, overrides in variants.items():
        model, minutes = _train(
            "cyclegan", data, args.seed, overrides={**config, **overrides}, epochs=1, max_steps=steps, batch_size=32
        )
        ab, ba = model.translate(test_a.x, "AB"), model.translate(b_in, "BA")
        rows[label] = {**scores(ab, ba), "train_minutes": round(minutes, 2)}
        figs[label] = (ab, ba)
        print(f"cycle: {label:18s} {rows[label]}", flush=True)
    rows["inputs (no translation)"] = scores(test_a.x, b_in)
    # what each classifier gives real images of the side it judges: the most class preservation can show
    rows["classifier accuracy on real images"] = {
        "mnist-cnn on digits28 test": round(class_preservation(test_a.x, test_a.y), 4),
        "digits-cnn on digits28 test, 8x8": round(class_preservation(to_digits8(test_a.x), test_a.y, "digits-cnn"), 4),
        "mnist-cnn on MNIST test": round(class_preservation(b_in, b_y), 4),
    }
    print(f"cycle: inputs {rows['inputs (no translation)']}", flush=True)
    pics = [test_a.x] + [figs[k][0] for k in figs] + [b_in[: len(test_a.x)]] + [figs[k][1] for k in figs]
    _figure(pics, IMAGES / ("i2i-cyclegan-resnet.png" if args.cycle_resnet else "i2i-cyclegan.png"), 16)
    full = rows["cycle + identity"]["AB"]
    write_result(
        name,
        value=full["fid"],
        unit="FID (mnist-cnn) of CycleGAN digits28 -> MNIST outputs against the MNIST test set",
        anchor="FID of the untranslated digits28 inputs against the MNIST test set",
        anchor_value=rows["inputs (no translation)"]["AB"]["fid"],
        results=rows,
        max_steps=steps,
        batch_size=32,
        config_overrides=config,
        command=f"{CMD} cycle{extra} --cycle-steps {steps}",
    )


def task_learning(args) -> None:
    """A picture of inpainting being learnt on the bundled 8 x 8 digits (seconds): the test inputs with a centre
    4 x 4 hole, the restored images after 1, 5, 20 and 60 epochs, and the originals."""
    from genlab.training.callbacks import Callback

    tr = load("digits", corruption="mask:center:4")
    te = load("digits", split="test", corruption="mask:center:4", corruption_seed=1)
    hole, epochs, snaps = te.extras["hole"][:12], (1, 5, 20, 60), {}

    class Snapshots(Callback):
        def on_epoch_end(self, trainer, model, metrics) -> None:
            if trainer.epoch in epochs:
                snaps[trainer.epoch] = model.restore(te.source[:12], hole=hole)

    _train("inpaint", tr, args.seed, epochs=epochs[-1], batch_size=64, callbacks=[Snapshots()])
    rows = [te.source[:12], *(snaps[e] for e in epochs), te.x[:12]]
    plotting.save_image_grid(torch.cat(rows), IMAGES / "i2i-inpaint-learning.png", nrow=12, value_range=(0.0, 1.0))


def _plain_epoch(model, data, batch_size: int, seed: int) -> float:
    """A hand-written pix2pix epoch over the model's own networks: the reference loop."""
    from genlab.losses.adversarial import discriminator_loss, generator_loss

    g, d = model.netG, model.netD
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(data), generator=gen)
    g.train(), d.train()
    t = time.perf_counter()
    for i in range(0, len(perm), batch_size):
        idx = perm[i : i + batch_size]
        x, y = data.source[idx], data.x[idx]
        fake = g(x)
        real_pair, fake_pair = torch.cat([x, y], 1), torch.cat([x, fake], 1)
        d_loss = 0.5 * discriminator_loss("non_saturating", d(real_pair).flatten(), d(fake_pair.detach()).flatten())
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        d.requires_grad_(False)
        g_loss = generator_loss("non_saturating", d(fake_pair).flatten()) + 100.0 * (fake - y).abs().mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        d.requires_grad_(True)
    return time.perf_counter() - t


def task_speed(args) -> None:
    data = load("mnist", corruption=EDGES).subset(slice(0, 1000 if args.quick else 5000))
    genlab_s, plain_s = [], []
    for r in range(3):
        model = genlab.create("pix2pix", seed=r)
        t = time.perf_counter()
        genlab.train(model, data, epochs=1, batch_size=64, seed=r, progress=False)
        genlab_s.append(time.perf_counter() - t)
        plain_s.append(_plain_epoch(genlab.create("pix2pix", seed=r), data, 64, r))
        print(f"speed round {r}: genlab {genlab_s[-1]:.2f}s, plain loop {plain_s[-1]:.2f}s", flush=True)
    ratio = min(genlab_s) / min(plain_s)
    write_result(
        "i2i_pix2pix_epoch",
        value=round(ratio, 3),
        unit=f"genlab / plain-loop time of one pix2pix epoch ({len(data)} edge -> MNIST pairs, batch 64), best of 3",
        anchor="a hand-written PyTorch loop over the same networks, optimizers and loss",
        anchor_value=1.0,
        genlab_seconds=[round(v, 3) for v in genlab_s],
        plain_seconds=[round(v, 3) for v in plain_s],
        command=f"{CMD} speed",
    )
    print(f"speed: ratio {ratio:.3f}")


TASKS = {
    "sr": task_sr,
    "inpaint": task_inpaint,
    "ceiling": task_ceiling,
    "edges": task_edges,
    "patch": task_patch,
    "cycle": task_cycle,
    "speed": task_speed,
    "learning": task_learning,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tasks", nargs="+", choices=[*TASKS, "all"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="tiny budgets, to check the script")
    ap.add_argument("--sr-epochs", type=int, default=6)
    ap.add_argument("--inpaint-epochs", type=int, default=5)
    ap.add_argument("--edges-epochs", type=int, default=3)
    ap.add_argument("--patch-epochs", type=int, default=1)
    ap.add_argument("--cycle-steps", type=int, default=1500)
    ap.add_argument("--cycle-resnet", action="store_true", help="cycle: ResNet generators, lambda_cycle 10")
    args = ap.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name in TASKS if "all" in args.tasks else args.tasks:
        TASKS[name](args)


if __name__ == "__main__":
    main()
