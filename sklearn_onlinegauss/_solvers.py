"""One mini-batch step of each solver, on states that are plain NamedTuples.

A solver holds hyperparameters only.  ``init(X, w)`` builds the state from the
first batch (its exact weighted moments), ``step(state, X, w, eta)`` returns
``(new_state, shrunk)`` and ``moments(state)`` returns ``(mu, Sigma)``.
``w`` are the batch's sample weights (positive total; None for unit
weights), ``eta`` the batch's step size (see ``_schedules``).
"""

import math
from typing import NamedTuple

import numpy as np
from scipy.linalg import LinAlgError

from ._covariance import COVARIANCE_TYPES, cholesky_or_raise, regularize
from ._linalg import cholesky_lower, eigvalsh, solve_lower
from ._optimizers import OPTIMIZERS
from ._parametrizations import PARAMETRIZATIONS

__all__ = [
    "SOLVERS",
    "Euclidean",
    "Natural",
    "batch_moments",
    "make_solver",
    "pool",
    "step_toward",
]

#: A Euclidean step may at most double or halve the covariance in any
#: direction and move the mean by one standard deviation.
TRUST_FACTOR = 2.0
MAX_HALVINGS = 60


def batch_moments(X, w):
    """Total weight, weighted mean and weighted covariance about that mean.

    ``w`` is None for unit weights. Returns ``(W, m, C)`` with shapes ``()``,
    ``(n_features,)``, ``(n_features, n_features)``. Centring before the
    product keeps it exact for data far from the origin (no
    ``E[xx'] - m m'`` cancellation); ``R.T @ R`` of one buffer is a symmetric
    rank-k update (SYRK): half the flops of a general product, and exactly
    symmetric.
    """
    W, m = _mean(X, w)
    if w is None:
        R = X - m
        C = R.T @ R
        C /= W
        return W, m, _representable(C)
    R = (X - m) * np.sqrt(w / W)[:, None]
    return W, m, _representable(R.T @ R)


def _mean(X, w):
    """Total weight and weighted mean of the rows.

    A product with the weights (GEMV) is 2-8 times faster than
    ``X.sum(axis=0)`` on C-ordered rows.
    """
    if w is None:
        return len(X), (np.ones(len(X)) @ X) / len(X)
    W = w.sum()
    return W, (w @ X) / W


def _representable(covariance):
    """``covariance``, or a ValueError if it overflowed float64.

    The trace of a positive semi-definite matrix bounds all its entries, so it
    is the only sum that needs checking (O(n_features), not O(n_features**2)).
    """
    if not math.isfinite(covariance.diagonal().sum()):
        raise ValueError(
            "The covariance overflowed float64: the data's values are too large to "
            "square (the total variance must stay below ~1e308). Rescale the "
            "features, e.g. with sklearn.preprocessing.StandardScaler."
        )
    return covariance


def pool(location, covariance, m, C, eta, project):
    """The natural-gradient step toward moments ``(m, C)``: new ``(location, covariance)``.

    Exact pooling when ``eta`` is their share of the total weight; merging
    fitted states uses it. Steps toward a batch of rows use :func:`step_toward`,
    the same update without the temporaries.
    """
    delta = m - location
    new = eta * C
    new += (1 - eta) * covariance
    scaled = np.sqrt(eta * (1 - eta)) * delta
    new += scaled[:, None] * scaled  # s_i s_j == s_j s_i: exactly symmetric
    return location + eta * delta, _representable(project(new))


def step_toward(location, covariance, X, w, eta, project):
    """The natural-gradient step toward the batch ``X``: new ``(location, covariance)``.

    ``Sigma <- (1 - eta) Sigma + eta C + eta (1 - eta) delta delta'``, with
    ``m, C`` the batch's weighted mean and covariance and ``delta = m - mu``.
    The last two terms are ``(eta / W) R'R`` for the rows
    ``R = [sqrt(w_i) (x_i - m); sqrt((1 - eta) W) delta]``, so one symmetric
    rank-k product (SYRK, exactly symmetric) gives both, and the blend with
    ``Sigma`` is done in place on its result, as
    ``(1 - eta) (Sigma + (eta / ((1 - eta) W)) R'R)``. Temporaries of the
    size of the covariance cost more than the arithmetic for large
    ``n_features`` (each is fresh memory to fault in), and this allocates
    none but the result.
    """
    eta = min(float(eta), 1.0)  # a Python float: scalar arithmetic, not numpy's
    if len(X) == 1:  # the streaming case: a row has no scatter about itself
        delta = X[0] - location
        scaled = math.sqrt(eta) * delta
        new = np.multiply.outer(scaled, scaled)  # eta delta delta', exactly symmetric
    elif eta == 1.0:  # the step lands on the batch's own moments
        _, m, C = batch_moments(X, w)
        return m, project(C)
    else:
        W, m = _mean(X, w)
        delta = m - location
        R = np.empty((len(X) + 1, len(m)))
        np.subtract(X, m, out=R[:-1])
        if w is not None:
            R[:-1] *= np.sqrt(w)[:, None]
        np.multiply(delta, math.sqrt((1 - eta) * W), out=R[-1])
        new = R.T @ R
        new *= eta / ((1 - eta) * W)  # eta C / (1 - eta) + eta delta delta'
    new += covariance
    new *= 1 - eta
    return location + eta * delta, _representable(project(new))


