"""The stopping rules of ``fit``'s epochs: called after each epoch, True to stop.

A rule has ``eta0`` (the rate of the next epoch, None: the parameter's),
``converged`` and ``message`` (why it stopped unsettled, or None), and
``note()`` (what ``verbose`` prints after an epoch).
"""

import math

import numpy as np
from scipy.linalg import LinAlgError

from ._averaging import averaging_start
from ._linalg import cholesky_lower, solve_lower

__all__ = ["Settled", "rows_and_unit", "stationary_variance"]

#: The share of the distance still to go that a window of epochs must remove
#: before its movement says how far the estimate still is from where it settles.
WINDOW_RETENTION = 0.5
#: SGDRegressor's floor of the adaptive rate.
SMALLEST_ADAPTIVE_RATE = 1e-6


def rows_and_unit(X, w):
    """``(rows, unit)``: the weight in rows, and what one row weighs.

    As the warm-up and the detector count them: the smallest positive weight
    is one row, so scaling every weight changes nothing and integer weights
    with a 1 among them count as the repeated rows.
    """
    if w is None:
        return len(X), 1.0
    unit = float(w[w > 0].min())
    return float(w.sum()) / unit, unit


def stationary_variance(rate, n_rows):
    """Variance per parameter, in the Fisher metric, that a rate-``rate`` iterate keeps.

    The stationary spread of the epoch-end estimate of a constant per-row
    ``rate`` cycling over ``n_rows`` rows, each epoch a fresh permutation
    (docs/theory.rst, "When fit stops"): ``rate / (2 - rate) - (1 - r) /
    (n_rows (1 + r))`` with ``r = (1 - rate) ** n_rows``; about ``rate / 2``
    when an epoch is longer than the memory, ``n_rows**2 rate**3 / 24`` when
    it is much shorter.
    """
    if rate >= 1:
        return 1.0 - 1.0 / n_rows
    if rate <= 0:
        return 0.0
    r = math.exp(n_rows * math.log1p(-rate))
    return max(rate / (2 - rate) - (1 - r) / (n_rows * (1 + r)), 0.0)


def fisher_distance2(a, b):
    """Squared Fisher-Rao distance, to second order, of two reads ``(weights, locations,
    lower Cholesky factors)``: the symmetric KL divergence (its log-determinants cancel),
    summed over components weighted by ``a``'s weights."""
    if a[2] is None or b[2] is None:
        return math.inf
    shares, total = a[0] / a[0].sum(), 0.0
    for k, share in enumerate(shares):
        La, Lb, delta = a[2][k], b[2][k], (a[1][k] - b[1][k])[:, None]
        ab, ba = solve_lower(Lb, La), solve_lower(La, Lb)
        means = solve_lower(La, delta), solve_lower(Lb, delta)
        spread = np.sum(ab * ab) + np.sum(ba * ba) - 2 * len(La)
        total += share * 0.5 * (spread + np.sum(means[0] ** 2) + np.sum(means[1] ** 2))
    return max(float(total), 0.0) if np.isfinite(total) else math.inf  # rounding: >= 0


