"""``'diag'`` and ``'spherical'``: variances, never a ``(d, d)`` array (``O(n d)`` per step)."""

import numpy as np

from .._gaussians import Gaussians, _diag_step_toward, _representable
from .._regularization import component_magnitudes, not_positive_definite, numerically_constant
from ._base import Structure, checked_shape, start_of

__all__ = ["Diag", "Spherical"]


class Diag(Structure):
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
    def projected_squares(diagonals, w, matrix):
        return np.diag(w @ diagonals**2)

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
        return Gaussians(*start_of(locations, weights), self._from_per_feature(variances.copy()))

    def to_full(self, state):
        K, d = state.means.shape
        return self._diagonal_matrices(self._per_feature(state.covariances, d))

    @staticmethod
    def _diagonal_matrices(values):
        K, d = values.shape
        full = np.zeros((K, d, d))
        full.reshape(K, d * d)[:, :: d + 1] = values
        return full

    def _filled(self, state, reg_covar):
        """The fill-in rule of ``'full'`` (``regularize_matrix``), for variances.

        A diagonal's correlation matrix is the identity on the features that
        vary, so only features that have not varied change: to the variance
        ``reg_covar``, in their own units, whatever rounding they kept (at
        magnitude 1e20 the rounding of a constant feature is a variance of
        about 1e9, which is no spread).
        """
        if reg_covar == 0:
            return state
        d = state.means.shape[1]
        variances = self._per_feature(state.covariances, d)
        constant = numerically_constant(variances, self._magnitudes(state))
        if not constant.any():
            return state
        filled = np.where(constant, reg_covar, variances)
        return state._replace(covariances=self._from_per_feature(filled))

    @staticmethod
    def _magnitudes(state):
        return component_magnitudes(state)

    def factor(self, state):
        """Standard deviations, of the covariances' shape; a ValueError if one is not positive."""
        c = state.covariances
        if not (np.isfinite(c).all() and (c > 0).all()):
            raise not_positive_definite("a variance is zero, negative or not finite")
        return np.sqrt(c)

    def log_det(self, factor, n_features):
        return 2.0 * np.log(self._per_feature(factor, n_features)).sum(axis=-1)

    def mahalanobis(self, state, factor, X):
        std = self._per_feature(factor, X.shape[1])
        out = np.empty((len(state.means), len(X)))  # each component's distances contiguous
        for k in range(len(state.means)):
            Z = X - state.origins[k]
            Z -= state.means[k]
            Z /= std[k]
            np.einsum("ij,ij->i", Z, Z, out=out[k])
        return out.T

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
    def _shrunk(variances, s, target="spherical"):
        if target == "diag":
            return variances  # diagonal already: its own target
        return (1.0 - s)[:, None] * variances + (
            s[:, None] * variances.mean(axis=1, keepdims=True)
        )

    def sklearn_precisions(self, factor, n_features):
        return 1.0 / factor**2

    def sklearn_precisions_cholesky(self, factor):
        return 1.0 / factor

    def covariances_from_precisions(self, precisions, n_components, n_features):
        precisions = checked_shape(
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
    def projected_squares(diagonals, w, matrix):
        return np.mean(diagonals, axis=1) ** 2 @ w * np.eye(diagonals.shape[1])

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
    def _shrunk(variances, s, target="spherical"):
        return variances  # one variance: its own mean and its own diagonal

    @staticmethod
    def _magnitudes(state):
        """One variance for all features: rounding of the largest of them."""
        magnitudes = component_magnitudes(state)
        return np.broadcast_to(magnitudes.max(axis=1, keepdims=True), magnitudes.shape)
