"""The README's examples work as written: every ```python block runs, every `genlab ...` command line parses."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

cli = importlib.import_module("genlab.cli.main")  # the module; the attribute genlab.cli.main is main()
ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, flags=re.M | re.S)


PYTHON = _blocks("python")


def _commands() -> list[list[str]]:
    """The argument lists of every ``genlab`` invocation in the bash blocks (``a && genlab b``, ``VAR=x genlab``)."""
    found = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            segment: list[str] = []
            for word in [*words, "&&"]:
                if word != "&&":
                    segment.append(word)
                    continue
                while segment and re.fullmatch(r"[A-Za-z_]\w*=.*", segment[0]):  # environment assignments
                    segment.pop(0)
                if segment and segment[0] == "genlab":
                    found.append(segment[1:])
                segment = []
    return found


COMMANDS = _commands()


def test_the_readme_has_examples():
    assert len(PYTHON) >= 1
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize("code", PYTHON, ids=[f"block{i}" for i in range(len(PYTHON))])
def test_python_block_runs_as_written(code, tmp_path):
    """Each block runs unchanged in a fresh process (its run directories go to a temporary folder; the paths it
    reads are taken from the repository root)."""
    for path in re.findall(r"""["']((?:examples|docs)/[^"']+)["']""", code):  # files the snippet reads
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).symlink_to(ROOT / path)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_files_the_readme_names_exist():
    for path in re.findall(r"(?<![\w/])((?:examples|docs)/[\w./-]+\.\w+)", README):
        assert (ROOT / path).is_file(), path


def _parse(argv: list[str], monkeypatch) -> object:
    """``genlab argv`` parsed by the CLI's own parser, a usage error failing the test with argparse's message."""
    fail = lambda self, message: pytest.fail(f"genlab {shlex.join(argv)}: {message}")  # noqa: E731
    monkeypatch.setattr(cli._Parser, "error", fail)
    return cli.build_parser().parse_args(argv)


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_genlab_command_line_parses(argv, monkeypatch):
    """Parse only (nothing runs): a misspelled flag or a missing argument fails here, and a data file the command
    names must be in the repository."""
    args = _parse(argv, monkeypatch)
    assert args.command == argv[0] and args.func == argv[0].replace("-", "_")
    data = getattr(args, "data", None)
    if data and Path(data).suffix in (".txt", ".csv", ".npy"):
        assert (ROOT / data).is_file(), f"{data} (run from the repository root)"


def test_a_wrong_flag_fails_the_parse(monkeypatch):
    with pytest.raises(pytest.fail.Exception, match="unrecognized arguments: --epoch"):
        _parse(["train", "vae", "--epoch", "3"], monkeypatch)
