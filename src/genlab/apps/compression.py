r"""Lossy compression with an autoencoder: store the codes, decode them back, and report the trade-off.

A sample of :math:`D` float32 values is stored as its code of :math:`L` values, optionally quantized to
:math:`b` bits per value with a uniform quantizer per code dimension :math:`j` over the range
:math:`[l_j, u_j]` of the codes being stored:

.. math:: q_j = \mathrm{round}\Big((2^b - 1)\,\frac{h_j - l_j}{u_j - l_j}\Big), \qquad
    \hat h_j = l_j + q_j\,\frac{u_j - l_j}{2^b - 1},

which costs :math:`L b` bits per sample plus :math:`2L` float32 values (the ranges) for the whole set. The
compression ratio of :math:`N` samples is

.. math:: r = \frac{32\,N D}{N L b + 64 L} \quad (\text{unquantized: } r = D / L),

reported against the reconstruction error of the decoded samples (mean squared error per value, and the
PSNR when the data range is known).

Example::

    from genlab.apps.compression import Compressor
    comp = Compressor("ae", latent_dim=8, epochs=30).fit(x_train)
    report = comp.report(x_test, bits=8, data_range=1.0)
    print(report.ratio, report.psnr)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import ConfigError
from ._base import AutoencoderApp
from .denoising import psnr

FLOAT_BITS = 32


@dataclass(frozen=True)
class QuantizedCodes:
    """Codes quantized to ``bits`` bits: integers ``q`` ``(N, L)`` and the per-dimension ranges ``low``, ``high``."""

    q: torch.Tensor
    low: torch.Tensor
    high: torch.Tensor
    bits: int

    def dequantize(self) -> torch.Tensor:
        """The codes the integers stand for, ``(N, L)`` float32."""
        step = (self.high - self.low) / (2**self.bits - 1)
        return self.low + self.q.float() * step

    @property
    def n_bits(self) -> int:
        """Bits needed to store the set: the integers plus the ranges as float32."""
        return int(self.q.numel()) * self.bits + 2 * int(self.low.numel()) * FLOAT_BITS


def quantize(codes: torch.Tensor, bits: int = 8) -> QuantizedCodes:
    """Uniform quantization of ``codes`` ``(N, L)`` to ``bits`` bits per value, per code dimension (see module)."""
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16:
        raise ConfigError(f"bits must be an integer in 1..16, got {bits!r}")
    codes = codes.detach().float()
    low, high = codes.amin(0), codes.amax(0)
    high = torch.where(high > low, high, low + 1.0)  # a constant dimension: any step reproduces it exactly
    levels = 2**bits - 1
    q = torch.round((codes - low) / (high - low) * levels).clamp_(0, levels)
    return QuantizedCodes(q.to(torch.int32 if bits > 8 else torch.uint8), low, high, bits)


@dataclass(frozen=True)
class CompressionReport:
    """The cost and the quality of compressing a set of samples to autoencoder codes.

    Attributes:
        n_samples: samples compressed.
        input_floats: values per input sample, :math:`D`.
        code_floats: values per code, :math:`L`.
        bits: bits per stored code value (32: float32 codes, unquantized).
        ratio: input bits over stored bits (see the module docstring).
        bits_per_sample: stored bits per sample, the range overhead included.
        mse: mean squared reconstruction error per value, in data units.
        psnr: peak signal-to-noise ratio in dB when ``data_range`` was given, else ``None``.
    """

    n_samples: int
    input_floats: int
    code_floats: int
    bits: int
    ratio: float
    bits_per_sample: float
    mse: float
    psnr: float | None = None


def compression_report(
    app: AutoencoderApp, x: Any, bits: int | None = 8, data_range: float | None = None
) -> CompressionReport:
    """Compress ``x`` to the codes of a fitted application's autoencoder, decode them, report ratio against error.

    Args:
        app: any fitted application (its model and its input scaling are used).
        x: samples ``(N, *sample_shape)``.
        bits: quantize the codes to this many bits (``None``: keep float32 codes).
        data_range: the data's peak-to-peak range, to report a PSNR (1.0 for images in [0, 1]).
    """
    t = app._inputs(x)
    codes = app.encode(t)
    stored_codes = codes if bits is None else quantize(codes, bits)
    rec = app.decode(stored_codes.dequantize() if bits is not None else codes)
    n, d, latent = len(t), math.prod(t.shape[1:]), int(codes.shape[1])
    stored = stored_codes.n_bits if bits is not None else n * latent * FLOAT_BITS
    return CompressionReport(
        n_samples=n,
        input_floats=d,
        code_floats=latent,
        bits=FLOAT_BITS if bits is None else bits,
        ratio=n * d * FLOAT_BITS / stored,
        bits_per_sample=stored / n,
        mse=float((rec.double() - t.double()).square().mean()),
        psnr=None if data_range is None else float(psnr(t, rec, data_range)),
    )


class Compressor(AutoencoderApp):
    """An autoencoder used as a lossy codec: :meth:`compress` to (quantized) codes, :meth:`decompress` back.

    Takes the settings of :class:`~genlab.apps._base.AutoencoderApp`; ``latent_dim`` sets the code size.
    """

    def compress(self, x: Any, bits: int | None = 8) -> torch.Tensor | QuantizedCodes:
        """The codes of ``x``: float32 ``(N, L)`` with ``bits=None``, else :class:`QuantizedCodes`."""
        codes = self.encode(x)
        return codes if bits is None else quantize(codes, bits)

    def decompress(self, codes: torch.Tensor | QuantizedCodes) -> torch.Tensor:
        """Samples ``(N, *sample_shape)`` in data units decoded from :meth:`compress`'s output."""
        return self.decode(codes.dequantize() if isinstance(codes, QuantizedCodes) else codes)

    def report(self, x: Any, bits: int | None = 8, data_range: float | None = None) -> CompressionReport:
        """:func:`compression_report` of this codec on ``x``."""
        return compression_report(self, x, bits=bits, data_range=data_range)


__all__ = ["CompressionReport", "Compressor", "QuantizedCodes", "compression_report", "quantize"]
