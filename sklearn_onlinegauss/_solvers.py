"""One mini-batch step of each solver, on states that are plain NamedTuples.

A solver holds hyperparameters only. ``start(n_features)`` is the state
before any data, ``step(state, X, w, t, rate)`` returns ``(new_state,
shrunk)`` for the batch ``X`` with sample weights ``w`` (None: unit weights)
after total weight ``t``, at the learning rate ``rate`` (a
:class:`~._schedules.Rate`), and ``moments(state)`` returns the estimate as a
one-component :class:`~._gaussians.Gaussians`.
"""

import math
from typing import NamedTuple

import numpy as np
from scipy.linalg import LinAlgError

from ._gaussians import Gaussians, batch_moments, step_toward
from ._linalg import cholesky_lower, solve_lower
from ._optimizers import OPTIMIZERS, SGD
from ._parametrizations import PARAMETRIZATIONS
from ._shrinkage import (
    FourthMoments,
    batch_fourth_moments,
    empty_fourth_moments,
    pool_fourth_moments,
)
from ._structures import STRUCTURES

__all__ = [
    "SOLVERS",
    "Euclidean",
    "PreconditionedState",
    "Riemannian",
    "Whitened",
    "EuclideanState",
    "Natural",
    "TrackedState",
    "WarmupState",
    "make_solver",
]

#: A Euclidean step may at most double or halve the covariance in any
#: direction and move the mean by one standard deviation.
TRUST_FACTOR = 2.0
MAX_HALVINGS = 60
#: The Euclidean solvers start from the exact moments of this many times
#: ``n_features + 1`` rows. A sample covariance of ``n`` rows in ``d``
#: dimensions has its smallest eigenvalue near ``(1 - sqrt(d / n))**2`` of the
#: truth's: near 0 for ``n = d + 1``, a start the precision coordinates may
#: never climb out of, and about 1/3 for ``n = 5 (d + 1)``, which a few steps
#: of the trust region (a factor 2 each) correct.
WARM_UP_ROWS = 5
_FULL = STRUCTURES["full"]


class TrackedState(NamedTuple):
    """A natural state with the sums Ledoit-Wolf shrinkage reads (see ``_shrinkage``)."""

    gaussians: Gaussians
    fourth: FourthMoments


class Natural:
    """Natural-gradient ascent (Fisher-preconditioned), in its exact pooled form.

    For a batch with mean ``m``, covariance ``C`` and ``delta = m - mu``::

        mu    <- mu + eta delta
        Sigma <- (1 - eta) Sigma + eta C + eta (1 - eta) delta delta'

    A convex combination for ``0 < eta <= 1``, hence positive semi-definite
    without any check, and affine-invariant. Each row takes the step its
    schedule gives it (``Rate.pooling``), all in one pooled step per batch:
    the estimate does not depend on how the stream is chunked. The state is
    the core's :class:`~._gaussians.Gaussians` with one component, of the
    covariance structure ``structure``; with ``fourth_moments`` it also
    pools the sums of Ledoit-Wolf shrinkage, with the same rates
    (:class:`TrackedState`).
    """

    def __init__(self, structure, fourth_moments=False):
        self.structure = structure
        self.fourth_moments = fourth_moments

    def start(self, n_features):
        gaussians = self.structure.empty(1, n_features)
        if not self.fourth_moments:
            return gaussians
        return TrackedState(gaussians, empty_fourth_moments(n_features))

    def step(self, state, X, w, t, rate):
        weights, retain = rate.pooling(t, w, len(X))
        if not self.fourth_moments:
            return self.structure.step(state, X, weights, retain), False
        gaussians = self.structure.step(state.gaussians, X, weights, retain)
        uniform = isinstance(weights, float)
        gained = weights * len(X) if uniform else weights.sum()
        if gained <= 0:
            return state._replace(gaussians=gaussians), False
        batch = batch_fourth_moments(X, None if uniform else weights, gaussians.origins[0])
        eta = gained / gaussians.weights[0]
        return TrackedState(gaussians, pool_fourth_moments(state.fourth, batch, eta)), False

    def moments(self, state):
        return state.gaussians if self.fourth_moments else state


