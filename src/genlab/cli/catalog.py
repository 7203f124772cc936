"""``genlab models`` without importing torch: the registry's catalog, kept as a JSON file in the package.

The catalog (``models.json`` beside this module) lists every registered model with its description,
preset and config options, exactly as the live registry describes them; ``epoch_times.json`` holds the
time per epoch measured by ``benchmarks/epoch_times.py`` on the project's 2-core CPU. A test checks that
the catalog matches the registry; after changing a model or its config, rewrite it with::

    python -m genlab.cli.catalog
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

CATALOG_FILE = Path(__file__).with_name("models.json")
TIMES_FILE = Path(__file__).with_name("epoch_times.json")


def build_catalog() -> list[dict[str, Any]]:
    """The catalog of the live registry (imports every model family, hence torch)."""
    from ..registry import list_models

    return [
        {
            "name": e.name,
            "class": e.cls.__name__,
            "description": e.description,
            "preset": [[k, repr(v)] for k, v in e.preset],
            "options": [[name, typ, repr(default), help_] for name, typ, default, help_ in e.config_cls.describe()],
        }
        for e in list_models()
    ]


def read_catalog() -> list[dict[str, Any]]:
    """The catalog shipped with the package; built from the registry if the file is missing or unreadable."""
    try:
        return json.loads(CATALOG_FILE.read_text(encoding="utf-8"))["models"]
    except (OSError, ValueError, KeyError, TypeError):
        return build_catalog()


def read_epoch_times() -> dict[str, Any]:
    """``{"machine": ..., "models": {name: {data: seconds}}}`` as measured, or empty if not shipped."""
    try:
        times = json.loads(TIMES_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return times if isinstance(times, dict) and isinstance(times.get("models"), dict) else {}


def format_seconds(seconds: float) -> str:
    """``0.42 s``, ``12 s``, ``3.4 min``, ``1.2 h``: how long an epoch takes, at a glance."""
    if seconds < 10:
        return f"{seconds:.2g} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.2g} min"
    return f"{seconds / 3600:.2g} h"


def epoch_time_line(name: str, times: dict[str, Any]) -> str | None:
    """``"time per epoch (2 cores, batch 128): digits 0.3 s, mnist 41 s"`` for a model, if it was measured."""
    measured = times.get("models", {}).get(name)
    if not measured:
        return None
    shown = ", ".join(f"{data} ~{format_seconds(float(s))}" for data, s in measured.items())
    return f"time per epoch ({times.get('setting', 'measured')}): {shown}"


def cmd_models(args: argparse.Namespace) -> int:
    entries = read_catalog()
    times = read_epoch_times() if args.verbose else {}
    width = max(len(e["name"]) for e in entries)
    for e in entries:
        preset = (
            f" [preset of {e['class']}: " + ", ".join(f"{k}={v}" for k, v in e["preset"]) + "]" if e["preset"] else ""
        )
        print(f"{e['name']:<{width}}  {e['description']}{preset}")
        if args.verbose:
            line = epoch_time_line(e["name"], times)
            if line:
                print(f"    {line}")
            for name, typ, default, help_ in e["options"]:
                print(f"    {name} ({typ}, default {default}){': ' + help_ if help_ else ''}")
    if args.verbose and times.get("machine"):
        print(f"\nepoch times measured on {times['machine']} ({times.get('date', '?')}); see docs/benchmarks.md")
    return 0


def write_catalog(path: Path = CATALOG_FILE) -> Path:
    """Rewrite the shipped catalog from the live registry (atomically)."""
    from .. import fileutil

    fileutil.write_json(
        path, {"about": "genlab models: written by `python -m genlab.cli.catalog`", "models": build_catalog()}
    )
    return path


if __name__ == "__main__":  # pragma: no cover
    print(f"wrote {write_catalog()}")
