"""``'full'``: one ``(d, d)`` covariance per component."""

import weakref

import numpy as np
from scipy.linalg import cho_solve

from .._gaussians import Gaussians, pool, scoring_rows, step_toward
from .._linalg import block_threads_for, lower_inverse, solve_lower
from .._regularization import (
    cholesky,
    component_magnitudes,
    regularized_matrix,
)
from .._threads import lapack_threads_for, scoring_threads_for
from ._base import Structure, checked_shape, checked_spd, start_of

__all__ = ["Full"]


#: The whitening matrices of the factors in use: ``id(factor) -> (weakref, matrices)``.
_WHITENINGS = {}


def _beyond_float64():
    """The products of rows too far for float64 give inf (or NaN, from inf - inf), which
    the reads score as they did the solves', with no warning."""
    return np.errstate(over="ignore", invalid="ignore")


#: Flops of a triangular inverse (``d**3 / 3``) small enough to compute for any read.
SMALL_INVERSE = 2**12


def whitenings(factor, n_rows):
    """``L_k^-T`` of each lower factor ``L_k`` of ``factor`` (K, d, d), C-ordered, or None.

    ``(x - mu) @ W_k`` is ``L_k^-1 (x - mu)``: a matrix product, which runs
    faster than the triangular solve it replaces at small and moderate ``d``
    (``benchmarks/family_reads.py``), and rounds as well (both are backward
    stable, of error bounded by the factor's condition). Computed once per factor
    array, by identity (a read's factor is kept with its state and never
    changed in place), and kept while that array lives. None (solve instead)
    where a call of ``n_rows`` rows would not repay the inverses (fewer rows than
    features, and none computed yet; small inverses, of ``SMALL_INVERSE`` flops
    or fewer, cost less than a solve's call does and are computed for one row), or
    where a factor is singular.
    """
    key = id(factor)
    entry = _WHITENINGS.get(key)
    if entry is not None and entry[0]() is factor:
        return entry[1]
    d = factor.shape[-1]
    if n_rows < d and d**3 > 3 * SMALL_INVERSE:
        return None
    inverses = [lower_inverse(L) for L in factor]
    if any(inverse is None for inverse in inverses):
        return None
    matrices = np.array([inverse.T for inverse in inverses])

    def forget(ref, key=key):
        if _WHITENINGS.get(key, (None,))[0] is ref:
            del _WHITENINGS[key]

    _WHITENINGS[key] = (weakref.ref(factor, forget), matrices)
    return matrices


def _matrix_mahalanobis(X, origin, mean, chol, out, whitening=None, buffers=None):
    """Squared distances ``||L^-1 (x - mu)||^2`` into ``out``, in blocks of rows.

    ``whitening``: ``L^-T`` (:func:`whitenings`), to multiply by instead of
    solving. ``buffers``: :func:`block_buffers` of ``X``, which the blocks reuse
    (fresh temporaries of that size cost more to fault in than to fill).
    """
    d = len(mean)
    rows = scoring_rows(d)
    if len(X) <= rows:  # one block: a one-row read skips the loop's slicing
        R = X - origin
        R -= mean
        if whitening is None:
            Z = solve_lower(chol, R.T)
            return np.einsum("ij,ij->j", Z, Z, out=out)
        with scoring_threads_for(len(X), d), _beyond_float64():
            Z = R @ whitening
            return _row_squares(Z, out)
    work = len(X) * d**2  # a long call keeps its threads for every block, a short one none
    centred, whitened = block_buffers(X, d) if buffers is None else buffers
    if whitening is None:
        for start in range(0, len(X), rows):
            block = X[start : start + rows]
            R = np.subtract(block, origin, out=centred[: len(block)])
            R -= mean
            Z = solve_lower(chol, R.T, call_work=work)
            np.einsum("ij,ij->j", Z, Z, out=out[start : start + rows])
        return out
    with block_threads_for(work), _beyond_float64():
        for start in range(0, len(X), rows):
            block = X[start : start + rows]
            R = np.subtract(block, origin, out=centred[: len(block)])
            R -= mean
            Z = np.matmul(R, whitening, out=whitened[: len(block)])
            _row_squares(Z, out[start : start + rows])
    return out


def _row_squares(Z, out):
    """Each row's sum of squares into ``out``, squaring ``Z`` in place: a product with
    ones (BLAS's), which sums short rows faster than ``einsum`` does."""
    np.square(Z, out=Z)
    return np.matmul(Z, np.ones(Z.shape[1]), out=out)


