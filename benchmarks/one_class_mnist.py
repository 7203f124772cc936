"""One-class MNIST: each digit in turn is "normal"; train on that digit's training images, score the whole
test set, report the AUROC of telling the other nine digits apart. genlab against PyOD's AutoEncoder.

Protocol (Ruff et al. 2018, Deep SVDD): for digit k, train on the ~6,000 training images of k only, test on
all 10,000 test images with label "anomaly" = (digit != k). Both libraries get the same training budget:
10 epochs with batch size 32 (PyOD's defaults). PyOD runs with its defaults (hidden [64, 32], batch norm,
dropout 0.2, per-pixel standardisation) and again with ``preprocessing=False`` (see ANCHORS.md: its
standardisation explodes on pixels that are blank in the training digit).

genlab's detector is fixed in advance (no tuning on the test digits): the model named by ``--model``
(default a convolutional autoencoder, channels 32-64, code 32, MSE), anomaly score = reconstruction error.

Environment: benchmarks/.venv-pyod (python3 -m venv benchmarks/.venv-pyod; pip install torch==2.13.0;
pip install pyod==3.6.7 torch==2.13.0 numpy scipy scikit-learn safetensors pillow matplotlib tqdm;
pip install -e . --no-deps).

Usage: GENLAB_DATA=../shared/data/mnist benchmarks/.venv-pyod/bin/python benchmarks/one_class_mnist.py [--digits 0,1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genlab
from _common import write_result
from genlab.training import Trainer

EPOCHS, BATCH = 10, 32
MODELS = {
    "conv_ae": dict(name="ae", architecture="conv", hidden_dims=(32, 64), latent_dim=32, loss="mse"),
    "mlp_ae": dict(name="ae", hidden_dims=(256, 64), latent_dim=32, loss="mse"),
    "vae": dict(name="vae", hidden_dims=(256, 64), latent_dim=16),
}


def genlab_scores(spec: dict, x_train: torch.Tensor, x_test: torch.Tensor, seed: int) -> np.ndarray:
    spec = dict(spec)
    m = genlab.create(spec.pop("name"), data_shape=(1, 28, 28), seed=seed, **spec)
    Trainer(epochs=EPOCHS, batch_size=BATCH, seed=seed).fit(m, x_train)
    with torch.no_grad():
        return torch.cat([m.score(x_test[i : i + 1000]) for i in range(0, len(x_test), 1000)]).numpy()


def pyod_scores(x_train: np.ndarray, x_test: np.ndarray, preprocessing: bool, seed: int) -> np.ndarray:
    from pyod.models.auto_encoder import AutoEncoder

    det = AutoEncoder(epoch_num=EPOCHS, batch_size=BATCH, preprocessing=preprocessing, random_state=seed, verbose=0)
    det.fit(x_train)
    return det.decision_function(x_test)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--digits", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--model", choices=sorted(MODELS), default="mlp_ae")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-pyod", action="store_true")
    args = ap.parse_args()
    digits = [int(d) for d in args.digits.split(",")]
    train = genlab.data.load("mnist", split="train", download=False)
    test = genlab.data.load("mnist", split="test", download=False)
    x_test_flat = test.x.reshape(len(test.x), -1).numpy()
    rows = []
    for k in digits:
        x_k = train.x[train.y == k]
        truth = (test.y != k).numpy().astype(int)
        row = {"digit": k, "n_train": len(x_k)}
        t = time.perf_counter()
        row["genlab"] = roc_auc_score(truth, genlab_scores(MODELS[args.model], x_k, test.x, args.seed))
        row["genlab_s"] = time.perf_counter() - t
        if not args.no_pyod:
            for pre in (True, False):
                key = "pyod" if pre else "pyod_nopre"
                t = time.perf_counter()
                s = pyod_scores(x_k.reshape(len(x_k), -1).numpy(), x_test_flat, pre, args.seed)
                row[key] = roc_auc_score(truth, s)
                row[f"{key}_s"] = time.perf_counter() - t
        rows.append(row)
        print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    mean = {key: statistics.mean(r[key] for r in rows) for key in ("genlab", "pyod", "pyod_nopre") if key in rows[0]}
    print("mean AUROC:", {k: round(100 * v, 2) for k, v in mean.items()}, "(Deep SVDD: 94.8)")
    write_result(
        f"one_class_mnist_{args.model}",
        value=round(100 * mean["genlab"], 2),
        unit="mean AUROC over the digits (%)",
        anchor="PyOD 3.6.7 AutoEncoder, defaults (10 epochs, batch 32), same split" if "pyod" in mean else "Deep SVDD",
        anchor_value=round(100 * mean.get("pyod", 0.948), 2),
        pyod_no_preprocessing=round(100 * mean["pyod_nopre"], 2) if "pyod_nopre" in mean else None,
        published_deep_svdd=94.8,
        digits=digits,
        model=MODELS[args.model],
        epochs=EPOCHS,
        batch_size=BATCH,
        rows=rows,
        command="GENLAB_DATA=../shared/data/mnist benchmarks/.venv-pyod/bin/python benchmarks/one_class_mnist.py "
        + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
