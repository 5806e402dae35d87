"""Coordinates in which the Euclidean solvers ('sgd', 'adam') take their steps.

Each parametrization maps a parameter tuple to the moments ``(mu, Sigma)``
and back, and gives the gradient of the weighted *mean* log-likelihood of a
batch with respect to its own parameters.  ``project`` is the covariance
structure (``project`` of ``_gaussians.STRUCTURES``), applied to the matrix
gradient so that diagonal and spherical models stay in their subspace.

Gradients (``r = x - mu``, ``S`` the weighted mean of ``r r'``, ``G`` the
symmetric-matrix gradient)::

    d/dmu      = Sigma^-1 mean(r)
    d/dSigma   = G = 1/2 (Sigma^-1 S Sigma^-1 - Sigma^-1)
    d/dL       = tril(2 G L) = tril(L'^-1 (A - I)),  A = L^-1 S L'^-1
    d/dU       = diag(1 / U_ii) - tril(mean(r e')),  e = U' r,  U U' = Sigma^-1

Log-Cholesky factors store ``log`` of the diagonal, so every parameter value
is a valid Gaussian; their diagonal gradients pick up the chain-rule factor
``L_ii``.
"""

from functools import lru_cache

import numpy as np
from scipy.linalg import cho_solve

from ._linalg import cholesky_lower, solve_lower

__all__ = ["PARAMETRIZATIONS"]


@lru_cache
def _lower_mask(n, k):
    return np.tri(n, k=k, dtype=bool)


def _tril(A, k=0):
    """``np.tril(A, k)`` for a square ``A``, with the mask built once per size.

    ``np.tril`` builds its mask on every call, which costs more than the
    rest of a small step.
    """
    return np.where(_lower_mask(len(A), k), A, 0.0)


def _from_log_diag(M):
    L = _tril(M, -1)
    np.fill_diagonal(L, np.exp(np.diag(M)))
    return L


def _to_log_diag(L):
    M = _tril(L, -1)
    np.fill_diagonal(M, np.log(np.diag(L)))
    return M


def _chain_log_diag(dL, L):
    """Gradient with respect to a log-diagonal factor from that of the factor."""
    dM = _tril(dL, -1)
    np.fill_diagonal(dM, np.diag(dL) * np.diag(L))
    return dM


def _whitened_moments(X, w, location, chol):
    """Weighted mean of ``z = L^-1 r`` and ``A = mean(z z')``; ``w`` sums to 1."""
    Z = solve_lower(chol, (X - location).T)
    return Z @ w, (Z * w) @ Z.T


def _mean_gradient(chol, z_mean):
    return solve_lower(chol, z_mean, trans=True)


class Cholesky:
    """``(mu, M)``: ``Sigma = L L'``, ``L`` lower with ``diag(L) = exp(diag(M))``."""

    def __init__(self, project):
        self.project = project

    def from_moments(self, location, covariance):
        return location.copy(), _to_log_diag(cholesky_lower(covariance))

    def to_moments(self, params):
        location, M = params
        L = _from_log_diag(M)
        return location, L @ L.T

    def gradient(self, params, X, w):
        location, M = params
        L = _from_log_diag(M)
        z_mean, A = _whitened_moments(X, w, location, L)
        A.flat[:: A.shape[0] + 1] -= 1.0
        dL = _tril(solve_lower(L, A, trans=True))
        return _mean_gradient(L, z_mean), self.project(_chain_log_diag(dL, L))


class Precision:
    """``(mu, N)``: ``Sigma^-1 = U U'``, ``U`` lower with ``diag(U) = exp(diag(N))``.

    The form of GaussianMixture's ``precisions_cholesky_``; the log-likelihood
    is concave in ``U`` and its gradient needs no triangular solve.
    """

    def __init__(self, project):
        self.project = project

    def from_moments(self, location, covariance):
        precision = cho_solve((cholesky_lower(covariance), True), np.eye(len(location)))
        return location.copy(), _to_log_diag(cholesky_lower(precision))

    def to_moments(self, params):
        location, N = params
        U_inv = solve_lower(_from_log_diag(N), np.eye(len(location)))
        return location, U_inv.T @ U_inv

    def gradient(self, params, X, w):
        location, N = params
        U = _from_log_diag(N)
        R = X - location
        E = R @ U
        dU = -_tril((R * w[:, None]).T @ E)
        dU.flat[:: U.shape[0] + 1] += 1.0 / np.diag(U)
        return U @ (w @ E), self.project(_chain_log_diag(dU, U))


class Covariance:
    """``(mu, Sigma)`` themselves: the textbook coordinates.

    The badly scaled choice (curvature ~ ``Sigma^-2``), kept so it can be
    compared; the solver's trust region keeps every step positive definite.
    """

    def __init__(self, project):
        self.project = project

    def from_moments(self, location, covariance):
        return location.copy(), covariance.copy()

    def to_moments(self, params):
        return params

    def gradient(self, params, X, w):
        location, covariance = params
        L = cholesky_lower(covariance)
        z_mean, A = _whitened_moments(X, w, location, L)
        A.flat[:: A.shape[0] + 1] -= 1.0
        T = solve_lower(L, A, trans=True)
        G = 0.5 * solve_lower(L, T.T, trans=True)
        return _mean_gradient(L, z_mean), self.project(0.5 * (G + G.T))


#: Public name -> parametrization class, constructed with a covariance projection.
PARAMETRIZATIONS = {
    "cholesky": Cholesky,
    "precision": Precision,
    "covariance": Covariance,
}
