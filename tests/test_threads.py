"""The CLI's thread choice: all cores on an idle machine, only the idle ones on a busy machine."""

from __future__ import annotations

import pytest
import torch

from genlab import threads
from genlab.cli.main import main
from genlab.errors import ConfigError

STAT_0 = """cpu  200 0 100 700 0 0 0 0 0 0
cpu0 100 0 50 350 0 0 0 0 0 0
cpu1 100 0 50 350 0 0 0 0 0 0
intr 1 2 3

"""
# 100 jiffies later: cpu0 was busy 90 of them (user 80, system 10); cpu1 5 (system), idle 90 and waiting on disk 5
STAT_1 = """cpu  300 0 120 870 5 0 0 0 0 0
cpu0 180 0 60 360 0 0 0 0 0 0
cpu1 100 0 55 440 5 0 0 0 0 0
"""


def test_proc_stat_readings_give_the_busy_cores(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    readings = iter([STAT_0, STAT_1])
    monkeypatch.setattr(type(stat), "read_text", lambda self, *a, **k: next(readings))
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    busy = threads.busy_cores(interval=0, stat=stat)
    assert busy == pytest.approx(0.9 + 0.05)  # waiting on disk counts as idle


def test_a_missing_proc_stat_means_unknown(tmp_path):
    assert threads.busy_cores(interval=0, stat=tmp_path / "absent") is None


@pytest.mark.parametrize(
    ("busy", "expected"),
    [(0.1, 2), (0.4, 2), (0.6, 1), (1.0, 1), (2.0, 1), (None, None)],
)
def test_auto_uses_the_idle_cores_and_at_least_one(monkeypatch, busy, expected):
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", lambda *a, **k: busy)
    n, note = threads.choose_threads(None, env={})
    assert n == expected
    assert (note is not None) == (expected == 1)
    if note:
        assert "1 of the 2 cores are busy" in note and "--threads 2" in note


def test_explicit_choices_win_and_omp_num_threads_is_respected(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", lambda *a, **k: 2.0)
    assert threads.choose_threads(2, env={}) == (2, None)
    assert threads.choose_threads(None, env={"GENLAB_THREADS": "3"}) == (3, None)
    assert threads.choose_threads(None, env={"OMP_NUM_THREADS": "2"}) == (None, None)


@pytest.mark.parametrize(("requested", "env"), [(0, {}), (None, {"GENLAB_THREADS": "two"})])
def test_bad_thread_counts_are_config_errors(requested, env):
    with pytest.raises(ConfigError, match="threads"):
        threads.choose_threads(requested, env=env)


def test_the_cli_sets_torch_threads_and_says_why(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("GENLAB_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", lambda *a, **k: 1.0)
    before = torch.get_num_threads()
    try:
        code = main(["train", "ae", "--data", "ring8", "--epochs", "1", "--out", str(tmp_path / "r")])
        assert code == 0 and torch.get_num_threads() == 1
        assert "1 of the 2 cores are busy with other processes: computing on 1 thread" in capsys.readouterr().err
        assert main(["train", "ae", "--threads", "0", "--out", str(tmp_path / "s")]) == 1
        assert "--threads must be at least 1" in capsys.readouterr().err
    finally:
        torch.set_num_threads(before)
