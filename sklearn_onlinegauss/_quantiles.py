"""Quantiles of a stream's squared Mahalanobis distances in constant memory.

Each row is scored by the Gaussian right after it joined the estimate: an
in-sample squared distance ``D`` under the maximum-likelihood estimate of
``n`` rows in ``d`` dimensions, for which ``D / (n - 1)`` follows
``Beta(d / 2, (n - d - 1) / 2)`` when the rows are Gaussian. Rows scored
early, by a Gaussian of few rows, have distances squeezed toward that
bound; so each distance is kept as its upper-tail probability ``p`` under
that law (``n`` the effective number of rows at the time), which does not
depend on ``n``, and a quantile of ``p`` is read back as a distance with the
current ``n``. For Gaussian rows this makes the stream's rows exchangeable
whatever ``n`` was when they were scored; for others it keeps each row's rank
among the rows of its time, and the threshold the ``contamination`` fraction
of the stream, while large ``n`` makes the map the identity.

The ``p`` are kept in a weighted histogram of ``v = -ln p`` over bins
evenly spaced in ``log v`` from ``1e-8`` to ``1e5``: 8192 bins, each 0.37%
of ``v`` wide, so a quantile is read to ``0.0037 v`` in ``ln p`` (1.7% of
``p`` at ``p = 0.01``; heavy tails, where ``p`` underflows, land in the last
bin). It pools like the Gaussian it scores: before
a batch joins, it keeps ``retain`` of its mass and each row brings the
weight the schedule gives it (``Rate.pooling``), so it forgets at the
Gaussian's rate; its sum of squared weights gives the effective number of
rows, ``1 / sum w**2`` (exactly ``t`` for ``'optimal'``).
"""

import math
from typing import NamedTuple

import numpy as np
from scipy.special import betainc, betaincinv, betaln, chdtri

__all__ = ["DistanceHistogram", "pool_distances", "upper_quantile", "upper_tail"]

_LOWEST, _DECADES, _BINS = -8.0, 13.0, 8192
_PER_DECADE = _BINS / _DECADES
#: Levels within this share of the total mass of a cumulative mass are that
#: mass: each bin's mass and each sum carry a rounding of about one ``eps``
#: per pooling and per bin added, which this covers for thousands of each.
_TIE = 1e-12


class DistanceHistogram(NamedTuple):
    """Mass over ``log10(-ln p)`` bins, and the sum of the squared pooling weights."""

    mass: np.ndarray
    squares: float

    @classmethod
    def empty(cls):
        return cls(np.zeros(_BINS), 0.0)

    @property
    def effective_rows(self):
        return 1.0 / self.squares if self.squares > 0 else 0.0


def pool_distances(histogram, distances, n_features, weights, retain):
    """The histogram with the rows' in-sample squared ``distances`` pooled in.

    ``weights`` (a float, or one per row) and ``retain`` are the rows' and
    the old mass's pooling shares, as :meth:`~._schedules.Rate.pooling`
    gives for the rows that the Gaussian scoring them has just learned.
    """
    weights = np.broadcast_to(weights, distances.shape)
    squares = histogram.squares * retain**2 + float(weights @ weights)
    with np.errstate(divide="ignore"):
        v = -np.log(upper_tail(distances, n_features, 1.0 / squares))
        position = (np.log10(v) - _LOWEST) * _PER_DECADE
    index = np.clip(np.nan_to_num(position, neginf=0.0), 0, _BINS - 1).astype(np.intp)
    added = np.bincount(index, weights=weights, minlength=_BINS)
    return DistanceHistogram(histogram.mass * retain + added, squares)


def upper_quantile(histogram, fraction, n_features):
    """The squared distance beyond which ``fraction`` of the stream's mass lies.

    Mass is uniform within a bin. A level that falls on a bin's lower edge
    with empty bins below it (up to ``_TIE`` of the total mass, the
    rounding of the sums) reads the middle of that gap, as a median of an
    even number of rows does: read as either end, rounding alone would
    pick the end, so weights scaled by a constant would move the threshold
    across the gap.
    """
    mass = histogram.mass  # bin 0 holds p near 1, the last bin the smallest p
    filled = np.flatnonzero(mass)
    above = mass[::-1].cumsum()[::-1][filled]  # mass in each filled bin and past it
    target, tie = fraction * above[0], _TIE * above[0]
    i = int(np.flatnonzero(above >= target - tie)[-1])
    b = filled[i]
    if i > 0 and above[i] - target <= tie:  # on b's lower edge
        position = 0.5 * (filled[i - 1] + 1 + b)
    else:
        position = b + 1 - min((target - above[i] + mass[b]) / mass[b], 1.0)
    p = np.exp(-(10.0 ** (_LOWEST + position / _PER_DECADE)))
    return _distance(p, n_features, histogram.effective_rows)


def upper_tail(distances, d, n):
    """Upper-tail probability of each in-sample squared distance among ``n`` rows."""
    if n <= d + 1:  # a Gaussian of so few rows is singular: its distances say nothing
        return np.full(distances.shape, 0.5)
    # Beta(a, b)'s upper tail at x is Beta(b, a)'s lower one at 1 - x; the
    # special function itself, without scipy.stats' per-call machinery.
    return betainc((n - d - 1) / 2, d / 2, 1.0 - np.clip(distances / (n - 1), 0.0, 1.0))


def _distance(p, d, n):
    """The in-sample squared distance among ``n`` rows with upper-tail probability ``p``."""
    if n <= d + 1:
        return float(chdtri(d, p))
    a, b = (n - d - 1) / 2, d / 2
    x = betaincinv(a, b, p)
    if not np.isfinite(x):  # p too small for scipy's inverse: its leading term there,
        # I_x(a, b) ~ x**a / (a B(a, b)), is x = (p a B(a, b))**(1/a), 0 where p is
        x = math.exp((math.log(p) + math.log(a) + betaln(a, b)) / a) if p > 0 else 0.0
    return float((n - 1) * (1.0 - x))
