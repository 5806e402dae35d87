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

With ``squares=True`` a gradient also returns the weighted mean over rows of
each row's own squared gradient, entry by entry (what Adam's second-moment
estimate needs so that a batch's step does not depend on its size).  Each
row's matrix gradient has the form ``tril(a b' - C)`` (or ``a b' - C``), so
the mean of its squares is ``(A*A)' W (B*B) - 2 C * (A' W B) + C*C``: two
products over the batch, never one ``(d, d)`` matrix per row.
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
    L.flat[:: len(L) + 1] = np.exp(M.diagonal())
    return L


def _to_log_diag(L):
    M = _tril(L, -1)
    M.flat[:: len(M) + 1] = np.log(L.diagonal())
    return M


def _chain_log_diag(dL, L):
    """Gradient with respect to a log-diagonal factor from that of the factor."""
    dM = _tril(dL, -1)
    dM.flat[:: len(dM) + 1] = dL.diagonal() * L.diagonal()
    return dM


def _whitened_moments(X, w, location, chol):
    """``Z`` (columns ``L^-1 r``), its weighted mean and ``A = mean(z z')``; ``w`` sums to 1."""
    Z = solve_lower(chol, (X - location).T)
    return Z, Z @ w, (Z * w) @ Z.T


def _mean_gradient(chol, z_mean):
    return solve_lower(chol, z_mean, trans=True)


def _row_squares(structure, w, A, B, C, diagonal=None, lower=True):
    """Weighted mean over rows ``i`` of the squared entries of ``structure.project(T_i)``.

    ``T_i = tril(a_i b_i' - C)`` (``lower``; else ``a_i b_i' - C``), the rows
    of ``A``, ``B`` being ``a_i``, ``b_i``, its diagonal multiplied by
    ``diagonal`` (the log-Cholesky chain rule) when given; ``w`` sums to 1.
    """
    scale = 1.0 if diagonal is None else diagonal
    per_row_diagonal = scale * (A * B - C.diagonal())  # (n, d): the T_i's diagonals

    def off_diagonal(squares_diagonal):
        WB = B * w[:, None]
        S = (A * A).T @ (WB * B) - 2.0 * C * (A.T @ WB) + C * C
        np.maximum(S, 0.0, out=S)  # a mean of squares: below 0 only by rounding
        np.fill_diagonal(S, squares_diagonal)
        if lower:
            return _tril(S)
        return 0.5 * (S + S.T)  # exactly symmetric, as the symmetric gradient it scales

    return structure.projected_squares(per_row_diagonal, w, off_diagonal)


@lru_cache
def _log_factor_fisher(d):
    """Fisher information of the coordinates of a log-diagonal factor at ``N(0, I)``.

    1 for the mean and for each entry below the diagonal (``-1/2 tr(F'F)``
    for ``F = I + e E``: curvature 1), 2 for each log-diagonal entry
    (``m - exp(2 m) / 2`` at 0); 1 above the diagonal, which holds no
    parameter.
    """
    fisher = np.ones((d, d))
    np.fill_diagonal(fisher, 2.0)
    return _read_only(np.ones(d), fisher)


def _read_only(*arrays):
    """The arrays, unwritable: they are cached and shared by every step."""
    for a in arrays:
        a.setflags(write=False)
    return arrays


@lru_cache
def _covariance_fisher(d):
    return _read_only(np.ones(d), np.full((d, d), 0.5))