class WarmupState(NamedTuple):
    """The exact pooled moments of the rows seen, their weight, and the smallest weight.

    ``unit`` is the smallest positive weight pooled (``inf`` before any), and
    the warm-up counts ``weight / unit`` rows: the smallest weight is one row,
    as in the detector's batch threshold. This count is scale-free (weights
    are relative) and adds up as rows do, so integer weights with a one among
    them count exactly as the rows repeated, unit weights as the rows, and the
    warm-up ends where it ends for the repeated rows. Kish's effective number
    of rows, ``(sum w)**2 / sum w**2``, is scale-free too and better says how
    well a weighted covariance is conditioned, but it counts the weights 1, 2,
    3 as 2.6 rows where their repeated rows are 6: integer weights would then
    leave the warm-up later than the rows repeated, and no longer equal them.
    """

    location: np.ndarray
    covariance: np.ndarray
    weight: float
    unit: float


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
    sample cannot give: until ``WARM_UP_ROWS * (n_features + 1)`` rows have
    been seen (counted in the smallest positive weight, :class:`WarmupState`),
    the state is the exact pooled moments.

    It holds one Gaussian, in full ``(d, d)`` coordinates projected onto the
    covariance structure; several Gaussians (classes, mixture components)
    are the natural solver's, on the core's :class:`~._gaussians.Gaussians`.
    """

    def __init__(self, structure, parametrization, optimizer, reg_covar):
        self.structure = structure
        self.parametrization = parametrization
        self.optimizer = optimizer
        self.reg_covar = reg_covar

    def start(self, n_features):
        return WarmupState(np.zeros(n_features), np.zeros((n_features, n_features)), 0.0, math.inf)

    def settle(self, warmup):
        """Start gradient ascent once the exact moments have ``WARM_UP_ROWS (d + 1)`` rows.

        The weight is a sum of at most ``weight / unit`` positive terms, each
        rounded: so a count that reaches ``T`` rows in exact arithmetic is at
        least ``T (1 - T eps)`` as computed, whatever the weights' scale.
        """
        rows = WARM_UP_ROWS * (len(warmup.location) + 1)
        if warmup.weight < warmup.unit * rows * (1.0 - rows * np.finfo(float).eps):
            return warmup
        return self.begin(warmup)

    def begin(self, warmup):
        """Gradient ascent from the exact moments ``warmup``."""
        # A ValueError that says what to do, if it cannot be factored.
        state, _ = _FULL.regularized(
            _FULL.from_full(warmup.location[None], warmup.covariance[None]), self.reg_covar
        )
        params = self.parametrization.from_moments(warmup.location, state.covariances[0])
        return EuclideanState(params, self.optimizer.init(params))

    def step(self, state, X, w, t, rate):
        W = len(X) if w is None else w.sum()
        if isinstance(state, WarmupState):
            return self._warm_up(state, X, w, W), False
        return self._gradient_step(state, X, w, W * rate.per_sample(t + W))

    def _warm_up(self, state, X, w, W):
        """The exact pooled moments, until they can start gradient ascent."""
        return self.settle(self._pooled(state, X, w, W))

    def _pooled(self, moments, X, w, W):
        """The :class:`WarmupState` of exact moments with the rows pooled in."""
        location, covariance = step_toward(
            moments.location, moments.covariance, X, w, W / (moments.weight + W)
        )
        unit = min(moments.unit, 1.0 if w is None else float(np.min(w[w > 0], initial=np.inf)))
        return WarmupState(location, self.structure.project(covariance), moments.weight + W, unit)

    def _gradient_step(self, state, X, w, eta, fisher=None):
        """One step of size ``eta`` in the parametrization's coordinates: ``(state, shrunk)``.

        ``fisher``: divide the gradient (coordinate by coordinate) by these.
        """
        params = state.params
        w = np.full(len(X), 1.0 / len(X)) if w is None else w / w.sum()
        squares = None
        if self.optimizer.row_squares:
            grads, squares = self.parametrization.gradient(params, X, w, squares=True)
        else:
            grads = self.parametrization.gradient(params, X, w)
        if fisher is not None:
            grads = tuple(g / f for g, f in zip(grads, fisher, strict=True))
            squares = squares and tuple(s / f**2 for s, f in zip(squares, fisher, strict=True))
        if not all(np.all(np.isfinite(g)) for g in (*grads, *(squares or ()))):
            return state, True
        steps, opt_state = self.optimizer.update(grads, state.optimizer, eta, squares)
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
                return _eigenvalues_within(0.5 * (B + B.T), 1.0 / TRUST_FACTOR, TRUST_FACTOR)
            except (LinAlgError, ValueError):  # a singular factor, or overflow in B
                return False

    def moments(self, state):
        if isinstance(state, WarmupState):
            location, covariance = state.location, state.covariance
        else:
            location, covariance = self.parametrization.to_moments(state.params)
        return self.structure.from_full(location[None], covariance[None])


def _eigenvalues_within(S, low, high):
    """Whether the symmetric ``S`` has every eigenvalue in ``[low, high]`` (``low < 1 < high``).

    Without an eigenvalue solve: the eigenvalues of ``S`` are within
    ``||S - I||_F`` of 1, which settles a small step in ``O(d^2)``;
    otherwise ``S - low I`` and ``high I - S`` must both have a Cholesky
    factor (positive definite: the bounds themselves count as outside).
    """
    d = len(S)
    off = S.copy()
    off.flat[:: d + 1] -= 1.0
    if math.sqrt(np.vdot(off, off)) <= min(1.0 - low, high - 1.0):
        return True
    off.flat[:: d + 1] += 1.0 - low  # S - low I
    below = -S
    below.flat[:: d + 1] += high  # high I - S
    try:
        cholesky_lower(off)
        cholesky_lower(below)
    except LinAlgError:
        return False
    return True


class PreconditionedState(NamedTuple):
    """A whitened Euclidean solver's state: parameters, optimizer, and the pilot moments."""

    params: tuple
    optimizer: object
    pilot: WarmupState


