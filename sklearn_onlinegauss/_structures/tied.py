"""``'tied'``: K means sharing one ``(d, d)`` covariance, the pooled within-component one."""

import math

import numpy as np

from .._gaussians import Gaussians, _centred, _representable
from .._linalg import add_scatter, mirror_lower, solve_lower
from .._regularization import (
    cholesky,
    component_magnitudes,
    regularized_matrix,
)
from ._base import rows_of, start_of
from .full import Full, _beyond_float64, _matrix_mahalanobis, block_buffers, whitenings

__all__ = ["Tied"]

#: Size of the buffer of centred rows a shared-covariance step fills before
#: each rank update (one component's rows are never split).
_BUFFER_BYTES = 2**21


class Tied(Full):
    """K means sharing one ``(d, d)`` covariance: the pooled within-component covariance.

    The shared covariance is ``sum_k w_k Sigma_k / sum_k w_k``, where
    ``Sigma_k`` is what ``'full'`` would hold: with one ``retain`` for every
    component, a step gains each component's scatter about its batch mean
    plus ``kept_k B_k / (kept_k + B_k) delta_k delta_k'`` (:ref:`theory-mixtures`),
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
            Xk, w = rows_of(X, weights, k)
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
        return Gaussians(*start_of(locations, weights), covariances[0])

    def to_full(self, state):
        return np.broadcast_to(state.covariances, (len(state.means), *state.covariances.shape))

    def factor(self, state):
        return cholesky(state.covariances)[None]

    def regularized(self, state, reg_covar):
        magnitudes = component_magnitudes(state).max(axis=0)
        covariance, factor = regularized_matrix(magnitudes, state.covariances, reg_covar)
        if covariance is not state.covariances:
            state = state._replace(covariances=covariance)
        return state, factor[None]

    def mahalanobis(self, state, factor, X):
        whitening = whitenings(factor, len(X))
        W = None if whitening is None else whitening[0]
        if len(X) == 1 and W is not None:  # one row: every component at once
            R = X - state.origins
            R -= state.means
            with _beyond_float64():
                Z = R @ W
            return np.einsum("kj,kj->k", Z, Z)[None]
        out = np.empty((len(state.means), len(X)))
        buffers = block_buffers(X, X.shape[1])
        for k in range(len(state.means)):
            _matrix_mahalanobis(X, state.origins[k], state.means[k], factor[0], out[k], W, buffers)
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

    def shrink(self, state, intensities, target="spherical"):
        """The shared covariance toward its mean variance or its diagonal (``target``; one
        intensity: the first)."""
        s = float(np.ravel(intensities)[0])
        if s == 0:
            return state
        shrunk = self._shrunk(state.covariances[None], np.array([s]), target)
        return state._replace(covariances=shrunk[0])

    def sklearn_precisions(self, factor, n_features):
        return self.precisions(factor, n_features)[0]

    def sklearn_precisions_cholesky(self, factor):
        return super().sklearn_precisions_cholesky(factor)[0]
