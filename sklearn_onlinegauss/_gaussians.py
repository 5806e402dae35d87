"""K Gaussians of one covariance structure: the state every estimator streams.

A state is a :class:`Gaussians` tuple of plain arrays: a weight, a mean and a
covariance per component. Each covariance structure is one object
(:data:`STRUCTURES`) implementing the same operations on such a state, as
``scipy.stats.Covariance`` has one class per form:

- ``empty(K, d)``, ``from_full(means, covariances)``: states to start from;
- ``step(state, X, weights, retain)``: the natural-gradient step of every
  component toward the rows of ``X`` (see below);
- ``combine(a, b)``: the exact pooling of two states;
- ``regularize``, ``factor``: what a read needs (fill-in, Cholesky factors);
- ``mahalanobis``, ``log_density``: for all K components at once, ``(n, K)``;
- ``sample``, ``to_full``, ``precisions``, ``expected_log_density``, and
  ``project`` (a ``d x d`` matrix onto the structure, for the Euclidean
  solvers).

The step is weighted pooling (``../shared/notes/MATH.md`` sections 7 and 9):
component ``k`` keeps ``retain * weights_k`` of its weight and gains
``B_k = sum_i w_ik`` from the rows, and its new moments are those of the
pooled group, so its rate is ``eta_k = B_k / (retain * weights_k + B_k)``. An
empty component (weight 0) starts at its rows' own moments, and a component
no row touches is unchanged. ``'diag'`` and ``'spherical'`` never form a
``d x d`` array: ``O(n d)`` per batch and component, ``O(K d)`` memory.

Covariance shapes: ``'full'`` ``(K, d, d)``, ``'diag'`` ``(K, d)``,
``'spherical'`` ``(K,)``, ``'tied'`` ``(d, d)`` (one covariance shared by the
K means: the pooled within-component covariance).
"""

import math
from functools import cache
from typing import NamedTuple

import numpy as np
from scipy.linalg import LinAlgError, cho_solve, eigh

from ._linalg import (
    add_scatter,
    blend_scatter,
    cholesky_lower,
    mirror_lower,
    solve_lower,
)
from ._threads import lapack_threads_for

__all__ = [
    "SHARED",
    "STRUCTURES",
    "Gaussians",
    "batch_moments",
    "pool",
    "scoring_rows",
    "step_toward",
]

#: Size of the buffer of centred rows a shared-covariance step fills before
#: each rank update (one component's rows are never split).
_BUFFER_BYTES = 2**21

_LOG_2PI = math.log(2 * math.pi)


class Gaussians(NamedTuple):
    """The state: ``K`` Gaussians with their weights.

    weights : ndarray of shape (K,)
        Each component's weight, in the units of the row weights of the
        steps that built it; 0 for a component that has seen nothing.
    origins : ndarray of shape (K, d)
        A point near each component's data (its first row), which ``means``
        are relative to: a mean stored as such keeps its precision relative
        to the data's spread, not to their offset from 0 (rounding of a mean
        at 1e6 standard deviations from 0 would otherwise cost 2e-10
        standard deviations per step).
    means : ndarray of shape (K, d)
        Each component's mean minus its origin.
    covariances : ndarray
        Of the structure's shape (see the module docstring).
    """

    weights: np.ndarray
    origins: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    @property
    def locations(self):
        """ndarray of shape (K, d): each component's mean."""
        return self.origins + self.means


# -- the pooled step, shared by the structures -------------------------------------


def _mean(X, w):
    """Total weight and weighted mean of the rows (``w`` None: unit weights).

    A product with the weights (GEMV) is 2-8 times faster than
    ``X.sum(axis=0)`` on C-ordered rows.
    """
    if w is None:
        return len(X), (np.ones(len(X)) @ X) / len(X)
    W = w.sum()
    return W, (w @ X) / W


def _representable(total_variance, covariance):
    """``covariance``, or a ValueError if it overflowed float64.

    The trace of a positive semi-definite matrix bounds all its entries, so it
    is the only sum that needs checking.
    """
    if not math.isfinite(total_variance):
        raise ValueError(
            "The covariance overflowed float64: the data's values are too large to "
            "square (the total variance must stay below ~1e308). Rescale the "
            "features, e.g. with sklearn.preprocessing.StandardScaler."
        )
    return covariance


def _centred(X, w, origin, extra_rows=0, out=None):
    """``(W, m, R)``: the rows' weight and mean relative to ``origin``, and a buffer.

    ``R[:n]`` holds the rows minus their mean (as computed, rounded) and
    ``R`` has ``extra_rows`` more rows for the caller to fill. Far from 0 the
    mean is rounded to the precision of the offset; the mean of ``R`` is that
    rounding, measured, and is added back to the mean relative to ``origin``
    (the scatter about the rounded mean differs from the true one only in
    the square of it: below rounding). ``out``: a buffer to use for ``R``.
    """
    n = len(X)
    R = np.empty((n + extra_rows, X.shape[1])) if out is None else out
    weights, W = (np.ones(n), n) if w is None else (w, w.sum())
    m = weights @ X  # a product with the weights (GEMV) is faster than a sum
    m /= W
    np.subtract(X, m, out=R[:n])
    if origin is not None:
        m -= origin
        m += (weights @ R[:n]) / W
    return W, m, R


