"""The RBM's learning rule: CD-k and PCD-k estimates of the log-likelihood gradient (Hinton 2002; Tieleman 2008).

For an RBM with energy ``E(v, h) = -b.v - c.h - v^T W h`` the gradient of the mean log-likelihood is a difference
of two expectations of the sufficient statistics,

    d log p / dW = <v h^T>_data - <v h^T>_model

and CD-k estimates the second one after k Gibbs steps started at the data (PCD: from persistent chains). The
functions below write minus that estimate into each parameter's ``.grad``, so any torch optimizer (and, under
torchrun, the gradient all-reduce at ``optimizer.step()``) takes the step. :class:`~genlab.models.energy.rbm.RBM`
calls them from ``estimate_gradient``.
"""

from __future__ import annotations

from typing import Any

import torch

from ...nn.collective import shard_mean
from .sampling import bernoulli


def _phase(rbm: Any, v: torch.Tensor, ph: torch.Tensor):
    """Sufficient statistics of one phase: centered visible input and hidden probabilities."""
    if rbm.config.centering:
        return v - rbm.v_offset, ph - rbm.h_offset
    return rbm._vis_in(v), ph


@torch.no_grad()
def estimate_gradient(rbm: Any, x: torch.Tensor, generator: torch.Generator | None = None):
    """The CD-k / PCD-k estimate of minus the log-likelihood gradient on ``x``, written into each parameter's
    ``.grad`` (PCD also advances the chains).

    Returns:
        ``(reconstruction error, mean hidden activation on x)``: the squared error of ``E[v|h]`` after one
        Gibbs step from ``x`` (summed over units, mean over samples; PCD measures it on at most 32
        samples), and ``mean P(h|x)`` ``(n_hidden,)``.
    """
    c = rbm.config
    gen = rbm.rng(generator)
    params = rbm.params()
    v0 = rbm._flat(x)
    n0 = v0.shape[0]
    if c.method == "pcd":
        # the chains move first: their hidden probabilities come from the end of the last update, so
        # the chains' last up pass and the data's are one product of the stacked states
        v, ph = rbm.chains, rbm.chains_ph
        for i in range(c.k):
            v = rbm._sample_visible(bernoulli(ph, gen), gen, params)
            if i < c.k - 1:
                ph = torch.sigmoid_(rbm._hidden_logits(v, params))
        stacked = torch.cat([v0, v])
        probs = torch.sigmoid_(rbm._hidden_logits(stacked, params))
        ph0, ph = probs[:n0], probs[n0:]
        rbm.chains.copy_(v)
        rbm.chains_ph.copy_(ph)
        sub = slice(0, 32)
        recon = _squared_error(v0[sub], rbm._visible_mean(ph0[sub], params))
        set_gradients(rbm, v0, ph0, v, ph, stacked=(stacked, probs))
        return recon, ph0.mean(0)
    ph0 = torch.sigmoid_(rbm._hidden_logits(v0, params))
    # negative phase: k Gibbs steps from the data
    v, ph, first = v0, ph0, None
    for i in range(c.k):
        mean_v = rbm._visible_mean(bernoulli(ph, gen), params)
        first = mean_v if first is None else first
        # optionally CD-k's last visible state is its mean (less noise; Hinton 2010, sec. 3.2)
        keep_mean = c.mean_field_negative and i == c.k - 1
        v = mean_v if keep_mean else rbm._sample_visible_from_mean(mean_v, gen, 1.0)
        ph = torch.sigmoid_(rbm._hidden_logits(v, params))
    recon = _squared_error(v0, first)
    set_gradients(rbm, v0, ph0, v, ph)
    return recon, ph0.mean(0)


def set_gradients(
    rbm: Any,
    v0: torch.Tensor,
    ph0: torch.Tensor,
    vk: torch.Tensor,
    phk: torch.Tensor,
    stacked: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> None:
    """Minus the log-likelihood gradient estimate, written into ``.grad`` for the optimizer.

    ``stacked``: ``(cat([v0, vk]), cat([ph0, phk]))`` when the caller has them (PCD), which saves the copies.
    """
    c = rbm.config
    n0, nk = v0.shape[0], vk.shape[0]
    mean_y0, mean_yk = ph0.mean(0), phk.mean(0)
    # the weight gradient reuses its buffer: a fresh 1.5 MB tensor per step costs page faults (10% at batch 20)
    gW = rbm.W.grad if rbm.W.grad is not None else torch.empty_like(rbm.W)
    if n0 + nk <= 128:  # small batches: one product with both phases stacked is twice as fast as two
        X, Y = _phase(rbm, *(stacked or (torch.cat([v0, vk]), torch.cat([ph0, phk]))))
        Y = Y * torch.cat([Y.new_full((n0, 1), -1.0 / n0), Y.new_full((nk, 1), 1.0 / nk)])
        gW.addmm_(X.t(), Y, beta=0.0)
    else:
        x0, y0 = _phase(rbm, v0, ph0)
        xk, yk = _phase(rbm, vk, phk)
        gW.addmm_(xk.t(), yk, beta=0.0, alpha=1.0 / nk)
        gW.addmm_(x0.t(), y0, alpha=-1.0 / n0)  # grad = <.>_model - <.>_data (minimising)
    gc = mean_yk - mean_y0
    if rbm.gaussian:
        sig = rbm.sigma.detach()
        gb = ((vk - rbm.b).mean(0) - (v0 - rbm.b).mean(0)) / sig.square()
        if c.learn_sigma:  # -dlogp/dlog(sigma) = <dF/dlog sigma>_data - <dF/dlog sigma>_model
            rbm.log_sigma.grad = _dF_dlogsigma(rbm, v0, ph0) - _dF_dlogsigma(rbm, vk, phk)
    else:
        gb = vk.mean(0) - v0.mean(0)
    if c.sparsity_target > 0:  # penalty pulling the running mean activation q towards the target
        rbm.q_hidden.lerp_(shard_mean(mean_y0), 1 - c.sparsity_decay)  # the whole batch's, under torchrun
        push = c.sparsity_cost * (rbm.q_hidden - c.sparsity_target)
        gc += push
        gW.addr_(_phase(rbm, v0, ph0)[0].mean(0), push)
    rbm.W.grad, rbm.b.grad, rbm.c.grad = gW, gb, gc


def _dF_dlogsigma(rbm: Any, v: torch.Tensor, ph: torch.Tensor) -> torch.Tensor:
    sig = rbm.sigma.detach()
    return (-((v - rbm.b) / sig).square() + (v / sig) * (ph @ rbm.W.t())).mean(0)


def _squared_error(x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """``sum((x - mean)^2) / B``: the reconstruction error, one subtraction and one dot product."""
    d = (x - mean).reshape(-1)
    return torch.dot(d, d) / x.shape[0]
