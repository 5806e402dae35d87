"""The stopping rules of ``fit``'s epochs: called with the curve so far, True to stop."""

import numpy as np

__all__ = ["NoImprovement", "Steady"]


class NoImprovement:
    """``fit``'s stopping rule: no improvement of the loss by ``tol`` for ``n_iter_no_change``.

    With ``learning_rate='adaptive'`` it first divides ``eta0`` by 5 (as
    ``SGDRegressor`` does), down to 1e-6.
    """

    def __init__(self, estimator):
        self.estimator, self.eta0, self.best, self.stalled = estimator, None, np.inf, 0

    def note(self):
        eta0 = self.estimator.eta0 if self.eta0 is None else self.eta0
        return f", eta0: {eta0:.3g}"

    def __call__(self, curve):
        est = self.estimator
        if est.tol is None:
            return False
        self.stalled = self.stalled + 1 if curve[-1] > self.best - est.tol else 0
        self.best = min(self.best, curve[-1])
        if self.stalled < est.n_iter_no_change:
            return False
        eta0 = est.eta0 if self.eta0 is None else self.eta0
        if est.learning_rate == "adaptive" and eta0 > 1e-6:
            self.eta0, self.stalled = eta0 / 5, 0
            return False
        return True


class Steady:
    """``fit``'s stopping rule: the mean log-likelihood changed by less than ``tol``."""

    eta0 = None

    def __init__(self, tol):
        self.tol = tol

    def note(self):
        return ""

    def __call__(self, curve):
        return len(curve) > 1 and abs(curve[-1] - curve[-2]) < self.tol
