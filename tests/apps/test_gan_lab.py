"""The mode-collapse lab: loss comparison snapshots, the vanishing-gradient experiment and the CLI."""

from __future__ import annotations

import json

import pytest

from genlab.apps.gan_lab import compare_losses, generator_gradients
from genlab.cli.main import main
from genlab.data import load
from genlab.errors import ConfigError, DataError


def test_compare_losses_snapshots_every_loss_at_the_same_generator_updates():
    ring = load("ring8", n_samples=2000)
    runs = compare_losses(ring, ("minimax", "wasserstein_gp"), updates=40, snapshots=2, batch_size=64, n_samples=100)
    assert list(runs) == ["minimax", "wasserstein_gp"]
    for run in runs.values():
        assert run.updates == [20, 40]
        assert [s.shape for s in run.samples] == [(100, 2), (100, 2)]
        assert all(c.n_modes == 8 for c in run.coverage)
    assert runs["wasserstein_gp"].seconds > 0


def test_the_lab_shows_each_run_on_standard_error_only_when_asked(capsys, monkeypatch):
    monkeypatch.setenv("GENLAB_PROGRESS_SECONDS", "0")
    ring = load("ring8", n_samples=1000)
    compare_losses(ring, ("minimax",), updates=10, snapshots=1, batch_size=64, n_samples=50)
    assert capsys.readouterr() == ("", "")
    compare_losses(
        ring, ("minimax", "least_squares"), updates=10, snapshots=1, batch_size=64, n_samples=50, progress=True
    )
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith("gan-lab [1/2] minimax: 10 generator updates")
    assert any(ln.startswith("minimax: 5/10 steps (50%)") and "d_loss" in ln and "g_loss" in ln for ln in lines)
    assert any(ln.startswith("least_squares: done 10/10 steps") for ln in lines)
    assert not any(ln.startswith("epoch ") for ln in lines)  # step-bounded runs: no per-epoch summaries
    generator_gradients(ring, warmup_updates=5, d_steps=10, every=5, batch_size=64, progress=True)
    err = capsys.readouterr().err
    assert "warm-up: done 5/5 steps" in err and "D alone: done 10/10 steps" in err


def test_minimax_generator_gradient_vanishes_as_the_discriminator_wins():
    g = generator_gradients("ring8", warmup_updates=50, d_steps=1000, every=250)
    assert g.d_steps == [1, 250, 500, 750, 1000]
    mm, ns = g.norms["minimax"], g.norms["non_saturating"]
    assert g.d_fake[-1] < 0.01  # the discriminator rejects the frozen generator's samples
    assert mm[-1] < mm[0] / 4  # the minimax gradient shrinks ...
    assert ns[-1] > 5 * ns[0]  # ... while the non-saturating one grows
    assert mm[-1] < 0.05 * ns[-1]


def test_lab_rejects_data_without_modes_and_unknown_losses():
    with pytest.raises(DataError, match="known modes"):
        compare_losses("digits", ("minimax",), updates=1)
    with pytest.raises(ConfigError, match="unknown loss 'minmax'"):
        compare_losses("ring8", ("minmax",), updates=1)


def test_cli_gan_lab_writes_pictures_and_report(tmp_path, capsys):
    out = tmp_path / "lab"
    argv = ["gan-lab", "--losses", "minimax,non_saturating", "--updates", "20", "--snapshots", "2", "--out", str(out)]
    assert main([*argv, "--set", "hidden_dims=32,32"]) == 0
    assert (out / "modes.png").stat().st_size > 1000 and (out / "gradient_norms.png").stat().st_size > 1000
    report = json.loads((out / "lab.json").read_text())
    assert set(report["runs"]) == {"minimax", "non_saturating"}
    assert report["overrides"] == {"hidden_dims": [32, 32]}
    out, err = capsys.readouterr()
    assert "minimax:" in out
    assert "non_saturating: done" in err and "steps" not in out  # progress on standard error, results on standard out
    assert main(argv) == 1  # an existing output is never replaced without --overwrite
    assert "already exists" in capsys.readouterr().err