class Whitened(Euclidean):
    """Euclidean steps taken in coordinates whitened by a running pilot estimate.

    The pilot is the exact running mean and covariance of the data (the
    natural solver's ``'optimal'`` estimate, kept beside the parameters).
    Each batch is mapped to ``z = L^-1 (x - m)`` (``m, L L'`` the pilot's mean
    and covariance), the parameters to the same coordinates, and the
    optimizer takes its step there, in the parametrization's own coordinates
    of the whitened problem, under the same trust region; the result is
    mapped back. Whitened, the problem is well conditioned whatever the
    data's conditioning, so a step's progress no longer depends on it
    (diagonal scaling, as Adam's, cannot undo rotated conditioning). For
    ``'diag'`` and ``'spherical'`` covariances the pilot is projected the
    same way, so whitening keeps the structure. The optimizer's state (Adam's
    moments) lives in the whitened coordinates of the pilot as it moves.

    Whitened, each coordinate's Fisher information near the answer is a
    constant of the parametrization (``standard_fisher``: 1/2 for every
    entry of the covariance, 2 for a log-diagonal entry of a factor, 1 for
    the rest), and the gradient is divided by it, so that every coordinate
    has gain 1 under the ``1/t`` schedule, the natural gradient's. Without
    that, the covariance coordinates' gain of 1/2 is the edge at which
    ``1/t`` steps stop converging at rate ``1/t``, and the factors'
    log-diagonal gain of 2 costs ``g^2 / (2g - 1) = 4/3`` in their variance
    (:ref:`theory-schedules`). Adam divides by its own scale, so this
    changes only sgd.
    """

    def begin(self, warmup):
        state = super().begin(warmup)
        return PreconditionedState(state.params, state.optimizer, warmup)

    def _gradient_step(self, state, X, w, eta):
        pilot = self._pooled(state.pilot, X, w, len(X) if w is None else w.sum())
        m = pilot.location
        pilot_gaussian = _FULL.from_full(m[None], pilot.covariance[None])
        L = _FULL.regularized(pilot_gaussian, self.reg_covar)[1][0]
        location, covariance = self.parametrization.to_moments(state.params)
        whitened = solve_lower(L, solve_lower(L, covariance).T)
        params = self.parametrization.from_moments(
            solve_lower(L, location - m), 0.5 * (whitened + whitened.T)
        )
        Z = solve_lower(L, (X - m).T).T
        inner, shrunk = super()._gradient_step(
            EuclideanState(params, state.optimizer),
            Z,
            w,
            eta,
            self.parametrization.standard_fisher(len(m)),
        )
        location, covariance = self.parametrization.to_moments(inner.params)
        F = L @ cholesky_lower(covariance)  # L C L' as F F': exactly symmetric
        params = self.parametrization.from_moments(m + L @ location, F @ F.T)
        return PreconditionedState(params, inner.optimizer, pilot), shrunk