def batch_moments(X, w, origin=None):
    """Total weight, weighted mean (relative to ``origin``) and covariance about it.

    ``w`` is None for unit weights. Centring before the product keeps it
    exact for data far from the origin (no ``E[xx'] - m m'`` cancellation);
    ``R.T @ R`` of one buffer is a symmetric rank-k update (SYRK).
    """
    W, m, R = _centred(X, w, origin)
    if w is not None:
        R *= np.sqrt(w / W)[:, None]
        C = R.T @ R
    else:
        C = R.T @ R
        C /= W
    return W, m, _representable(C.trace(), C)


def pool(location, covariance, m, C, eta):
    """The natural-gradient step toward moments ``(m, C)``: new ``(location, covariance)``.

    ``(1 - eta) Sigma + eta C + eta (1 - eta) delta delta'``: exact pooling
    when ``eta`` is their share of the total weight. Full matrices.
    """
    delta = m - location
    new = eta * C
    new += (1 - eta) * covariance
    scaled = np.sqrt(eta * (1 - eta)) * delta
    new += scaled[:, None] * scaled  # s_i s_j == s_j s_i: exactly symmetric
    return location + eta * delta, _representable(new.trace(), new)


def step_toward(location, covariance, X, w, eta, origin=None):
    """The natural-gradient step of one full Gaussian toward the rows ``X``.

    ``Sigma <- (1 - eta) Sigma + eta C + eta (1 - eta) delta delta'``, with
    ``m, C`` the rows' weighted mean and covariance and ``delta = m - mu``;
    ``location`` (and the new one returned) is relative to ``origin``. The
    last two terms are ``(eta / W) R'R`` for the rows
    ``R = [sqrt(w_i) (x_i - m); sqrt((1 - eta) W) delta]``, so the whole
    blend is one symmetric rank-k update (SYRK, exactly symmetric) of a copy
    of ``Sigma``: :func:`~._linalg.blend_scatter`.
    """
    eta = min(float(eta), 1.0)  # a Python float: scalar arithmetic, not numpy's
    if eta == 1.0:  # the step lands on the rows' own moments
        _, m, C = batch_moments(X, w, origin)
        return m, C
    if len(X) == 1:  # the streaming case: a row has no scatter about itself
        delta = (X[0] if origin is None else X[0] - origin) - location
        scaled = math.sqrt(eta) * delta
        new = np.multiply.outer(scaled, scaled)  # eta delta delta', exactly symmetric
        new += covariance
        new *= 1 - eta
    else:
        W, m, R = _centred(X, w, origin, extra_rows=1)
        delta = m - location
        if w is not None:
            R[:-1] *= np.sqrt(w)[:, None]
        np.multiply(delta, math.sqrt((1 - eta) * W), out=R[-1])
        new = blend_scatter(covariance, R, eta / W, 1 - eta)
    return location + eta * delta, _representable(new.trace(), new)


def _diag_step_toward(location, variances, X, w, eta, origin=None):
    """:func:`step_toward` for the diagonal of the covariance only, ``O(n d)``."""
    eta = min(float(eta), 1.0)
    W, m, R = _centred(X, w, origin)
    R *= R
    C = (np.ones(len(X)) @ R if w is None else w @ R) / W
    if eta == 1.0:
        return m, _representable(C.sum(), C)
    delta = m - location
    new = eta * C
    new += (1 - eta) * variances
    new += (eta * (1 - eta)) * delta * delta
    return location + eta * delta, _representable(new.sum(), new)


def _rows(X, weights, k):
    """The rows of ``X`` with positive weight for component ``k``, and their weights.

    ``weights`` is a float (every row has that weight, one component), or an
    array of shape (n,) or (n, K). Weights are None when they are all equal.
    """
    if isinstance(weights, float):
        return X, None
    w = weights if weights.ndim == 1 else weights[:, k]
    positive = w > 0
    if positive.all():
        return X, w
    return X[positive], w[positive]


def _totals(weights, n_rows, n_components):
    """Weight each component gains from the rows, shape (K,)."""
    if isinstance(weights, float):
        return np.full(n_components, weights * n_rows)
    if weights.ndim == 1:
        return np.array([weights.sum()])
    return weights.sum(axis=0)


def _not_positive_definite(reason):
    return ValueError(
        "The covariance estimate is not numerically positive definite "
        f"({reason}). Increase reg_covar, or rescale features whose variances "
        "differ by many orders of magnitude."
    )


