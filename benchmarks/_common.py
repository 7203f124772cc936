"""Helpers shared by the benchmark scripts: machine description, the results file, a decaying time budget."""

from __future__ import annotations

import copy
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from genlab.training.callbacks import Callback

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def write_result(name: str, **fields: Any) -> Path:
    """Write ``benchmarks/results/<name>.json`` with at least value, unit, anchor, anchor_value, command, date."""
    for key in ("value", "unit", "anchor", "anchor_value"):
        if key not in fields:
            raise ValueError(f"result {name} lacks {key}")
    fields.setdefault("command", "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]))
    fields.setdefault("date", _dt.date.today().isoformat())
    fields.setdefault("machine", machine())
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(fields, indent=2) + "\n")
    tmp.replace(path)
    return path


class TimeBudgetDecay(Callback):
    """Stops after ``seconds`` of training, decays the learning rate linearly to 0 over them, and keeps copies of
    the model at the ``marks`` (seconds)."""

    def __init__(self, seconds: float, marks: list[float]) -> None:
        self.seconds, self.marks = seconds, sorted(marks)
        self.snapshots: list[dict] = []

    def on_fit_start(self, trainer, model) -> None:
        self.t0 = time.perf_counter()
        self.base = [[g["lr"] for g in opt.param_groups] for opt in trainer.optimizers]

    def on_step_end(self, trainer, model, metrics) -> None:
        t = time.perf_counter() - self.t0
        f = max(0.0, 1.0 - t / self.seconds)
        for opt, base in zip(trainer.optimizers, self.base, strict=True):
            for g, lr in zip(opt.param_groups, base, strict=True):
                g["lr"] = lr * f
        while self.marks and t >= self.marks[0]:
            self.marks.pop(0)
            self.snapshots.append(
                {"seconds": round(t, 1), "step": trainer.step, "state": copy.deepcopy(model.state_dict())}
            )
        if t >= self.seconds:
            trainer.request_stop(f"time budget of {self.seconds:.0f} s")