def block_buffers(X, n_features):
    """Two ``(rows, d)`` arrays for :func:`_matrix_mahalanobis`'s blocks of ``X``.

    None where ``X`` is one block, which needs none.
    """
    rows = scoring_rows(n_features)
    if len(X) <= rows:
        return None
    return np.empty((rows, n_features)), np.empty((rows, n_features))


class Full(Structure):
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

    @staticmethod
    def projected_squares(diagonals, w, matrix):
        """Weighted mean of the squared entries of per-row matrices, projected.

        ``diagonals`` (n, d) are the rows' diagonals, ``w`` their weights
        (summing to 1), ``matrix(squares_of_diagonal)`` the full ``(d, d)``
        mean of squares, computed only by the structures that need it.
        """
        return matrix(w @ diagonals**2)

    def from_full(self, locations, covariances, weights=None):
        """The state with these means and (projected) ``(K, d, d)`` covariances."""
        return Gaussians(*start_of(locations, weights), covariances)

    def to_full(self, state):
        return state.covariances

    def factor(self, state):
        """Lower Cholesky factors, shape (K, d, d); a ValueError if one fails."""
        return np.array([cholesky(c) for c in state.covariances])

    def regularized(self, state, reg_covar):
        changed, covariances, factors = False, [], []
        for m, old in zip(component_magnitudes(state), state.covariances, strict=True):
            new, factor = regularized_matrix(m, old, reg_covar)
            changed |= new is not old  # the rule returns a determined covariance as it is
            covariances.append(new)
            factors.append(factor)
        if changed:
            state = state._replace(covariances=np.array(covariances))
        return state, np.array(factors)

    def log_det(self, factor, n_features):
        return 2.0 * np.log(factor.diagonal(axis1=-2, axis2=-1)).sum(axis=-1)

    def _one_distance(self, state, factor, X):
        """The squared distance of one row to one Gaussian, as a scalar, or None.

        The fast path of a one-row read (vectors only, no temporaries of
        shape ``(1, 1)``, whose arithmetic costs more than a scalar's); None
        where ``X`` is more rows, the state more Gaussians, or no inverse is kept.
        """
        if len(X) != 1 or len(state.means) != 1:
            return None
        whitening = whitenings(factor, 1)
        if whitening is None:
            return None
        r = X[0] - state.origins[0]
        r -= state.means[0]
        with _beyond_float64():  # ndarray.dot: less per call than the @ operator's
            z = r.dot(whitening[0])
            return z.dot(z)

    def log_density(self, state, factor, X, normalizers=None):
        distance = None if normalizers is None else self._one_distance(state, factor, X)
        if distance is None:
            return super().log_density(state, factor, X, normalizers)
        return np.array([[-0.5 * (distance + normalizers[0])]])

    def mahalanobis(self, state, factor, X):
        distance = self._one_distance(state, factor, X)
        if distance is not None:
            return np.array([[distance]])
        whitening = whitenings(factor, len(X))
        if len(X) == 1 and whitening is not None:  # one row: every component at once
            R = X - state.origins
            R -= state.means
            with _beyond_float64():
                Z = np.matmul(R[:, None, :], whitening)[:, 0]
            return np.einsum("kj,kj->k", Z, Z)[None]
        out = np.empty((len(state.means), len(X)))
        buffers = block_buffers(X, X.shape[1])
        for k in range(len(state.means)):
            W = None if whitening is None else whitening[k]
            _matrix_mahalanobis(X, state.origins[k], state.means[k], factor[k], out[k], W, buffers)
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
    def _shrunk(covariances, s, target="spherical"):
        d = covariances.shape[-1]
        shrunk = (1.0 - s)[:, None, None] * covariances
        diagonals = shrunk.reshape(len(shrunk), d * d)[:, :: d + 1]
        if target == "diag":  # the variances kept, the covariances shrunk
            diagonals[...] = covariances.reshape(len(shrunk), d * d)[:, :: d + 1]
            return shrunk
        mu = np.trace(covariances, axis1=-2, axis2=-1) / d
        diagonals += (s * mu)[:, None]
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
        matrices = checked_shape(precisions, shape, "precisions_init").reshape(
            -1, n_features, n_features
        )
        try:
            covariances = np.array([np.linalg.inv(checked_spd(p)) for p in matrices])
        except np.linalg.LinAlgError:
            raise ValueError("precisions_init must be symmetric positive definite.") from None
        return covariances.reshape(shape)
