"""Progress on every long wait: one utility for training, evaluation, AIS, feature extraction and the labs.

:class:`Progress` counts units of work (steps, samples, temperatures) towards an optional total and shows:

- on a terminal (``stream.isatty()``): a tqdm bar with the rate, the ETA and a postfix (e.g. current losses);
- elsewhere (a log file, a pipe, CI): a plain line at least every ``interval`` seconds (default 10, or
  ``$GENLAB_PROGRESS_SECONDS``) with the count done/total, the rate, the ETA and the postfix, and a final
  line when it closes;
- nothing at all when disabled (``enabled=False``): every method returns at once.

Everything goes to standard error (or the ``stream`` given), never to standard output. The per-update cost is
one clock reading and a comparison off a terminal (tqdm's own check on one); the postfix may be a callable,
which is called only when a line or a refresh is due, so no string is formatted on the other updates.

Example::

    with Progress(total=len(x), desc="features", unit="image", enabled=progress) as p:
        for a in range(0, len(x), 1000):
            ...
            p.update(len(xb))
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TextIO, TypeVar

from .errors import ConfigError

#: environment variable: seconds between two plain progress lines off a terminal (0: a line per update)
INTERVAL_ENV = "GENLAB_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 10.0

Postfix = str | Mapping[str, Any] | Callable[[], "str | Mapping[str, Any]"] | None
T = TypeVar("T")


def progress_interval(interval: float | None = None) -> float:
    """Seconds between two plain lines: ``interval`` if given, else ``$GENLAB_PROGRESS_SECONDS``, else 10."""
    if interval is None:
        raw = os.environ.get(INTERVAL_ENV, "").strip()
        if not raw:
            return DEFAULT_INTERVAL
        try:
            interval = float(raw)
        except ValueError:
            raise ConfigError(f"{INTERVAL_ENV} must be a number of seconds >= 0, got {raw!r}") from None
        what = INTERVAL_ENV
    else:
        what = "the progress interval"
    if not interval >= 0:  # also rejects NaN
        raise ConfigError(f"{what} must be a number of seconds >= 0, got {interval!r}")
    return float(interval)


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an interactive terminal (streams without ``isatty`` are not)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if callable(isatty) else False


def format_seconds(seconds: float) -> str:
    """``75.2 -> '1:15'``, ``3725 -> '1:02:05'``; ``'?'`` when unknown."""
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return "?"
    s = round(max(seconds, 0.0))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_postfix(postfix: Postfix) -> str:
    """The text of a postfix: a string as is, a mapping as ``key value`` pairs (floats to 4 significant digits)."""
    if callable(postfix):
        postfix = postfix()
    if postfix is None:
        return ""
    if isinstance(postfix, str):
        return postfix
    return "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in postfix.items())


def _rate_text(rate: float, unit: str) -> str:
    if not rate > 0:
        return f"? {unit}/s"
    if rate >= 1:
        return f"{rate:.3g} {unit}/s" if rate < 1000 else f"{rate:,.0f} {unit}/s"
    return f"{1 / rate:.3g} s/{unit}"


class Progress:
    """Progress of one long task: a tqdm bar on a terminal, a plain line every ``interval`` seconds elsewhere.

    Args:
        total: units of work in all (``None`` when unknown: no percentage or ETA).
        desc: what is being done (the start of every line, the bar's label).
        unit: the name of one unit (``"step"``, ``"image"``, ``"beta"``).
        enabled: ``False`` makes every method a no-op (no output at all).
        stream: where to write; standard error by default.
        bar: ``True``/``False`` forces the tqdm bar on/off; ``None`` uses it on a terminal only.
        interval: seconds between plain lines (``None``: ``$GENLAB_PROGRESS_SECONDS`` or 10; ``0``: every update).
        refresh: seconds between two redraws of the bar (tqdm's ``mininterval``).
        initial: units already done (a resumed run); the rate and the ETA count only the units done here.
        clock: the time source, ``time.monotonic`` by default (tests pass a fake one).
        final: write a final line off a terminal when closing.
        leave: keep the finished bar on the terminal.
    """

    def __init__(
        self,
        total: int | None = None,
        desc: str = "",
        *,
        unit: str = "it",
        enabled: bool = True,
        stream: TextIO | None = None,
        bar: bool | None = None,
        interval: float | None = None,
        refresh: float = 0.1,
        initial: int = 0,
        clock: Callable[[], float] | None = None,
        final: bool = True,
        leave: bool = True,
    ) -> None:
        self.enabled = bool(enabled)
        self.total = total
        self.desc = desc
        self.unit = unit
        self.n = initial
        self.initial = initial
        self.final = final
        self._postfix: Postfix = None
        self._bar = None
        self._closed = not self.enabled
        if not self.enabled:
            return
        self.stream = stream if stream is not None else sys.stderr
        self.interval = progress_interval(interval)
        self._clock = clock if clock is not None else time.monotonic
        self._t0 = self._clock()
        self._due = self._t0 + self.interval
        if bar if bar is not None else is_terminal(self.stream):
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=total,
                initial=initial,
                desc=desc or None,
                unit=unit,
                file=self.stream,
                mininterval=refresh,
                dynamic_ncols=True,
                leave=leave,
            )

    # ---------------------------------------------------------------------------------------------- updates
    def update(self, n: int = 1, postfix: Postfix = None) -> None:
        """``n`` more units done; ``postfix`` (text, mapping or a callable giving one) replaces the shown one."""
        if self._closed:
            return
        self.n += n
        if postfix is not None:
            self._postfix = postfix
        if self._bar is not None:
            if self._bar.update(n) and self._postfix is not None:  # it just redrew: the postfix shows next time
                self._bar.set_postfix_str(format_postfix(self._postfix), refresh=False)
            return
        now = self._clock()
        if now >= self._due:
            self._due = now + self.interval
            self._print(self.line(now))

    def set_postfix(self, postfix: Postfix) -> None:
        """Replace the postfix without counting work (shown at the next line or redraw)."""
        if not self._closed:
            self._postfix = postfix

    def set_description(self, desc: str) -> None:
        if self._closed:
            return
        self.desc = desc
        if self._bar is not None:
            self._bar.set_description_str(desc or None, refresh=False)

    def write(self, message: str, *, reset_timer: bool = False) -> None:
        """Write one line (above the bar on a terminal). ``reset_timer``: it carries the progress, so the next
        plain line is due ``interval`` seconds from now."""
        if self._closed:
            return
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
            return
        if reset_timer:
            self._due = self._clock() + self.interval
        self._print(message)

    def close(self, final: bool | None = None) -> None:
        """Finish: close the bar, or write the final line off a terminal (unless ``final`` is ``False``)."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            if self._postfix is not None:
                self._bar.set_postfix_str(format_postfix(self._postfix), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.final if final is None else final:
            self._print(self.line(self._clock(), done=True))

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # after an error the final line would claim the work was done: only the bar is closed
        self.close(final=None if exc_type is None else False)

    # ---------------------------------------------------------------------------------------------- numbers
    @property
    def on_terminal(self) -> bool:
        """Whether a tqdm bar is showing."""
        return self._bar is not None

    def elapsed(self, now: float | None = None) -> float:
        if not self.enabled:
            return 0.0
        return (self._clock() if now is None else now) - self._t0

    def rate(self, now: float | None = None) -> float:
        """Units per second done by this object (not counting ``initial``)."""
        dt = self.elapsed(now)
        return (self.n - self.initial) / dt if dt > 0 else float("nan")

    def eta(self, now: float | None = None) -> float:
        """Seconds left at the current rate (NaN when unknown)."""
        if self.total is None:
            return float("nan")
        r = self.rate(now)
        left = max(self.total - self.n, 0)
        return left / r if r > 0 else (0.0 if left == 0 else float("nan"))

    def line(self, now: float | None = None, done: bool = False) -> str:
        """The plain progress line (what is written off a terminal)."""
        now = self._clock() if now is None else now
        head = f"{self.desc}: " if self.desc else ""
        count = f"{self.n}/{self.total}" if self.total is not None else f"{self.n}"
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        rate = _rate_text(self.rate(now), self.unit)
        units = self.unit if self.unit.endswith("s") else f"{self.unit}s"
        if done:
            text = f"{head}done {count} {units} in {format_seconds(self.elapsed(now))} ({rate})"
        else:
            eta = f"  ETA {format_seconds(self.eta(now))}" if self.total is not None else ""
            text = f"{head}{count} {units}{pct}  {rate}  elapsed {format_seconds(self.elapsed(now))}{eta}"
        post = format_postfix(self._postfix)
        return f"{text}  {post}" if post else text

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


def iterate(iterable: Iterable[T], total: int | None = None, desc: str = "", **options: Any) -> Iterator[T]:
    """Yield the items of ``iterable`` and count each one (``options`` as for :class:`Progress`)."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, desc, **options) as p:
        for item in iterable:
            yield item
            p.update(1)


def note(message: str, *, enabled: bool = True, stream: TextIO | None = None) -> None:
    """One line saying what is being done now (on a terminal written so that open bars stay intact)."""
    if not enabled:
        return
    stream = stream if stream is not None else sys.stderr
    if is_terminal(stream):
        from tqdm.auto import tqdm

        tqdm.write(message, file=stream)
    else:
        print(message, file=stream, flush=True)


__all__ = [
    "DEFAULT_INTERVAL",
    "INTERVAL_ENV",
    "Progress",
    "format_postfix",
    "format_seconds",
    "is_terminal",
    "iterate",
    "note",
    "progress_interval",
]