class _Structure:
    """What every structure shares: rates, the component loop, reads per component."""

    name = None

    def regularized(self, state, reg_covar):
        """``(regularize(state, reg_covar), its factor)``: what every read needs."""
        state = self.regularize(state, reg_covar)
        return state, self.factor(state)

    def empty(self, n_components, n_features):
        """The state of ``n_components`` Gaussians that have seen nothing (weights 0)."""
        K, d = n_components, n_features
        return Gaussians(
            np.zeros(K), np.zeros((K, d)), np.zeros((K, d)), np.zeros(self._shape(K, d))
        )

    def step(self, state, X, weights, retain):
        """The natural step of every component toward the rows ``X``.

        Parameters
        ----------
        state : Gaussians
        X : ndarray of shape (n, d)
        weights : float or ndarray of shape (n,) or (n, K)
            Non-negative weight of each row for each component (a float: the
            same weight for every row of a single component).
        retain : float or ndarray of shape (K,)
            Factor on each component's weight before the rows are pooled in:
            1 keeps all of it (the running MLE), less forgets.

        Returns
        -------
        Gaussians
            A new state; ``state`` is not modified.
        """
        if len(state.weights) == 1 and (isinstance(weights, float) or weights.ndim == 1):
            return self._step_one(state, X, weights, float(retain))
        gained = _totals(weights, len(X), len(state.weights))
        kept = retain * state.weights
        total = kept + gained
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(gained > 0, gained / total, 0.0)
        return self._step(state, X, weights, rates, kept, gained, total)

    def _step_one(self, state, X, weights, retain):
        """:meth:`step` of one Gaussian, with its bookkeeping in Python scalars.

        The streaming case (one row per call) costs little more than the
        arithmetic of the step itself. Rows of weight 0 contribute nothing
        to the weighted moments, so they need not be taken out.
        """
        if isinstance(weights, float):
            gained, w = weights * len(X), None
        else:
            gained, w = float(weights.sum()), weights
        kept = retain * float(state.weights[0])
        total = kept + gained
        if gained <= 0:
            return state._replace(weights=np.array([total]))
        origins = state.origins if kept > 0 else X[:1].copy()  # a fresh start: its first row
        mean, covariance = self._component_step(
            state.means[0], state.covariances[0], X, w, gained / total, origins[0]
        )
        return Gaussians(np.array([total]), origins, mean[None], covariance[None])

    def _step(self, state, X, weights, rates, kept, gained, total):
        """Per-component steps; ``'tied'`` overrides this."""
        origins, means = state.origins.copy(), state.means.copy()
        covariances = state.covariances.copy()
        for k in np.flatnonzero(rates > 0):
            origins[k], means[k], covariances[k] = self._component(
                state, k, X, weights, rates[k], kept[k]
            )
        return Gaussians(total, origins, means, covariances)

    def _component(self, state, k, X, weights, rate, kept):
        """Component ``k``'s step: its ``(origin, mean, covariance)``.

        A component that keeps nothing starts afresh at its rows, with its
        first row as origin.
        """
        Xk, w = _rows(X, weights, k)
        origin = state.origins[k] if kept > 0 else Xk[0].copy()
        mean, covariance = self._component_step(
            state.means[k], state.covariances[k], Xk, w, rate, origin
        )
        return origin, mean, covariance

    def combine(self, a, b):
        """Pool two states component by component, each weighted by its weights.

        Exact (Chan, Golub & LeVeque): the pooled moments of the data behind
        both, when the weights are in the same units.
        """
        total = a.weights + b.weights
        origins, means = a.origins.copy(), a.means.copy()
        covariances = a.covariances.copy()
        for k in np.flatnonzero(b.weights > 0):
            if a.weights[k] == 0:
                origins[k], means[k], covariances[k] = b.origins[k], b.means[k], b.covariances[k]
                continue
            means[k], covariances[k] = self._component_pool(
                a.means[k],
                a.covariances[k],
                (b.origins[k] - a.origins[k]) + b.means[k],
                b.covariances[k],
                b.weights[k] / total[k],
            )
        return Gaussians(total, origins, means, covariances)

    def take(self, state, order):
        """The components ``order`` of ``state`` (a permutation or a selection)."""
        return Gaussians(*(field[order] for field in state))

    def n_parameters(self, n_components, n_features):
        """Free parameters of ``n_components`` Gaussians: means, covariances, weights."""
        K, d = n_components, n_features
        return int(self._n_covariance_parameters(K, d) + K * d + K - 1)

    def shrink(self, state, intensities):
        """Each covariance toward its mean variance: ``(1 - s_k) S_k + s_k mu_k I``.

        ``intensities``: one per component, shape (K,), or one for all. The
        target is :class:`~sklearn.covariance.ShrunkCovariance`'s.
        """
        s = np.broadcast_to(np.asarray(intensities, dtype=float), state.weights.shape)
        if not s.any():
            return state
        return state._replace(covariances=self._shrunk(state.covariances, s))

    def normalizers(self, factor, n_features):
        """``d log 2 pi + log det Sigma_k`` per component, shape (K,)."""
        return n_features * _LOG_2PI + self.log_det(factor, n_features)

    def log_density(self, state, factor, X, normalizers=None):
        """Log-density of every row under every component, shape (n, K).

        ``-1/2 (d log 2 pi + log det Sigma_k + Mahalanobis)``: no inverse is
        formed and no density exponentiated. ``normalizers``: the
        components' :meth:`normalizers`, if the caller keeps them with the
        factor.
        """
        if normalizers is None:
            normalizers = self.normalizers(factor, state.means.shape[1])
        distances = self.mahalanobis(state, factor, X)
        distances += normalizers
        distances *= -0.5
        return distances

    def expected_log_density(self, factor, raw):
        """Mean log-density of data centred on each mean with the covariance of ``raw``.

        ``-1/2 (d log 2 pi + log det Sigma + tr(Sigma^-1 C))`` per component,
        shape (K,): the training loss of a fit whose state is the data's own
        moments, without a pass over the data.
        """
        d = raw.means.shape[1]
        return -0.5 * (self.normalizers(factor, d) + self._trace_solve(factor, raw))


