"""Signals in deviation-count series for the forum (styrgrupp): statistical process control and a Poisson rate test.

A series is the count of collaboration deviations per period for one category × direction (reporting organisation →
counterpart organisation), optionally with an exposure per period (e.g. active SIPs / 100) to make it a rate.

Two kinds of tools live here:

- the textbook charts the forum knows from Swedish health-care improvement work (styrdiagram): ``c_chart`` (counts,
  c̄ ± 3√c̄, lower limit not below 0), ``u_chart`` (rates, ū ± 3√(ū/nᵢ)) and ``run_rules`` (a point outside the
  limits; 8 consecutive points on one side of the centre; 6 points steadily rising or falling);
- ``detect``, which flags the periods of a series. ``method="default"`` is the method the pattern view uses: an
  expanding, self-cleaning baseline with a mild seasonal adjustment, and exact one-sided Poisson rate tests of the
  last 1, 2 and 3 periods against it. ``method="textbook"`` is the classic c-/u-chart on a fixed 12-period
  baseline with the three run rules, kept for comparison and for anyone who wants the chart as drawn by hand.

Why the default is not the textbook chart, the measured figures and the parameters: docs/signals.md.

Pure Python (``math`` only); a series of n periods costs O(n).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

OUTSIDE = "outside"  # beyond the 3-sigma limits
RUN8 = "run8"  # 8 consecutive points on one side of the centre
TREND6 = "trend6"  # 6 points steadily rising or falling
POISSON = "poisson"  # this period alone is improbably high against the baseline
WINDOW2 = "window2"  # the last 2 periods together
WINDOW3 = "window3"  # the last 3 periods together
WINDOW_RULES = (POISSON, WINDOW2, WINDOW3)

TEXTBOOK_BASELINE = 12
# Per-test false-alarm rates of the default method for windows of 1, 2 and 3 periods; tuned on the synthetic
# histories of bench/synthetic_series.py to flag ≤ 1 % of points without a rise (docs/signals.md).
DEFAULT_ALPHAS = (0.001, 0.002, 0.008)
DEFAULT_MIN_BASELINE = 12
DEFAULT_SEASON_LENGTH = 12
DEFAULT_SEASON_SHRINK = 2.0
MAX_SEASONAL_AMPLITUDE = 0.5


@dataclass(frozen=True)
class Signal:
    """A flagged period.

    ``value`` and ``expected`` are in the series' own unit: counts, or rates (count / exposure) when exposures are
    given. ``expected`` is what the baseline predicts for this period (the centre line; for the default method
    seasonally adjusted). ``p_value`` is the smallest one-sided p-value of the Poisson tests that fired, None when
    only chart rules fired.
    """

    index: int
    rules: frozenset[str]
    value: float
    expected: float
    p_value: float | None = None


# --- textbook charts -------------------------------------------------------------------------------------------


def c_chart(counts: Sequence[int], baseline: int | None = None) -> dict[str, float]:
    """Centre and 3-sigma limits of a c-chart: c̄ ± 3√c̄, the lower limit not below 0.

    ``baseline``: how many leading periods estimate c̄ (None: all of them).
    """
    base = _baseline_slice(counts, baseline)
    centre = sum(base) / len(base)
    spread = 3.0 * math.sqrt(centre)
    return {"centre": centre, "upper": centre + spread, "lower": max(0.0, centre - spread)}


def u_chart(counts: Sequence[int], exposures: Sequence[float], baseline: int | None = None) -> dict:
    """Centre and per-period 3-sigma limits of a u-chart: ū ± 3√(ū/nᵢ), the lower limit not below 0.

    ``exposures`` (nᵢ) is the size of each period, e.g. active SIPs / 100. ū is Σc / Σn over the ``baseline``
    leading periods (None: all). Returns ``centre`` (float), ``upper`` and ``lower`` (one per period) and
    ``values`` (the rates cᵢ/nᵢ the limits apply to).
    """
    _check(counts, exposures)
    base_counts = _baseline_slice(counts, baseline)
    base_exposure = sum(exposures[: len(base_counts)])
    centre = sum(base_counts) / base_exposure
    upper, lower = [], []
    for n in exposures:
        spread = 3.0 * math.sqrt(centre / n)
        upper.append(centre + spread)
        lower.append(max(0.0, centre - spread))
    return {"centre": centre, "upper": upper, "lower": lower,
            "values": [c / n for c, n in zip(counts, exposures, strict=True)]}


def run_rules(values: Sequence[float], centre: float | Sequence[float], upper: float | Sequence[float],
              lower: float | Sequence[float]) -> list[set[str]]:
    """The rules that fire at each point (Western Electric / Nelson), as a set per point.

    - ``"outside"``: the point is above ``upper`` or below ``lower`` (a point on a limit is inside);
    - ``"run8"``: the point is the 8th (or later) of consecutive points strictly on the same side of the centre
      (a point on the centre breaks the run);
    - ``"trend6"``: the point is the 6th (or later) of points each strictly above (or below) the one before
      (a tie breaks the run).

    ``centre``, ``upper`` and ``lower`` are numbers or one number per point (u-chart).
    """
    n = len(values)
    centres, uppers, lowers = _per_point(centre, n), _per_point(upper, n), _per_point(lower, n)
    fired: list[set[str]] = [set() for _ in range(n)]
    side = side_run = 0
    direction = trend_run = 0
    previous = None
    for i, v in enumerate(values):
        if v > uppers[i] or v < lowers[i]:
            fired[i].add(OUTSIDE)
        s = (v > centres[i]) - (v < centres[i])
        side_run = side_run + 1 if s and s == side else (1 if s else 0)
        side = s
        if side_run >= 8:
            fired[i].add(RUN8)
        if previous is not None:
            d = (v > previous) - (v < previous)
            trend_run = trend_run + 1 if d and d == direction else (2 if d else 1)
            direction = d
            if trend_run >= 6:
                fired[i].add(TREND6)
        previous = v
    return fired


# --- detection ------------------------------------------------------------------------------------------------


def detect(counts: Sequence[int], *, exposures: Sequence[float] | None = None, method: str = "default",
           alphas: Sequence[float] = DEFAULT_ALPHAS, min_baseline: int = DEFAULT_MIN_BASELINE,
           season_length: int | None = DEFAULT_SEASON_LENGTH,
           season_shrink: float = DEFAULT_SEASON_SHRINK) -> list[Signal]:
    """The flagged periods of a series, oldest first.

    ``method="default"``, for each period t once ``min_baseline`` periods precede it:

    1. Baseline: every earlier period that is not part of a signal (expanding; a rise does not inflate its own
       baseline). With ``season_length`` set, a single seasonal harmonic (amplitude and phase) is fitted to the
       baseline and shrunk towards no seasonality in proportion to its noise, so short or sparse series are left
       unadjusted.
    2. For the windows of the last 1, 2 and 3 periods (rules ``poisson``, ``window2``, ``window3``): the exact
       one-sided conditional test of two Poisson rates (window against baseline, given their total count: a
       binomial tail), flagged when p ≤ ``alphas[k-1]``. A window that contains an already flagged earlier period
       is not tested again: that evidence has been reported.
    3. A flagged period also carries ``outside`` when it lies above the 3-sigma limit μ + 3√μ of the baseline's
       expected count μ (the c-/u-chart limit, seasonally adjusted), so the chart's vocabulary stays visible.
       ``outside`` does not flag on its own: at these small counts the 3-sigma limit is a much looser test than
       its nominal 0.135 % (about 0.5 % per point at c̄ = 1.5) and would add ~0.7 % false flags.

    The default method flags rises only; a fall is not a signal here (compare periods before and after a measure
    for that). ``min_baseline`` periods (12) must precede a period before it can be flagged.

    ``method="textbook"``: a c-chart (u-chart with exposures) with c̄ from the first 12 periods and the rules
    outside / run8 / trend6 over the whole series.
    """
    _check(counts, exposures)
    if method == "textbook":
        return _detect_textbook(counts, exposures)
    if method != "default":
        raise ValueError(f"unknown method {method!r}")
    if not 1 <= len(alphas) <= 3 or any(not 0 < a < 1 for a in alphas):
        raise ValueError("alphas: one to three false-alarm rates in (0, 1), for windows of 1, 2, 3 periods")
    return _detect_default(counts, exposures, tuple(alphas), max(1, min_baseline), season_length, season_shrink)


def _detect_textbook(counts: Sequence[int], exposures: Sequence[float] | None) -> list[Signal]:
    if not counts:
        return []
    baseline = min(TEXTBOOK_BASELINE, len(counts))
    if exposures is None:
        chart = c_chart(counts, baseline)
        values: Sequence[float] = counts
    else:
        chart = u_chart(counts, exposures, baseline)
        values = chart["values"]
    fired = run_rules(values, chart["centre"], chart["upper"], chart["lower"])
    return [Signal(i, frozenset(rules), values[i], chart["centre"]) for i, rules in enumerate(fired) if rules]


def _detect_default(counts, exposures, alphas, min_baseline, season_length, season_shrink) -> list[Signal]:
    n = len(counts)
    windows = len(alphas)
    log_alphas = [math.log(a) for a in alphas]
    counts = [int(c) for c in counts]
    rates = exposures is not None
    exposure = [float(x) for x in exposures] if rates else [1.0] * n
    cos, sin = _harmonics(season_length, n)
    seasonal_min = max(min_baseline, season_length or 0)
    log_factorial = _log_factorials(sum(counts))

    # What each period contributes to a baseline; zeroed once the period is part of a signal.
    in_count = [0] * n
    in_exposure = [0.0] * n
    in_n = [0] * n
    # Running totals over the periods whose membership is final: those before t - windows + 1, since a signal at t
    # excludes at most the periods t - windows + 1 .. t.
    f_count = f_n = 0
    f_exposure = f_ecos = f_esin = f_ccos = f_csin = f_ecos2 = f_esin2 = 0.0
    final = 0
    flagged = [False] * n
    signals: list[Signal] = []
    rules: set[str] = set()
    log, log1p = math.log, math.log1p
    for t in range(n):
        while final <= t - windows:
            i = final
            c, e = in_count[i], in_exposure[i]
            if in_n[i]:
                f_count += c
                f_n += 1
                f_exposure += e
                f_ecos += e * cos[i]
                f_esin += e * sin[i]
                f_ccos += c * cos[i]
                f_csin += c * sin[i]
                f_ecos2 += e * cos[i] * cos[i]
                f_esin2 += e * sin[i] * sin[i]
            final += 1
        if t < min_baseline:  # no window has a baseline yet
            in_count[t], in_exposure[t], in_n[t] = counts[t], exposure[t], 1
            continue

        # Seasonal harmonic 1 + a·cos + b·sin from the final baseline, shrunk towards 0 by its noise.
        a = b = 0.0
        if season_length and f_n >= seasonal_min and f_count > 0 and f_ecos2 > 0 and f_esin2 > 0:
            level = f_count / f_exposure
            a_raw = (f_ccos - level * f_ecos) / (level * f_ecos2)
            b_raw = (f_csin - level * f_esin) / (level * f_esin2)
            noise = 0.5 * (1.0 / (level * f_ecos2) + 1.0 / (level * f_esin2))
            square = a_raw * a_raw + b_raw * b_raw
            if square > 0:
                keep = max(0.0, 1.0 - season_shrink * noise / square)
                a, b = a_raw * keep, b_raw * keep
                amplitude = math.sqrt(a * a + b * b)
                if amplitude > MAX_SEASONAL_AMPLITUDE:
                    a *= MAX_SEASONAL_AMPLITUDE / amplitude
                    b *= MAX_SEASONAL_AMPLITUDE / amplitude

        # The baseline of the window that starts at t: the final totals plus the not yet final periods before t
        # (seasonally adjusted exposure). Each longer window starts one period earlier and drops that period.
        b_count, b_n = f_count, f_n
        b_exposure = f_exposure + a * f_ecos + b * f_esin
        for i in range(final, t):
            if in_n[i]:
                b_count += in_count[i]
                b_n += 1
                b_exposure += in_exposure[i] * (1.0 + a * cos[i] + b * sin[i])
        t_count, t_exposure = b_count, b_exposure

        longest = 0  # the longest window that fired
        best_p = 2.0
        w_count = 0
        w_exposure = 0.0
        for k in range(1, windows + 1):
            s = t - k + 1
            if k > 1 and (s < 0 or flagged[s]):
                break
            season = 1.0 + a * cos[s] + b * sin[s]
            if k > 1 and in_n[s]:  # the window now starts at s, so s leaves its baseline
                b_count -= in_count[s]
                b_n -= 1
                b_exposure -= in_exposure[s] * season
            w_count += counts[s]
            w_exposure += exposure[s] * season
            if b_n < min_baseline or w_count == 0:
                continue
            total = w_count + b_count
            q = w_exposure / (w_exposure + b_exposure)
            if w_count <= total * q:  # at or below expectation
                continue
            # P(Y = w_count) bounds the tail from below: when it alone exceeds alpha the test cannot fire.
            log_term = (log_factorial[total] - log_factorial[w_count] - log_factorial[b_count]
                        + w_count * log(q) + b_count * log1p(-q))
            if log_term > log_alphas[k - 1]:
                continue
            p = _binomial_tail_from(log_term, w_count, total, q)
            if p <= alphas[k - 1]:
                longest = k
                best_p = min(best_p, p)
                rules.add(WINDOW_RULES[k - 1])

        count_t = counts[t]
        in_count[t], in_exposure[t], in_n[t] = count_t, exposure[t], 1
        if longest:
            expected = exposure[t] * (1.0 + a * cos[t] + b * sin[t]) * t_count / t_exposure
            if count_t > expected + 3.0 * math.sqrt(expected):
                rules.add(OUTSIDE)
            for i in range(t - longest + 1, t + 1):
                in_count[i], in_exposure[i], in_n[i] = 0, 0.0, 0
            flagged[t] = True
            scale = exposure[t] if rates else 1.0
            signals.append(Signal(t, frozenset(rules), count_t / scale, expected / scale, best_p))
            rules = set()
    return signals


# --- exact tails ------------------------------------------------------------------------------------------------

_LOG_FACTORIAL = [0.0]
_HARMONICS: dict[int, tuple[list[float], list[float]]] = {}


def _harmonics(season_length: int | None, n: int) -> tuple[list[float], list[float]]:
    """cos and sin of 2π·t/season_length for t = 0 .. n-1 at least (cached; zeros without a season)."""
    if not season_length:
        return [0.0] * n, [0.0] * n
    cached = _HARMONICS.get(season_length)
    if cached is None or len(cached[0]) < n:
        # Built whole and then published, so concurrent callers never see a half-extended table.
        angle = 2.0 * math.pi / season_length
        size = max(n, 120)
        cached = ([math.cos(angle * (t % season_length)) for t in range(size)],
                  [math.sin(angle * (t % season_length)) for t in range(size)])
        _HARMONICS[season_length] = cached
    return cached


def _log_factorials(n: int) -> list[float]:
    """A table of log(k!) for k = 0 .. n at least (cached; built whole and then published)."""
    global _LOG_FACTORIAL
    table = _LOG_FACTORIAL
    if n >= len(table):
        table = list(table)
        for k in range(len(table), max(n + 1, 2 * len(table))):
            table.append(table[-1] + math.log(k))
        _LOG_FACTORIAL = table
    return table


def _binomial_tail_from(log_term: float, y: int, n: int, q: float) -> float:
    """P(Y ≥ y) for Y ~ Binomial(n, q), y above the mean, given log P(Y = y): the terms fall geometrically."""
    term = math.exp(log_term)
    total = term
    ratio = q / (1.0 - q)
    k = y
    while k < n:
        term *= (n - k) / (k + 1) * ratio
        k += 1
        total += term
        if term <= total * 1e-15:
            break
    return min(1.0, total)


def binomial_upper_tail(y: int, n: int, q: float) -> float:
    """P(Y ≥ y) for Y ~ Binomial(n, q): the p-value of the conditional test of two Poisson rates."""
    if y <= 0:
        return 1.0
    if y > n or q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    lf = _log_factorials(n)

    def log_pmf(k: int) -> float:
        return lf[n] - lf[k] - lf[n - k] + k * math.log(q) + (n - k) * math.log1p(-q)

    if y > n * q:
        return _binomial_tail_from(log_pmf(y), y, n, q)
    return max(0.0, 1.0 - math.fsum(math.exp(log_pmf(k)) for k in range(y)))


# --- helpers --------------------------------------------------------------------------------------------------


def _baseline_slice(counts: Sequence[int], baseline: int | None) -> Sequence[int]:
    if not counts:
        raise ValueError("an empty series has no chart")
    if baseline is not None and baseline < 1:
        raise ValueError("baseline must be at least one period")
    return counts if baseline is None else counts[:baseline]


def _per_point(limit, n: int) -> Sequence[float]:
    if isinstance(limit, int | float):
        return [limit] * n
    if len(limit) != n:
        raise ValueError("one limit per point, or one for all")
    return limit


def _check(counts: Sequence[int], exposures: Sequence[float] | None) -> None:
    if any(c < 0 or c != int(c) for c in counts):
        raise ValueError("counts are whole numbers, not negative")
    if exposures is not None:
        if len(exposures) != len(counts):
            raise ValueError("one exposure per period")
        if any(not x > 0 for x in exposures):
            raise ValueError("exposures must be positive")