class Cholesky:
    """``(mu, M)``: ``Sigma = L L'``, ``L`` lower with ``diag(L) = exp(diag(M))``."""

    def __init__(self, structure):
        self.structure = structure
        self.project = structure.project

    def from_moments(self, location, covariance):
        return location.copy(), _to_log_diag(cholesky_lower(covariance))

    @staticmethod
    def standard_fisher(d):
        """Each coordinate's Fisher information at ``N(0, I)`` (:func:`_log_factor_fisher`)."""
        return _log_factor_fisher(d)

    def to_moments(self, params):
        location, M = params
        L = _from_log_diag(M)
        return location, L @ L.T

    def gradient(self, params, X, w, squares=False):
        location, M = params
        L = _from_log_diag(M)
        Z, z_mean, A = _whitened_moments(X, w, location, L)
        A.flat[:: A.shape[0] + 1] -= 1.0
        dL = _tril(solve_lower(L, A, trans=True))
        grads = _mean_gradient(L, z_mean), self.project(_chain_log_diag(dL, L))
        if not squares:
            return grads
        Y = solve_lower(L, Z, trans=True).T  # row i: L'^-1 z_i, the row's mean gradient
        K = solve_lower(L, np.eye(len(L)), trans=True)
        return grads, (w @ Y**2, _row_squares(self.structure, w, Y, Z.T, K, L.diagonal()))


class Precision:
    """``(mu, N)``: ``Sigma^-1 = U U'``, ``U`` lower with ``diag(U) = exp(diag(N))``.

    The form of GaussianMixture's ``precisions_cholesky_``; the log-likelihood
    is concave in ``U`` and its gradient needs no triangular solve.
    """

    def __init__(self, structure):
        self.structure = structure
        self.project = structure.project

    def from_moments(self, location, covariance):
        precision = cho_solve((cholesky_lower(covariance), True), np.eye(len(location)))
        return location.copy(), _to_log_diag(cholesky_lower(precision))

    @staticmethod
    def standard_fisher(d):
        return _log_factor_fisher(d)

    def to_moments(self, params):
        location, N = params
        U_inv = solve_lower(_from_log_diag(N), np.eye(len(location)))
        return location, U_inv.T @ U_inv

    def gradient(self, params, X, w, squares=False):
        location, N = params
        U = _from_log_diag(N)
        R = X - location
        E = R @ U
        dU = -_tril((R * w[:, None]).T @ E)
        dU.flat[:: U.shape[0] + 1] += 1.0 / U.diagonal()
        grads = U @ (w @ E), self.project(_chain_log_diag(dU, U))
        if not squares:
            return grads
        row_means = E @ U.T
        C = -np.diag(1.0 / U.diagonal())
        return grads, (w @ row_means**2, _row_squares(self.structure, w, -R, E, C, U.diagonal()))


class Covariance:
    """``(mu, Sigma)`` themselves: the textbook coordinates.

    The badly scaled choice (curvature ~ ``Sigma^-2``), kept so it can be
    compared; the solver's trust region keeps every step positive definite.
    """

    def __init__(self, structure):
        self.structure = structure
        self.project = structure.project

    def from_moments(self, location, covariance):
        return location.copy(), covariance.copy()

    @staticmethod
    def standard_fisher(d):
        """1 for the mean; 1/2 for every entry of ``Sigma`` at ``N(0, I)``.

        ``-1/2 log s - 1/(2 s)`` has second derivative ``-1/2`` at ``s = 1``;
        an off-diagonal pair moved together (the symmetric gradient) has
        curvature 1 and gradient twice its entries': 1/2 again.
        """
        return _covariance_fisher(d)

    def to_moments(self, params):
        return params

    def gradient(self, params, X, w, squares=False):
        location, covariance = params
        L = cholesky_lower(covariance)
        Z, z_mean, A = _whitened_moments(X, w, location, L)
        A.flat[:: A.shape[0] + 1] -= 1.0
        T = solve_lower(L, A, trans=True)
        G = 0.5 * solve_lower(L, T.T, trans=True)
        grads = _mean_gradient(L, z_mean), self.project(0.5 * (G + G.T))
        if not squares:
            return grads
        # Row i's gradient is (q q' - P) / 2, q = P r_i: q is also its mean gradient.
        Q = solve_lower(L, Z, trans=True).T
        P = cho_solve((L, True), np.eye(len(L)))
        return grads, (w @ Q**2, _row_squares(self.structure, w, Q / 2, Q, P / 2, lower=False))


#: Public name -> parametrization class, constructed with a covariance projection.
PARAMETRIZATIONS = {
    "cholesky": Cholesky,
    "precision": Precision,
    "covariance": Covariance,
}