# -- full and tied: d x d matrices ------------------------------------------------


#: Relative size below which a variance, or an eigenvalue of the correlation
#: matrix (per feature), is rounding: float64 precision, with room for the
#: rounding a streamed estimate accumulates.
_ROUNDING = 256 * np.finfo(float).eps
#: Values this close, relative to their magnitude, are one value rounded a few
#: times: a feature that spreads no more has not varied.
_SAME_VALUE = 4 * np.finfo(float).eps
#: Smallest Cholesky pivot of a correlation matrix that is determined beyond doubt.
_CLEARLY_DETERMINED = 2.0**-20


#: Below this a variance is too close to float64's underflow to be computed.
_TINIEST_VARIANCE = 1e-290
#: A feature constant at a magnitude below this may be one whose spread underflowed.
_TINIEST_VALUE = 1e-140


def _magnitudes(state):
    """The size of each component's values in each feature, shape (K, d).

    The larger of the mean's and the origin's (a row of the data): where
    the estimate has decayed toward 0 (a feature stuck at 0 under a
    forgetting schedule, a component's tiny responsibilities), the origin
    still gives the scale the feature's values have had.
    """
    return np.maximum(np.abs(state.locations), np.abs(state.origins))


def _numerically_constant(variances, magnitudes):
    """Features whose spread is zero, or a few roundings of values of that magnitude.

    A ValueError for features whose scale float64 cannot square: values
    too small to tell (data of scale 1e-160 would otherwise be taken for
    constant, silently), with a variance near underflow or none at all. A
    variance that decayed toward 0 in values of normal size (``magnitudes``)
    is rounding of them: constant.
    """
    small = magnitudes < _TINIEST_VALUE
    tiny = small & (variances > 0) & (variances < _TINIEST_VARIANCE)
    tiny |= small & (variances == 0) & (magnitudes > 0)
    if tiny.any():
        k = np.flatnonzero(np.ravel(tiny))[0]
        value = np.ravel(np.broadcast_to(magnitudes, tiny.shape))[k]
        variance = np.ravel(np.broadcast_to(variances, tiny.shape))[k]
        raise ValueError(
            f"Feature {k % tiny.shape[-1]} varies on a scale float64 cannot square (values "
            f"about {value:.1e}, variance {variance:.1e}); rescale it, e.g. with "
            "sklearn.preprocessing.StandardScaler."
        )
    return ~(variances > (_SAME_VALUE * magnitudes) ** 2)


def _regularize_matrix(magnitudes, covariance, reg_covar):
    """The covariance where the data determine it; ``reg_covar`` where they do not.

    The rule, for every structure (``regularize``): work on the correlation
    matrix ``R = D^-1/2 Sigma D^-1/2``, which does not change when a feature
    is rescaled or shifted. If ``R`` is numerically positive definite (every
    eigenvalue above ``d`` times float64 rounding, ``_ROUNDING``; eigenvalues
    are exact to about ``d`` eps, so the verdict does not depend on how the
    estimate was chunked) the covariance is returned as it is: the exact
    maximum-likelihood estimate, at any conditioning float64 can represent.
    Otherwise the directions of ``R`` whose eigenvalues are rounding (fewer
    samples than features, duplicated rows, collinear columns) are raised to
    ``reg_covar`` and every other direction is kept. A feature that has not
    varied (variance 0, or rounding of its magnitude ``magnitudes``) has no
    correlation and no scale: it gets the variance ``reg_covar`` in its own
    units, as ``GaussianMixture``'s ``reg_covar``. So scaling or shifting one
    feature never changes another feature's fill-in.
    """
    if reg_covar == 0 or _determined_factor(magnitudes, covariance) is not None:
        return covariance
    return _fill_undetermined(magnitudes, covariance, reg_covar)


def _regularized_matrix(magnitudes, covariance, reg_covar):
    """``(_regularize_matrix(...), its Cholesky factor)``, factorizing a clearly determined
    covariance once (the test's factor is the read's) and any other once after the rule."""
    factor = _determined_factor(magnitudes, covariance) if reg_covar > 0 else None
    if factor is not None:
        return covariance, factor
    if reg_covar > 0:
        covariance = _fill_undetermined(magnitudes, covariance, reg_covar)
    return covariance, _cholesky(covariance)