class Settled:
    """``fit``'s rule for the schedules that are not exact: stop when the estimate has settled.

    After epoch ``k`` the estimate still moves toward where its schedule
    settles; a schedule that keeps a share ``R`` of that distance over the
    last epochs moved it by ``(1 - R)`` of it, so the distance still to go
    is ``R / (1 - R)`` times that movement (measured in the Fisher metric,
    over the shortest window with ``R <= 1/2``). The estimate has settled
    when that distance squared is below twice the schedule's own noise (the
    variance :func:`stationary_variance` times the number of parameters) or
    twice ``tol``. ``'adaptive'`` then divides ``eta0`` by 5 while its noise
    exceeds ``tol``. A setting whose remaining ``max_iter`` epochs cannot bring
    the distance under the bound stops at once, unconverged.
    docs/theory.rst, "When fit stops", derives it.
    """

    def __init__(self, estimator, n_rows, unit=1.0):
        # Rows and what one weighs (rows_and_unit): the noise is a per-row rate's
        # over rows, so scaling every weight changes nothing.
        self.estimator, self.n_rows, self.unit, self.eta0 = estimator, n_rows, unit, None
        self.converged, self.message, self.history, self._last = True, None, [], ""

    def _rate(self):
        est = self.estimator
        return est._rate(self.eta0), est.eta0 if self.eta0 is None else self.eta0

    def note(self):
        return self._last

    def _reading(self, read):
        est = self.estimator
        state, _ = read()
        try:
            factors = [cholesky_lower(c) for c in est._structure().to_full(state)]
        except LinAlgError:  # not numerically positive definite: no distance, not settled
            factors = None
        return state.weights, state.locations, factors

    def _log_retention(self, t_before, weight):
        """Log of the share of the distance to go that ``weight`` more rows keep."""
        est = self.estimator
        rate, eta0 = self._rate()
        if t_before <= 0:  # the estimate starts at the first row: nothing was kept
            return -math.inf
        with np.errstate(all="ignore"):
            kept = rate.schedule.log_retention(np.float64(t_before), weight, eta0, est.power_t)
        kept = 0.0 if np.isnan(kept) else float(kept)  # unknown: as if it forgot nothing
        start = averaging_start(getattr(est, "average", False))
        if start is not None and t_before > start:  # the average forgets like 1 / t
            kept = max(kept, math.log((t_before - start) / (t_before + weight - start)))
        return kept

    def _noise(self, carry):
        """Twice the squared standard error of the estimate, all parameters together.

        A component of share ``s`` of the weight takes ``s`` of the rows, each
        at ``1 / s`` times the rate: :func:`stationary_variance` of those.
        """
        est = self.estimator
        rate, _ = self._rate()
        weights, locations, _ = self.history[-1][1]
        (K, d), shares = locations.shape, weights / weights.sum()
        per_component = (est._structure().n_parameters(K, d) - (K - 1)) / K
        per_row = rate.per_sample(carry.t) * self.unit
        spread = sum(
            s * stationary_variance(per_row / s, self.n_rows * s) for s in shares if s > 0
        )
        return 2.0 * per_component * spread

    def __call__(self, curve, carry, read):
        """After an epoch: True to stop. ``read()`` is ``estimator._read(carry)``."""
        est = self.estimator
        t_before = self.history[-1][0] if self.history else 0.0
        weight = carry.t - t_before
        self.history.append((carry.t, self._reading(read), self._log_retention(t_before, weight)))
        if est.tol is None or len(self.history) < 2:
            return False
        log_kept, back = 0.0, len(self.history) - 1
        while back > 0:  # the shortest window that forgets half of what was to go
            log_kept += self.history[back][2]
            back -= 1
            if log_kept <= math.log(WINDOW_RETENTION):
                break
        kept = math.exp(log_kept)
        moved = fisher_distance2(self.history[back][1], self.history[-1][1])
        if kept == 0 or moved == 0:  # all forgotten, or nothing moves: where it settles
            to_go = 0.0
        else:
            to_go = moved * (kept / (1 - kept)) ** 2 if kept < 1 else math.inf
        noise = self._noise(carry)
        bound = max(noise, 2.0 * est.tol)
        _, eta0 = self._rate()
        self._last = f", distance to go {math.sqrt(to_go):.3g} (bound {math.sqrt(bound):.3g})"
        self._last += f", eta0: {eta0:.3g}" if est.learning_rate == "adaptive" else ""
        if to_go <= bound:
            if est.learning_rate == "adaptive" and noise > 2.0 * est.tol:
                if eta0 / 5 >= SMALLEST_ADAPTIVE_RATE:
                    self.eta0 = eta0 / 5
                    return False
            return True
        epochs_left = est.max_iter - (len(self.history))
        left = math.exp(self._log_retention(carry.t, epochs_left * weight)) if epochs_left else 1
        if to_go * left**2 > bound:
            self.converged = False
            self.message = (
                f"fit stopped after {len(self.history)} epochs: with learning_rate="
                f"{est.learning_rate!r} and eta0={eta0:.3g} the estimate is still "
                f"{math.sqrt(to_go):.3g} (Fisher distance) from where it settles, and the "
                f"{epochs_left} epochs left of max_iter={est.max_iter} would keep "
                f"{left:.0%} of that, more than its noise or tol allow "
                f"({math.sqrt(bound):.3g}). Increase eta0 or max_iter, or use the default "
                "learning_rate='optimal' (the exact estimate in one pass)."
            )
            return True
        return False
