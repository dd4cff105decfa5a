"""Synthetic deviation-count histories for judging the forum's signal detection (avvikelser/signals_spc.py).

A series stands for one category × direction (reporting organisation → counterpart) and holds monthly counts:

- a base monthly rate drawn from U(1.5, 9);
- mild seasonality: the rate is multiplied by 1 + A·sin(2π·t/12 + φ) with A = 0.15 and a random phase φ per
  series (or one shared phase, ``shared_phase=True``, for a common seasonal profile);
- Poisson counts;
- for a ``rise_share`` of the series a planted, sustained step rise: from ``rise_start`` on the rate is
  multiplied by a factor drawn from U(2, 3). ``rise_start`` is drawn uniformly so that at least
  ``min_baseline`` (18) periods precede it and at least ``min_after`` (3) periods follow.

Everything is drawn from one ``random.Random(seed)``, so a seed gives the same histories on every run (the
Poisson draws use ``math.exp``, so another platform could in principle differ in a rare last bit). Pure Python.

Run ``python -m bench.synthetic_series`` for the detection-quality and timing figures quoted in docs/signals.md.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    """One synthetic history. ``rates`` is the true mean of each period; ``rise_start`` is None without a rise."""

    counts: list[int]
    rates: list[float]
    base_rate: float
    rise_start: int | None = None
    rise_factor: float | None = None
    phase: float = 0.0

    @property
    def has_rise(self) -> bool:
        return self.rise_start is not None


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by inversion (sequential search), exact for the small means used here (< 40)."""
    if mean <= 0:
        return 0
    u = rng.random()
    term = math.exp(-mean)
    cumulative = term
    k = 0
    while u > cumulative and term > 0:
        k += 1
        term *= mean / k
        cumulative += term
    return k


def generate(
    n_series: int,
    n_periods: int = 48,
    seed: int = 20240501,
    rise_share: float = 0.3,
    *,
    base_range: tuple[float, float] = (1.5, 9.0),
    factor_range: tuple[float, float] = (2.0, 3.0),
    seasonal_amplitude: float = 0.15,
    season_length: int = 12,
    shared_phase: bool = False,
    min_baseline: int = 18,
    min_after: int = 3,
) -> list[Series]:
    """``n_series`` synthetic histories of ``n_periods`` monthly counts, deterministic for a given ``seed``."""
    if n_periods < min_baseline + min_after:
        raise ValueError("n_periods must leave room for the baseline and the periods after a rise")
    rng = random.Random(seed)
    common_phase = rng.uniform(0.0, 2 * math.pi)
    out: list[Series] = []
    for _ in range(n_series):
        base = rng.uniform(*base_range)
        phase = common_phase if shared_phase else rng.uniform(0.0, 2 * math.pi)
        rise_start = rise_factor = None
        if rng.random() < rise_share:
            rise_start = rng.randint(min_baseline, n_periods - min_after)
            rise_factor = rng.uniform(*factor_range)
        rates = []
        for t in range(n_periods):
            rate = base * (1.0 + seasonal_amplitude * math.sin(2 * math.pi * t / season_length + phase))
            if rise_start is not None and t >= rise_start:
                rate *= rise_factor
            rates.append(rate)
        counts = [poisson(rng, rate) for rate in rates]
        out.append(Series(counts, rates, base, rise_start, rise_factor, phase))
    return out


def planted(
    base_rate: float,
    n_periods: int = 48,
    seed: int = 1,
    *,
    rise_start: int | None = None,
    rise_factor: float = 3.0,
    seasonal_amplitude: float = 0.15,
    season_length: int = 12,
    phase: float = 0.0,
) -> Series:
    """One series at ``base_rate`` with, if ``rise_start`` is given, a step rise of ``rise_factor`` from then on."""
    rng = random.Random(seed)
    rates = []
    for t in range(n_periods):
        rate = base_rate * (1.0 + seasonal_amplitude * math.sin(2 * math.pi * t / season_length + phase))
        if rise_start is not None and t >= rise_start:
            rate *= rise_factor
        rates.append(rate)
    counts = [poisson(rng, rate) for rate in rates]
    return Series(counts, rates, base_rate, rise_start, rise_factor if rise_start is not None else None, phase)