def _fill_undetermined(magnitudes, covariance, reg_covar):
    """:func:`_regularize_matrix` past its shortcut: the eigenvalue test and fill-in."""
    d = len(covariance)
    variances = np.diag(covariance)
    constant = _numerically_constant(variances, magnitudes)
    varying = ~constant
    scale = np.sqrt(variances[varying])
    correlation = covariance[np.ix_(varying, varying)] / np.outer(scale, scale)
    # Eigenvalues are exact to about d eps: a sharp test, the same for every chunking.
    with lapack_threads_for(4 * len(correlation) ** 3):
        eigenvalues, eigenvectors = eigh(correlation, check_finite=False)
    undetermined = eigenvalues < d * _ROUNDING
    if not undetermined.any() and not constant.any():
        return covariance
    V = eigenvectors[:, undetermined]
    lift = np.maximum(eigenvalues[undetermined], reg_covar) - eigenvalues[undetermined]
    correlation += (V * lift) @ V.T
    filled = np.zeros_like(covariance)
    filled[np.ix_(varying, varying)] = 0.5 * (correlation + correlation.T) * np.outer(scale, scale)
    filled[constant, constant] = reg_covar
    return filled


def _determined_factor(magnitudes, covariance):
    """The Cholesky factor of a covariance the data clearly determine, else None.

    Clearly determined: no feature constant, and every Cholesky pivot of the
    correlation matrix at least ``_CLEARLY_DETERMINED`` (a pivot of a
    singular matrix is rounding, which can come out at any size, so only
    such matrices skip the eigenvalue test of :func:`_regularize_matrix`,
    which returns them as they are). The correlation's factor is
    ``D^-1/2 L``, so its pivots are ``L_jj^2 / Sigma_jj``: one factorization
    of the covariance settles both the test and the factor (a read used to
    take two, and the index gathers of the correlation).
    """
    variances = covariance.diagonal()
    if _numerically_constant(variances, magnitudes).any():
        return None
    try:
        L = cholesky_lower(covariance)
    except LinAlgError:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        if not np.min(L.diagonal() ** 2 / variances) >= _CLEARLY_DETERMINED:  # NaN: no
            return None
    return L


def _cholesky(covariance):
    """Lower Cholesky factor, or a ValueError that says what to do."""
    try:
        if not np.isfinite(covariance).all():
            raise LinAlgError("non-finite entries")
        return cholesky_lower(covariance)
    except LinAlgError as exc:
        raise _not_positive_definite(exc) from None


