"""Helpers shared by the benchmark scripts: machine description and the results file."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

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