class _Moments:
    """The mean and covariance themselves as parameters (the Riemannian solver's state)."""

    @staticmethod
    def from_moments(location, covariance):
        return location, covariance

    @staticmethod
    def to_moments(params):
        return params


class Riemannian(Euclidean):
    """Riemannian gradient ascent on the positive-definite cone (affine-invariant metric).

    Under the metric ``<A, B>_Sigma = tr(Sigma^-1 A Sigma^-1 B)`` the gradient
    of a batch's log-likelihood with respect to the covariance is
    ``(S - Sigma) / 2``, ``S = C + delta delta'`` the batch's second moment
    about the mean: the natural gradient's direction. The step follows the
    geodesic, the exponential map, where the natural solver steps along a
    straight line (a convex combination)::

        mu    <- mu + eta delta
        Sigma <- L expm(eta (L^-1 S L^-T - I)) L',      Sigma = L L'

    To first order in ``eta`` the two agree. Every step is held to the
    trust region of the Euclidean solvers, computed rather than searched:
    ``eta`` is cut so that the covariance changes by at most a factor
    ``TRUST_FACTOR`` in every direction (the exponent's eigenvalues are at
    most ``log 2`` in size, which also keeps ``expm`` from overflowing from
    a tiny start) and the mean moves by at most one standard deviation; a
    cut step counts as shrunk. ``S`` is projected onto the covariance
    structure, so diagonal and spherical covariances stay so.
    """

    def __init__(self, structure, reg_covar):
        super().__init__(structure, _Moments(), SGD(), reg_covar)

    def _gradient_step(self, state, X, w, eta):
        location, covariance = state.params
        _, m, C = batch_moments(X, w)
        delta = m - location
        second = self.structure.project(C + np.outer(delta, delta))
        chol = cholesky_lower(covariance)
        whitened = solve_lower(chol, solve_lower(chol, second).T)
        values, vectors = np.linalg.eigh(0.5 * (whitened + whitened.T))
        values -= 1.0
        if not np.all(np.isfinite(values)):
            return state, True
        move = math.sqrt(float(np.sum(solve_lower(chol, delta) ** 2)))
        largest = float(np.abs(values).max())
        limit = min(
            math.log(TRUST_FACTOR) / largest if largest > 0 else math.inf,
            1.0 / move if move > 0 else math.inf,
        )
        shrunk = eta > limit
        eta = min(eta, limit)
        factor = chol @ (vectors * np.exp(0.5 * eta * values))
        new_covariance = factor @ factor.T  # L V e^(eta values) V' L': exactly symmetric
        return EuclideanState((location + eta * delta, new_covariance), ()), shrunk


#: Public solver names.
SOLVERS = ("natural", "riemannian", *OPTIMIZERS)


def make_solver(
    solver,
    parametrization,
    covariance_type,
    reg_covar,
    beta_1,
    beta_2,
    epsilon,
    fourth_moments=False,
    preconditioner=None,
):
    """Build the solver object named by the estimator's hyperparameters."""
    structure = STRUCTURES[covariance_type]
    if solver == "natural":
        return Natural(structure, fourth_moments)
    if solver == "riemannian":
        return Riemannian(structure, reg_covar)
    euclidean = Whitened if preconditioner == "whiten" else Euclidean
    return euclidean(
        structure,
        PARAMETRIZATIONS[parametrization](structure),
        OPTIMIZERS[solver](beta_1=beta_1, beta_2=beta_2, epsilon=epsilon),
        reg_covar,
    )