@cache
def scoring_rows(n_features):
    """Rows per block of a distance computation.

    Temporaries the size of a large ``X`` cost more to fault in than the
    arithmetic on them, so the rows go in blocks; but a triangular solve
    runs at BLAS-3 speed only on a block of several hundred rows. Measured
    at d = 1000: blocks of 65 rows (512 KB) took 2.4 times as long as blocks
    of 512; at d = 100 blocks of 655 rows were fastest. So 512 KB, or 512
    rows up to 32 MB.
    """
    return max(1, 2**16 // n_features, min(512, 2**22 // n_features))


def _matrix_mahalanobis(X, origin, mean, chol, out):
    """Squared distances ``||L^-1 (x - mu)||^2`` into ``out``, in blocks of rows."""
    rows = scoring_rows(len(mean))
    if len(X) <= rows:  # one block: a one-row read skips the loop's slicing
        R = X - origin
        R -= mean
        Z = solve_lower(chol, R.T)
        return np.einsum("ij,ij->j", Z, Z, out=out)
    work = len(X) * len(mean) ** 2  # a long call keeps scipy's threads for every block
    for start in range(0, len(X), rows):
        R = X[start : start + rows] - origin
        R -= mean
        Z = solve_lower(chol, R.T, call_work=work)
        np.einsum("ij,ij->j", Z, Z, out=out[start : start + rows])
    return out


class Full(_Structure):
    """One ``(d, d)`` covariance per component."""

    name = "full"

    @staticmethod
    def _shape(n_components, n_features):
        return n_components, n_features, n_features

    _component_step = staticmethod(step_toward)
    _component_pool = staticmethod(pool)

    @staticmethod
    def project(A):
        """The orthogonal projection of a ``(d, d)`` matrix onto the structure's matrices."""
        return A

    def from_full(self, locations, covariances, weights=None):
        """The state with these means and (projected) ``(K, d, d)`` covariances."""
        return Gaussians(*_start(locations, weights), covariances)

    def to_full(self, state):
        return state.covariances

    def regularize(self, state, reg_covar):
        pairs = [
            (c, _regularize_matrix(m, c, reg_covar))
            for m, c in zip(_magnitudes(state), state.covariances, strict=True)
        ]
        if all(new is old for old, new in pairs):
            return state
        return state._replace(covariances=np.array([new for _, new in pairs]))

    def factor(self, state):
        """Lower Cholesky factors, shape (K, d, d); a ValueError if one fails."""
        return np.array([_cholesky(c) for c in state.covariances])

    def regularized(self, state, reg_covar):
        pairs = [
            _regularized_matrix(m, c, reg_covar)
            for m, c in zip(_magnitudes(state), state.covariances, strict=True)
        ]
        if any(new is not old for old, (new, _) in zip(state.covariances, pairs, strict=True)):
            state = state._replace(covariances=np.array([c for c, _ in pairs]))
        return state, np.array([L for _, L in pairs])

    def log_det(self, factor, n_features):
        return 2.0 * np.log(factor.diagonal(axis1=-2, axis2=-1)).sum(axis=-1)

    def mahalanobis(self, state, factor, X):
        out = np.empty((len(state.means), len(X)))
        for k in range(len(state.means)):
            _matrix_mahalanobis(X, state.origins[k], state.means[k], factor[k], out[k])
        return out.T

    def _trace_solve(self, factor, raw):
        return np.array(
            [
                np.trace(solve_lower(L, solve_lower(L, C), trans=True))
                for L, C in zip(factor, raw.covariances, strict=True)
            ]
        )

    def precisions(self, factor, n_features):
        eye = np.eye(n_features)
        with lapack_threads_for(n_features**3):
            return np.array([cho_solve((L, True), eye) for L in factor])

    def sample(self, state, factor, k, z):
        return state.origins[k] + (state.means[k] + z @ factor[k].T)

    @staticmethod
    def _n_covariance_parameters(n_components, n_features):
        return n_components * n_features * (n_features + 1) / 2

    @staticmethod
    def _shrunk(covariances, s):
        d = covariances.shape[-1]
        mu = np.trace(covariances, axis1=-2, axis2=-1) / d
        shrunk = (1.0 - s)[:, None, None] * covariances
        shrunk.reshape(len(shrunk), d * d)[:, :: d + 1] += (s * mu)[:, None]
        return shrunk

    # -- scikit-learn's shapes (GaussianMixture's covariances_ and precisions_)

    def sklearn_precisions(self, factor, n_features):
        """The precisions in the shape of the structure's covariances."""
        return self.precisions(factor, n_features)

    def sklearn_precisions_cholesky(self, factor):
        """``P`` with ``P @ P.T`` the precision, as GaussianMixture's ``precisions_cholesky_``."""
        eye = np.eye(factor.shape[-1])
        return np.array([solve_lower(L, eye).T for L in factor])

    def covariances_from_precisions(self, precisions, n_components, n_features):
        """The structure's covariances of precisions shaped as in GaussianMixture."""
        shape = self._shape(n_components, n_features)
        matrices = _checked_shape(precisions, shape, "precisions_init").reshape(
            -1, n_features, n_features
        )
        try:
            covariances = np.array([np.linalg.inv(_checked_spd(p)) for p in matrices])
        except np.linalg.LinAlgError:
            raise ValueError("precisions_init must be symmetric positive definite.") from None
        return covariances.reshape(shape)


class Tied(Full):
    """K means sharing one ``(d, d)`` covariance: the pooled within-component covariance.

    The shared covariance is ``sum_k w_k Sigma_k / sum_k w_k``, where
    ``Sigma_k`` is what ``'full'`` would hold: with one ``retain`` for every
    component, a step gains each component's scatter about its batch mean
    plus ``kept_k B_k / (kept_k + B_k) delta_k delta_k'`` (MATH.md section 9),
    in one symmetric rank-k product. With hard labels and ``retain = 1``
    this is :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`'s
    ``covariance_``.
    """

    name = "tied"

    @staticmethod
    def _shape(n_components, n_features):
        return n_features, n_features

    def step(self, state, X, weights, retain):
        if np.ndim(retain) != 0:
            raise ValueError(
                "covariance_type='tied' needs one retention for every component (a scalar "
                "retain): the shared covariance forgets at one rate."
            )
        if np.ndim(weights) < 2:  # one component: its own shared covariance
            weights = np.full((len(X), 1), weights) if np.ndim(weights) == 0 else weights[:, None]
        return super().step(state, X, weights, retain)

    def _step(self, state, X, weights, rates, kept, gained, total):
        origins, means = state.origins.copy(), state.means.copy()
        updated = np.flatnonzero(rates > 0)
        if not len(updated):
            return Gaussians(total, origins, means, state.covariances)
        if np.ndim(weights) == 0:
            sizes = np.full(len(updated), len(X))
        else:
            sizes = np.count_nonzero(weights[:, updated] > 0, axis=0)
        # The new covariance is built in place, kept S / total + R'R / total,
        # R the components' centred rows and their pulls toward the batch
        # means, gathered in a buffer of about 2 MB and added by BLAS syrk
        # each time it fills: besides the state, one d x d array and the
        # buffer, whatever the batch size.
        kept_total, total_weight = kept.sum(), total.sum()
        d = X.shape[1]
        covariance = np.multiply(
            state.covariances, kept_total / total_weight, out=np.empty((d, d))
        )
        capacity = max(_BUFFER_BYTES // (8 * d), int(sizes.max()) + 1)
        R, used = np.empty((min(capacity, int(sizes.sum()) + len(updated)), d)), 0
        for k in updated:
            Xk, w = _rows(X, weights, k)
            if used + len(Xk) + 1 > len(R):
                add_scatter(covariance, R[:used], 1.0 / total_weight)
                used = 0
            block = R[used : used + len(Xk) + 1]
            used += len(Xk) + 1
            if kept[k] == 0:  # a fresh start at the rows
                origins[k] = Xk[0]
            _, m, _ = _centred(Xk, w, origins[k], extra_rows=1, out=block)
            if w is None:  # every row has the weight `weights`
                block[:-1] *= math.sqrt(weights)
            else:
                block[:-1] *= np.sqrt(w)[:, None]
            if kept[k] > 0:
                delta = m - state.means[k]
                np.multiply(delta, math.sqrt(kept[k] * gained[k] / total[k]), out=block[-1])
                means[k] = state.means[k] + rates[k] * delta
            else:
                block[-1] = 0.0
                means[k] = m
        add_scatter(covariance, R[:used], 1.0 / total_weight)
        mirror_lower(covariance)
        return Gaussians(total, origins, means, _representable(covariance.trace(), covariance))

    def combine(self, a, b):
        total = a.weights + b.weights
        origins, means, scatter = a.origins.copy(), a.means.copy(), []
        for k in np.flatnonzero(b.weights > 0):
            if a.weights[k] == 0:
                origins[k], means[k] = b.origins[k], b.means[k]
                continue
            delta = (b.origins[k] - a.origins[k]) + b.means[k] - a.means[k]
            scatter.append(math.sqrt(a.weights[k] * b.weights[k] / total[k]) * delta)
            means[k] = a.means[k] + b.weights[k] / total[k] * delta
        covariance = a.weights.sum() * a.covariances + b.weights.sum() * b.covariances
        if scatter:
            D = np.array(scatter)
            covariance += D.T @ D
        covariance /= total.sum()
        return Gaussians(total, origins, means, _representable(covariance.trace(), covariance))

    def from_full(self, locations, covariances, weights=None):
        """The state with these means and the first of the covariances, shared."""
        return Gaussians(*_start(locations, weights), covariances[0])

    def to_full(self, state):
        return np.broadcast_to(state.covariances, (len(state.means), *state.covariances.shape))

    def regularize(self, state, reg_covar):
        magnitudes = _magnitudes(state).max(axis=0)
        covariance = _regularize_matrix(magnitudes, state.covariances, reg_covar)
        return state if covariance is state.covariances else state._replace(covariances=covariance)

    def factor(self, state):
        return _cholesky(state.covariances)[None]

    def regularized(self, state, reg_covar):
        magnitudes = _magnitudes(state).max(axis=0)
        covariance, factor = _regularized_matrix(magnitudes, state.covariances, reg_covar)
        if covariance is not state.covariances:
            state = state._replace(covariances=covariance)
        return state, factor[None]

    def mahalanobis(self, state, factor, X):
        out = np.empty((len(state.means), len(X)))
        for k in range(len(state.means)):
            _matrix_mahalanobis(X, state.origins[k], state.means[k], factor[0], out[k])
        return out.T

    def _trace_solve(self, factor, raw):
        L = factor[0]
        trace = np.trace(solve_lower(L, solve_lower(L, raw.covariances), trans=True))
        return np.full(len(raw.means), trace)

    def sample(self, state, factor, k, z):
        return state.origins[k] + (state.means[k] + z @ factor[0].T)

    def take(self, state, order):
        return Gaussians(*(field[order] for field in state[:3]), state.covariances)

    @staticmethod
    def _n_covariance_parameters(n_components, n_features):
        return n_features * (n_features + 1) / 2

    def shrink(self, state, intensities):
        """The shared covariance toward its mean variance (one intensity: the first)."""
        s = float(np.ravel(intensities)[0])
        if s == 0:
            return state
        return state._replace(covariances=self._shrunk(state.covariances[None], np.array([s]))[0])

    def sklearn_precisions(self, factor, n_features):
        return self.precisions(factor, n_features)[0]

    def sklearn_precisions_cholesky(self, factor):
        return super().sklearn_precisions_cholesky(factor)[0]


def _checked_shape(value, shape, name):
    """``value`` as a finite float array of ``shape``, or a ValueError naming it."""
    array = np.asarray(value, dtype=float)
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite with shape {shape}, got shape {array.shape}.")
    return array


def _checked_spd(matrix):
    if not np.allclose(matrix, matrix.T):
        raise np.linalg.LinAlgError
    np.linalg.cholesky(matrix)
    return matrix


def _start(locations, weights):
    """``(weights, origins, means)`` of a state with these means (weights 1 if None)."""
    weights = np.ones(len(locations)) if weights is None else weights
    return weights, np.array(locations, dtype=float), np.zeros(np.shape(locations))


# -- diag and spherical: variances ------------------------------------------------


class Diag(_Structure):
    """One variance per feature and component, shape (K, d); no ``d x d`` array."""

    name = "diag"

    @staticmethod
    def _shape(n_components, n_features):
        return n_components, n_features

    _component_step = staticmethod(_diag_step_toward)

    @staticmethod
    def project(A):
        return np.diag(np.diag(A))

    @staticmethod
    def _component_pool(location, variances, m, C, eta):
        delta = m - location
        new = (1 - eta) * variances + eta * C + (eta * (1 - eta)) * delta * delta
        return location + eta * delta, _representable(new.sum(), new)

    def _per_feature(self, values, n_features):
        """Covariance-shaped values as one per feature and component, shape (K, d)."""
        return values

    def _from_per_feature(self, values):
        return values

    def from_full(self, locations, covariances, weights=None):
        """The state with these means and the diagonals of ``(K, d, d)`` covariances."""
        variances = np.diagonal(covariances, axis1=1, axis2=2)
        return Gaussians(*_start(locations, weights), self._from_per_feature(variances.copy()))

    def to_full(self, state):
        K, d = state.means.shape
        return self._diagonal_matrices(self._per_feature(state.covariances, d))

    @staticmethod
    def _diagonal_matrices(values):
        K, d = values.shape
        full = np.zeros((K, d, d))
        full.reshape(K, d * d)[:, :: d + 1] = values
        return full

    def regularize(self, state, reg_covar):
        """The rule of ``'full'`` (see :func:`_regularize_matrix`), for variances.

        A diagonal's correlation matrix is the identity on the features that
        vary, so only features that have not varied change: to the variance
        ``reg_covar``, in their own units.
        """
        if reg_covar == 0:
            return state
        d = state.means.shape[1]
        variances = self._per_feature(state.covariances, d)
        constant = _numerically_constant(variances, self._magnitudes(state))
        if not constant.any():
            return state
        filled = np.where(constant, np.maximum(variances, reg_covar), variances)
        return state._replace(covariances=self._from_per_feature(filled))

    @staticmethod
    def _magnitudes(state):
        return _magnitudes(state)

    def factor(self, state):
        """Standard deviations, of the covariances' shape; a ValueError if one is not positive."""
        c = state.covariances
        if not (np.isfinite(c).all() and (c > 0).all()):
            raise _not_positive_definite("a variance is zero, negative or not finite")
        return np.sqrt(c)

    def log_det(self, factor, n_features):
        return 2.0 * np.log(self._per_feature(factor, n_features)).sum(axis=-1)

    def mahalanobis(self, state, factor, X):
        std = self._per_feature(factor, X.shape[1])
        out = np.empty((len(X), len(state.means)))
        for k in range(len(state.means)):
            Z = X - state.origins[k]
            Z -= state.means[k]
            Z /= std[k]
            np.einsum("ij,ij->i", Z, Z, out=out[:, k])
        return out

    def _trace_solve(self, factor, raw):
        d = raw.means.shape[1]
        ratio = self._per_feature(raw.covariances, d) / self._per_feature(factor, d) ** 2
        return ratio.sum(axis=-1)

    def precisions(self, factor, n_features):
        return self._diagonal_matrices(1.0 / self._per_feature(factor, n_features) ** 2)

    def sample(self, state, factor, k, z):
        return state.origins[k] + (state.means[k] + z * self._per_feature(factor, z.shape[1])[k])

    @staticmethod
    def _n_covariance_parameters(n_components, n_features):
        return n_components * n_features

    @staticmethod
    def _shrunk(variances, s):
        return (1.0 - s)[:, None] * variances + (
            s[:, None] * variances.mean(axis=1, keepdims=True)
        )

    def sklearn_precisions(self, factor, n_features):
        return 1.0 / factor**2

    def sklearn_precisions_cholesky(self, factor):
        return 1.0 / factor

    def covariances_from_precisions(self, precisions, n_components, n_features):
        precisions = _checked_shape(
            precisions, self._shape(n_components, n_features), "precisions_init"
        )
        if np.any(precisions <= 0):
            raise ValueError("precisions_init must be positive.")
        return 1.0 / precisions


class Spherical(Diag):
    """One variance per component, shape (K,): the mean of the diagonal's variances.

    Every operation of ``'diag'`` with the variance repeated over the
    features; the projection of a step is the mean of its diagonal, which is
    linear, so pooling commutes with it.
    """

    name = "spherical"

    @staticmethod
    def _shape(n_components, n_features):
        return (n_components,)

    @staticmethod
    def _component_step(location, variance, X, w, eta, origin):
        variances = np.full(X.shape[1], variance)
        location, variances = _diag_step_toward(location, variances, X, w, eta, origin)
        return location, variances.mean()

    @staticmethod
    def project(A):
        return np.mean(np.diag(A)) * np.eye(len(A))

    @staticmethod
    def _component_pool(location, variance, m, C, eta):
        delta = m - location
        new = (1 - eta) * variance + eta * C + (eta * (1 - eta)) * (delta @ delta) / len(delta)
        return location + eta * delta, _representable(new, new)

    def _per_feature(self, values, n_features):
        return np.broadcast_to(np.asarray(values)[:, None], (len(values), n_features))

    def _from_per_feature(self, values):
        return values.mean(axis=1)

    @staticmethod
    def _n_covariance_parameters(n_components, n_features):
        return n_components

    @staticmethod
    def _shrunk(variances, s):
        return variances  # one variance: its own mean

    @staticmethod
    def _magnitudes(state):
        """One variance for all features: rounding of the largest of them."""
        magnitudes = _magnitudes(state)
        return np.broadcast_to(magnitudes.max(axis=1, keepdims=True), magnitudes.shape)


#: Public name of each covariance structure -> its operations.
STRUCTURES = {s.name: s for s in (Full(), Diag(), Spherical(), Tied())}
#: One full covariance shared by the components (a classifier's ``covariance='shared'``).
SHARED = STRUCTURES["tied"]
