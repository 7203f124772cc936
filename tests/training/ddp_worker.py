"""Run under torchrun by tests/training/test_distributed.py: data-parallel fits whose results the test compares.

``python -m torch.distributed.run --standalone --nproc-per-node 2 ddp_worker.py OUT_DIR SCENARIO...`` writes
``OUT_DIR/<scenario>.<rank>.pt`` for each scenario.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

import genlab
from genlab.errors import GenlabError
from genlab.nn.collective import SyncBatchNorm
from genlab.training import Trainer
from genlab.training.distributed import world

torch.set_num_threads(1)
MODELS = {
    "ae": {"latent_dim": 8},
    "vae": {"latent_dim": 8},
    "gan": {},
    "rbm": {"n_hidden": 32},
    "rbm_centered": {"n_hidden": 32, "centering": True, "sparsity_target": 0.1},  # batch means are shared
    "realnvp": {},  # ActNorm initialises from the whole first batch
    # two optimizers, three critic steps per generator step, a gradient penalty and an EMA of the generator
    "wgan_gp": {"n_critic": 3, "ema_decay": 0.9, "hidden_dims": [64]},
    # greedy layer-wise pretraining (one trainer per stage), then joint training
    "stacked_ae": {"layer_dims": [32, 16], "pretrain_epochs": 1},
    "dbm": {"layer_dims": [32, 16], "pretrain_epochs": 1},  # hand-set gradients of the mean-field and Gibbs phases
}
FAMILY = {"rbm_centered": "rbm"}


def data():
    return genlab.data.load("digits", split="train")


def fit(name: str, epochs: int = 2, batch_size: int = 64) -> dict:
    d = data()
    family = FAMILY.get(name, name)
    config = MODELS[name]
    if config.get("pretrain_epochs"):  # genlab.train runs the layer-wise stages before the joint epochs
        settings = {"epochs": epochs, "batch_size": batch_size, "seed": 3, "device": "cpu", "progress": False}
        res = genlab.train(family, d, overrides=config, **settings)
        model, rows = res.model, res.trainer.history.rows
    else:
        model = genlab.create(family, data_shape=tuple(d.x.shape[1:]), seed=0, **config)
        trainer = Trainer(epochs=epochs, batch_size=batch_size, seed=3, device="cpu")
        trainer.fit(model, d)
        rows = trainer.history.rows
    params = [p.detach().clone() for p in model.parameters()]
    return {"loss": [r["loss"] for r in rows], "params": params}


def sync_batchnorm() -> dict:
    """Each process normalises its shard; the outputs and input gradients must be those of the whole batch."""
    w = world()
    x = torch.randn(8, 3, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    rows = slice(w.rank * 4, w.rank * 4 + 4)
    bn = SyncBatchNorm(3).double().train()
    part = x[rows].clone().requires_grad_(True)
    y = bn(part)
    (y * torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).sin()).sum().backward()  # a loss on its rows
    return {"y": y.detach(), "grad": part.grad, "running_var": bn.running_var.clone(), "rows": (rows.start, rows.stop)}


def resume(out: Path) -> dict:
    """A 3-epoch run, and the same run stopped after 2 epochs and resumed; both through genlab.train."""
    settings = {"batch_size": 64, "seed": 5, "device": "cpu", "progress": False}
    full = genlab.train("vae", "digits", out=out / "full", epochs=3, overrides={"latent_dim": 4}, **settings)
    genlab.train("vae", "digits", out=out / "part", epochs=2, overrides={"latent_dim": 4}, **settings)
    resumed = genlab.train("vae", out=out / "part", resume=True, epochs=3, **{**settings, "device": "cpu"})
    try:  # a different global batch size cannot resume
        genlab.train("vae", out=out / "part", resume=True, epochs=4, batch_size=32, progress=False)
        refused = ""
    except GenlabError as exc:
        refused = str(exc)
    return {
        "full": [r["loss"] for r in full.trainer.history.rows],
        "resumed": [r["loss"] for r in resumed.trainer.history.rows],
        "full_params": [p.detach().clone() for p in full.model.parameters()],
        "resumed_params": [p.detach().clone() for p in resumed.model.parameters()],
        "refused": refused,
    }


def main() -> None:
    out = Path(sys.argv[1])
    rank = world().rank if world().distributed else None
    for scenario in sys.argv[2:]:
        if scenario == "sync_batchnorm":
            from genlab.training.distributed import init_from_env

            init_from_env(torch.device("cpu"))
            result = sync_batchnorm()
        elif scenario == "resume":
            result = resume(out)
        else:
            result = fit(scenario)
        rank = world().rank
        torch.save(result, out / f"{scenario}.{rank}.pt")


if __name__ == "__main__":
    main()
