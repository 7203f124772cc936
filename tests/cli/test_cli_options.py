"""The parser and the commands that must answer without importing torch; --lr; the summary line."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from genlab.cli import commands
from genlab.cli.catalog import build_catalog, read_catalog
from genlab.cli.main import build_parser, main


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["models"], ["models", "-v"], ["train", "--help"]])
def test_help_version_and_models_do_not_import_torch(args):
    code = (
        "import sys\nfrom genlab.cli.main import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def test_the_shipped_catalog_is_the_registry():
    # after changing a model or its config: python -m genlab.cli.catalog
    assert read_catalog() == json.loads(json.dumps(build_catalog()))


def test_models_verbose_lists_options_and_measured_epoch_times(capsys):
    assert main(["models", "-v"]) == 0
    out = capsys.readouterr().out
    assert "latent_dim (int, default 50)" in out
    assert "time per epoch" in out and "digits ~" in out


def test_abbreviated_options_are_refused():
    parser = build_parser()
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["train", "vae", "--lr-sch", "cosine"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "vae", "--epoch", "3"])  # --epochs, spelt out
    args = parser.parse_args(["train", "vae", "--lr", "1e6"])
    assert args.lr == 1e6 and args.lr_schedule is None  # --lr is its own option, never --lr-schedule


def test_lr_sets_the_learning_rate_of_any_model():
    assert commands._lr_overrides("vae", 0.01) == ["lr=0.01"]
    assert commands._lr_overrides("dcgan", 1e-4) == ["lr_g=0.0001", "lr_d=0.0001"]
    with pytest.raises(commands.ConfigError, match="--resume"):
        commands._lr_overrides(None, 0.01)


def test_lr_from_the_command_line_reaches_the_config(tmp_path):
    out = tmp_path / "r"
    code = main(["train", "vae", "--lr", "0.004", "--max-steps", "1", "--quiet", "--out", str(out)])
    assert code == 0
    assert json.loads((out / "run.json").read_text())["model"]["config"]["lr"] == 0.004


def test_the_summary_line_has_no_dangling_separator(capsys):
    history = SimpleNamespace(all_rows=[])
    trainer = SimpleNamespace(history=history, stop_reason="time budget of 1s reached", epoch=0, step=0, elapsed=1.0)
    result = SimpleNamespace(trainer=trainer, model=SimpleNamespace(registry_name="vae"), run_dir=None, files={})
    commands._report(result, started=0.0)
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "trained vae for 0 epochs / 0 steps in 1.0s (time budget of 1s reached)"
