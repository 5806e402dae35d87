"""Learning-rate schedules: how much of the estimate each sample replaces.

``t`` counts samples (total sample weight), so it survives mini-batching,
``partial_fit`` and pickling. A schedule gives two things:

- ``rate(t, eta0, power_t)``: the per-sample rate at ``t`` (the batch of
  weight ``w`` ending at ``t`` takes one Euclidean step of ``w * rate``);
- ``log_retention(t_before, w, eta0, power_t)``: for rows of weight ``w``
  arriving after weight ``t_before``, the log of the fraction of the estimate
  each row keeps. The natural solver pools with these (:ref:`theory-pooling`):
  they compose, so rows one at a time, any batching and an integer weight
  ``k`` in place of ``k`` repeated rows give the same estimate.

Per schedule, a row of weight ``w`` after ``t`` samples keeps:

- ``'optimal'``: ``t / (t + w)``: the running maximum-likelihood estimate;
- ``'constant'``: ``(1 - eta0) ** w``: pandas' ``ewm(alpha=eta0, adjust=False)``;
- ``'invscaling'``: ``exp(-eta0 * integral from t to t + w of s ** -power_t ds)``,
  the per-sample rate ``eta0 / t ** power_t`` compounded continuously (with
  ``power_t = 1`` and ``eta0 = 1`` this is exactly ``'optimal'``).

The first row of a fresh estimate keeps nothing: the state starts at the
first row, as pandas' ``ewm(adjust=False)`` and river do.
"""

import math
from typing import NamedTuple

import numpy as np

from ._compat import InvalidParameterError

__all__ = ["SCHEDULES", "Rate", "check_pooling_rate"]


def _constant_rate(t, eta0, power_t):
    return eta0


def _optimal_rate(t, eta0, power_t):
    return 1.0 / t


def _invscaling_rate(t, eta0, power_t):
    return eta0 * t ** (-power_t)  # underflows to 0 where eta0 / t**power_t would overflow


def _constant_retention(t_before, w, eta0, power_t):
    return w * math.log1p(-eta0) if eta0 < 1 else np.where(w > 0, -np.inf, 0.0)


def _optimal_retention(t_before, w, eta0, power_t):
    return np.log1p(-w / (t_before + w))


def _invscaling_retention(t_before, w, eta0, power_t):
    t_after = t_before + w
    log_kept = np.log1p(-w / t_after)
    if power_t == 1:
        return eta0 * log_kept
    p = 1.0 - power_t
    with np.errstate(over="ignore", invalid="ignore"):
        # (t_after**p - t_before**p) / p, without cancellation when w << t ...
        integral = -(t_after**p) * np.expm1(p * log_kept) / p
        if p < 0:  # ... which overflows for power_t > 1 when w >> t: there, directly
            direct = (t_before**p - t_after**p) / -p
            integral = np.where(np.isfinite(integral), integral, direct)
    return -eta0 * np.where(np.isnan(integral), np.inf, integral)  # inf - inf: both huge


def check_pooling_rate(learning_rate, eta0):
    """Refuse a constant rate that pooling cannot take: eta0 is a fraction, below 1."""
    if learning_rate in ("constant", "adaptive") and eta0 >= 1:
        raise InvalidParameterError(
            f"eta0={eta0!r}: with the natural step and learning_rate={learning_rate!r}, eta0 "
            "is the fraction of the estimate each row replaces, and must be below 1 (1 would "
            "keep only the last row)."
        )


class Schedule(NamedTuple):
    rate: object
    log_retention: object


#: Public name -> :class:`Schedule`. ``'adaptive'`` is ``'constant'`` at a rate
#: the estimator divides by 5 when ``fit`` stops improving (the SGDRegressor rule).
SCHEDULES = {
    "optimal": Schedule(_optimal_rate, _optimal_retention),
    "constant": Schedule(_constant_rate, _constant_retention),
    "invscaling": Schedule(_invscaling_rate, _invscaling_retention),
    "adaptive": Schedule(_constant_rate, _constant_retention),
}


class Rate:
    """A schedule with its ``eta0`` and ``power_t``: what one pass of steps reads."""

    def __init__(self, name, eta0, power_t):
        self.name = name
        self.schedule = SCHEDULES[name]
        self.eta0 = eta0
        self.power_t = power_t

    def per_sample(self, t):
        """The per-sample rate at total weight ``t``."""
        return self.schedule.rate(t, self.eta0, self.power_t)

    def pooling(self, t, w, n_rows):
        """Pooling weights of a batch's rows, and the retention of the estimate before it.

        Parameters
        ----------
        t : float
            Weight seen before the batch.
        w : ndarray of shape (n_rows,) or None
            Sample weights (None: unit weights).
        n_rows : int

        Returns
        -------
        weights : float or ndarray of shape (n_rows,)
            Each row's share of the new estimate (a float when all are equal).
        retain : float
            The old estimate's share; ``retain + sum(weights) == 1``.
        """
        if self.name == "optimal":  # closed form, exact
            total = t + (n_rows if w is None else w.sum())
            return (1.0 / total if w is None else w / total), t / total
        if n_rows == 1:  # the streaming case, in Python scalars
            weight = 1.0 if w is None else float(w[0])
            if weight <= 0:
                return 0.0, 1.0
            if t == 0:  # the state starts at the first row
                return 1.0, 0.0
            log_kept = float(self.schedule.log_retention(t, weight, self.eta0, self.power_t))
            return -math.expm1(log_kept), math.exp(log_kept)
        if w is None:
            w = np.ones(n_rows)
        t_before = t + np.cumsum(w) - w
        with np.errstate(divide="ignore", invalid="ignore"):
            log_kept = np.where(
                w > 0, self.schedule.log_retention(t_before, w, self.eta0, self.power_t), 0.0
            )
        log_kept[(t_before == 0) & (w > 0)] = -np.inf  # the state starts at the first row
        # Row i's share: its rate times what every later row keeps of it.
        later = np.zeros(n_rows)
        np.cumsum(log_kept[:0:-1], out=later[-2::-1])
        return -np.expm1(log_kept) * np.exp(later), math.exp(later[0] + log_kept[0])
