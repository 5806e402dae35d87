"""What every covariance structure shares: the pooled step's component loop, reads per component.

Each structure is one object implementing the same operations on a
:class:`~.._gaussians.Gaussians` state, as ``scipy.stats.Covariance`` has one
class per form, and is the only code that knows its covariance's shape:

- ``empty(K, d)``, ``from_full(means, covariances)``: states to start from;
- ``step(state, X, weights, retain)``: the natural-gradient step of every
  component toward the rows of ``X``: component ``k`` keeps
  ``retain * weights_k`` of its weight and gains ``B_k = sum_i w_ik`` from
  the rows, and its new moments are those of the pooled group
  (:ref:`theory-mixtures`);
- ``combine(a, b)``: the exact pooling of two states; ``take``: components;
- ``regularized``: what a read needs (fill-in, factors); ``shrink``;
- ``mahalanobis``, ``log_density``: for all K components at once, ``(n, K)``;
- ``sample``, ``to_full``, ``precisions``, ``expected_log_density``,
  ``project`` (a ``d x d`` matrix onto the structure, for the Euclidean
  solvers), ``projected_squares``;
- ``n_parameters`` and scikit-learn's shapes (``sklearn_precisions``,
  ``sklearn_precisions_cholesky``, ``covariances_from_precisions``).
"""

import numpy as np

from .._gaussians import _LOG_2PI, Gaussians

__all__ = ["Structure", "checked_shape", "rows_of", "start_of", "totals"]


def rows_of(X, weights, k):
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


def totals(weights, n_rows, n_components):
    """Weight each component gains from the rows, shape (K,)."""
    if isinstance(weights, float):
        return np.full(n_components, weights * n_rows)
    if weights.ndim == 1:
        return np.array([weights.sum()])
    return weights.sum(axis=0)


class Structure:
    """What every structure shares: rates, the component loop, reads per component."""

    name = None

    def regularized(self, state, reg_covar):
        """``(state with reg_covar's fill-in, its factor)``: what every read needs."""
        state = self._filled(state, reg_covar)
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
        gained = totals(weights, len(X), len(state.weights))
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
        Xk, w = rows_of(X, weights, k)
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

    def shrink(self, state, intensities, target="spherical"):
        """Each covariance toward its target: ``(1 - s_k) S_k + s_k T_k``.

        ``intensities``: one per component, shape (K,), or one for all. The
        ``'spherical'`` target ``T_k = mu_k I`` (``mu_k`` the mean variance) is
        :class:`~sklearn.covariance.ShrunkCovariance`'s;
        ``'diag'`` is ``diag(S_k)``: the variances kept, the covariances
        multiplied by ``1 - s_k``.
        """
        s = np.broadcast_to(np.asarray(intensities, dtype=float), state.weights.shape)
        if not s.any():
            return state
        return state._replace(covariances=self._shrunk(state.covariances, s, target))

    def normalizers(self, factor, n_features):
        """``d log 2 pi + log det Sigma_k`` per component, shape (K,)."""
        return n_features * _LOG_2PI + self.log_det(factor, n_features)

    def log_density(self, state, factor, X, normalizers=None):
        """Log-density of every row under every component, shape (n, K).

        ``-1/2 (d log 2 pi + log det Sigma_k + Mahalanobis)``: no density is
        exponentiated, and no covariance inverted (the full structures' distances
        multiply by the inverses of the Cholesky factors). ``normalizers``: the
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


def checked_shape(value, shape, name):
    """``value`` as a finite float array of ``shape``, or a ValueError naming it."""
    array = np.asarray(value, dtype=float)
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite with shape {shape}, got shape {array.shape}.")
    return array


def checked_spd(matrix):
    if not np.allclose(matrix, matrix.T):
        raise np.linalg.LinAlgError
    np.linalg.cholesky(matrix)
    return matrix


def start_of(locations, weights):
    """``(weights, origins, means)`` of a state with these means (weights 1 if None)."""
    weights = np.ones(len(locations)) if weights is None else weights
    return weights, np.array(locations, dtype=float), np.zeros(np.shape(locations))