class NaturalState(NamedTuple):
    location: np.ndarray
    covariance: np.ndarray


class Natural:
    """Natural-gradient ascent (Fisher-preconditioned), in its exact pooled form.

    For a batch with mean ``m``, covariance ``C`` and ``delta = m - mu``::

        mu    <- mu + eta delta
        Sigma <- (1 - eta) Sigma + eta C + eta (1 - eta) delta delta'

    A convex combination for ``0 < eta <= 1`` (steps are capped at 1), hence
    positive semi-definite without any check, and affine-invariant.  With
    ``eta = W / t`` it is the exact weighted maximum-likelihood estimate of
    all data seen (Chan, Golub & LeVeque pooling).
    """

    def __init__(self, project):
        self.project = project

    def init(self, X, w):
        _, m, C = batch_moments(X, w)
        return NaturalState(m, self.project(C))

    def step(self, state, X, w, eta):
        return NaturalState(*step_toward(*state, X, w, eta, self.project)), False

    def moments(self, state):
        return state


class WarmupState(NamedTuple):
    location: np.ndarray
    covariance: np.ndarray
    weight: float


class EuclideanState(NamedTuple):
    params: tuple
    optimizer: object


class Euclidean:
    """Gradient ascent in a parametrization's own coordinates, with a trust region.

    A step is accepted when the new state is finite, its mean moves by at most
    one standard deviation and its covariance changes by at most a factor
    ``TRUST_FACTOR`` in every direction (measured in the old covariance's
    metric); otherwise it is halved until it is.  This never lets a step leave
    the positive-definite cone, and stops the overshoot that makes the
    textbook update diverge; ``shrunk`` reports that it happened.

    A gradient step needs a nonsingular starting covariance, which a single
    sample cannot give: until ``n_features + 1`` samples' weight has been
    seen, the state is the exact pooled moments (:class:`WarmupState`).
    """

    def __init__(self, parametrization, optimizer, reg_covar):
        self.parametrization = parametrization
        self.optimizer = optimizer
        self.reg_covar = reg_covar

    def init(self, X, w):
        W, m, C = batch_moments(X, w)
        return self.settle(WarmupState(m, self.parametrization.project(C), W))

    def settle(self, warmup):
        """Start gradient ascent once the exact moments have ``n_features + 1`` samples."""
        if warmup.weight < len(warmup.location) + 1:
            return warmup
        covariance = regularize(warmup.location, warmup.covariance, self.reg_covar)
        cholesky_or_raise(covariance)
        params = self.parametrization.from_moments(warmup.location, covariance)
        return EuclideanState(params, self.optimizer.init(params))

    def step(self, state, X, w, eta):
        if isinstance(state, WarmupState):
            W = len(X) if w is None else w.sum()
            pooled = step_toward(
                state.location,
                state.covariance,
                X,
                w,
                W / (state.weight + W),
                self.parametrization.project,
            )
            return self.settle(WarmupState(*pooled, state.weight + W)), False
        params = state.params
        w = np.full(len(X), 1.0 / len(X)) if w is None else w / w.sum()
        grads = self.parametrization.gradient(params, X, w)
        if not all(np.all(np.isfinite(g)) for g in grads):
            return state, True
        steps, opt_state = self.optimizer.update(grads, state.optimizer, eta)
        location, covariance = self.parametrization.to_moments(params)
        chol = cholesky_lower(covariance)
        scale = 1.0
        for _ in range(MAX_HALVINGS):
            candidate = tuple(p + scale * s for p, s in zip(params, steps, strict=True))
            if self._acceptable(location, chol, candidate):
                return EuclideanState(candidate, opt_state), scale < 1.0
            scale *= 0.5
        return state, True  # rejected outright: the optimizer's moments stay too

    def _acceptable(self, location, chol, candidate):
        with np.errstate(all="ignore"):
            try:
                new_location, new_covariance = self.parametrization.to_moments(candidate)
                if not (np.isfinite(new_location).all() and np.isfinite(new_covariance).all()):
                    return False
                z = solve_lower(chol, new_location - location)
                if not z @ z <= 1.0:
                    return False
                B = solve_lower(chol, solve_lower(chol, new_covariance).T)
                eig = eigvalsh(0.5 * (B + B.T))
            except (LinAlgError, ValueError):  # a singular factor, or overflow in B
                return False
        return bool(eig[0] >= 1.0 / TRUST_FACTOR and eig[-1] <= TRUST_FACTOR)

    def moments(self, state):
        if isinstance(state, WarmupState):
            return state.location, state.covariance
        return self.parametrization.to_moments(state.params)


#: Public solver names.
SOLVERS = ("natural", *OPTIMIZERS)


def make_solver(solver, parametrization, covariance_type, reg_covar, beta_1, beta_2, epsilon):
    """Build the solver object named by the estimator's hyperparameters."""
    project = COVARIANCE_TYPES[covariance_type]
    if solver == "natural":
        return Natural(project)
    return Euclidean(
        PARAMETRIZATIONS[parametrization](project),
        OPTIMIZERS[solver](beta_1=beta_1, beta_2=beta_2, epsilon=epsilon),
        reg_covar,
    )