@dataclass(frozen=True)
class Quality:
    """Detection quality over a set of series."""

    rises: int  # series with a planted rise
    detected: int  # of those, flagged at a period in [rise_start, rise_start + within)
    quiet_points: int  # monitored points without a rise (series without a rise + pre-rise points)
    false_flags: int  # of those, flagged
    quiet_series: int  # series without a rise
    quiet_series_flagged: int  # of those, with at least one flag

    @property
    def detection_rate(self) -> float:
        return self.detected / self.rises if self.rises else float("nan")

    @property
    def false_flag_rate(self) -> float:
        return self.false_flags / self.quiet_points if self.quiet_points else float("nan")

    @property
    def quiet_series_flag_rate(self) -> float:
        return self.quiet_series_flagged / self.quiet_series if self.quiet_series else float("nan")


def evaluate(series: list[Series], flagged, *, within: int = 3, monitor_from: int = 12) -> Quality:
    """Score a detector. ``flagged(counts) -> set of flagged period indices``.

    A rise counts as detected when a period ``rise_start <= t < rise_start + within`` is flagged (``within=3``: the
    first, second or third period of the rise). False flags are counted over the monitored periods
    (``t >= monitor_from``, the same for every method) that have no rise.
    """
    rises = detected = quiet_points = false_flags = quiet_series = quiet_flagged = 0
    for s in series:
        flags = flagged(s.counts)
        end = s.rise_start if s.has_rise else len(s.counts)
        quiet = range(monitor_from, end)
        quiet_points += len(quiet)
        false_flags += sum(1 for t in quiet if t in flags)
        if s.has_rise:
            rises += 1
            detected += any(t in flags for t in range(s.rise_start, s.rise_start + within))
        else:
            quiet_series += 1
            quiet_flagged += any(t in flags for t in quiet)
    return Quality(rises, detected, quiet_points, false_flags, quiet_series, quiet_flagged)


def _expanding_three_sigma(counts: list[int], min_baseline: int = 12) -> set[int]:
    """Comparison only: the c-chart 'outside' rule on an expanding baseline of the unflagged earlier periods."""
    flags: set[int] = set()
    total = n = 0
    for t, c in enumerate(counts):
        if n >= min_baseline:
            centre = total / n
            if c > centre + 3 * math.sqrt(centre) or c < centre - 3 * math.sqrt(centre):
                flags.add(t)
                continue
        total += c
        n += 1
    return flags


def _report(n_series: int, n_periods: int, seeds: list[int], timing: bool) -> None:  # pragma: no cover - manual
    from avvikelser.signals_spc import OUTSIDE, detect

    def by(method, only=None, **options):
        def flagged(counts):
            return {s.index for s in detect(counts, method=method, **options) if only is None or s.rules & only}
        return flagged

    detectors = {
        "textbook c-chart, outside+run8+trend6": by("textbook"),
        "textbook c-chart, outside only": by("textbook", {OUTSIDE}),
        "expanding-baseline c-chart, outside": _expanding_three_sigma,
        "default without seasonal adjustment": by("default", season_length=None),
        "default": by("default"),
        "default, signals also 'outside'": by("default", {OUTSIDE}),
    }
    for seed in seeds:
        data = generate(n_series, n_periods, seed=seed)
        print(f"\n{n_series} series × {n_periods} periods, seed {seed}")
        print(f"{'method':<40} {'rises in 3 periods':>18} {'in 4':>6} {'false flags':>12} {'quiet series':>13}")
        for name, flagged in detectors.items():
            q3 = evaluate(data, flagged, within=3)
            q4 = evaluate(data, flagged, within=4)
            print(f"{name:<40} {q3.detection_rate:>18.1%} {q4.detection_rate:>6.1%} {q3.false_flag_rate:>12.2%} "
                  f"{q3.quiet_series_flag_rate:>13.1%}")

    if timing:
        big = generate(10_000, 60, seed=12345)
        for method in ("default", "textbook"):
            started = time.process_time()
            for s in big:
                detect(s.counts, method=method)
            print(f"detect(method={method!r}) on 10 000 series × 60 periods: {time.process_time() - started:.2f} s CPU")


if __name__ == "__main__":  # pragma: no cover
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--periods", type=int, default=48)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--no-timing", action="store_true")
    arguments = parser.parse_args()
    _report(arguments.series, arguments.periods, arguments.seeds, not arguments.no_timing)
