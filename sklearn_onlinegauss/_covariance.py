"""Covariance structures and the Gaussian log-density, written once for all solvers.

A covariance structure is the orthogonal projection (Frobenius inner product)
onto the subspace of matrices it allows. The natural solver projects its new
covariance, the Euclidean solvers project their gradients, so ``'diag'`` and
``'spherical'`` are one function each instead of a branch in every solver.
All covariances are stored as full ``(n_features, n_features)`` arrays.
"""

import numpy as np
from scipy.linalg import LinAlgError, eigh

from ._linalg import cholesky_lower, solve_lower

__all__ = [
    "COVARIANCE_TYPES",
    "cholesky_or_raise",
    "kl_divergence",
    "log_density",
    "mahalanobis",
    "mean_log_density",
    "regularize",
]


def _project_full(A):
    return A


def _project_diag(A):
    return np.diag(np.diag(A))


def _project_spherical(A):
    return np.mean(np.diag(A)) * np.eye(A.shape[0])


#: Public name of each covariance structure -> its projection ``A -> P(A)``.
COVARIANCE_TYPES = {
    "full": _project_full,
    "diag": _project_diag,
    "spherical": _project_spherical,
}


def regularize(location, covariance, reg_covar):
    """Raise the eigenvalues of the correlation matrix to at least ``reg_covar``.

    With ``D`` the diagonal of ``covariance`` and ``R = D^-1/2 Sigma D^-1/2``
    the correlation matrix, eigenvalues of ``R`` below ``reg_covar`` are
    raised to it.  Where the data determine the covariance (every eigenvalue
    of ``R`` is at least ``reg_covar``) it is returned unchanged, so the
    estimate is the exact maximum-likelihood one; otherwise (fewer samples
    than features, a constant feature, duplicated rows) only the missing
    directions are filled in.  Working on ``R`` makes the result independent
    of the units and offset of every feature.

    A constant feature has no variance to standardize by: it uses the mean
    variance of the other features (or the mean square of ``location``, or 1,
    when every feature is constant), so it ends with variance ``reg_covar``
    times that.

    Parameters
    ----------
    location : ndarray of shape (n_features,)
    covariance : ndarray of shape (n_features, n_features)
        Symmetric positive semi-definite.
    reg_covar : float
        Smallest eigenvalue allowed for the correlation matrix.

    Returns
    -------
    ndarray of shape (n_features, n_features)
    """
    if reg_covar == 0:
        return covariance
    n_features = len(location)
    variances = np.diag(covariance).copy()
    constant = ~(variances > 0)
    if constant.any():
        if constant.all():
            fallback = np.mean(location**2)
            variances[:] = fallback if fallback > 0 else 1.0
        else:
            variances[constant] = np.mean(variances[~constant])
    scale = np.sqrt(variances)
    correlation = covariance / np.outer(scale, scale)
    try:
        cholesky_lower(correlation - reg_covar * np.eye(n_features))
        return covariance
    except LinAlgError:
        pass
    eigenvalues, eigenvectors = eigh(correlation, check_finite=False)
    correlation = (eigenvectors * np.maximum(eigenvalues, reg_covar)) @ eigenvectors.T
    return 0.5 * (correlation + correlation.T) * np.outer(scale, scale)


def cholesky_or_raise(covariance):
    """Lower Cholesky factor of ``covariance``, or a ValueError saying what to do.

    Parameters
    ----------
    covariance : ndarray of shape (n_features, n_features)

    Returns
    -------
    ndarray of shape (n_features, n_features)
        Lower triangular ``L`` with ``L @ L.T == covariance``.
    """
    try:
        if not np.all(np.isfinite(covariance)):
            raise LinAlgError("non-finite entries")
        return cholesky_lower(covariance)
    except LinAlgError as exc:
        raise ValueError(
            "The covariance estimate is not numerically positive definite "
            f"({exc}). Increase reg_covar, or rescale features whose variances "
            "differ by many orders of magnitude."
        ) from None


def _whiten(X, location, chol):
    """``L^-1 (x - mu)`` for every row, shape (n_samples, n_features)."""
    return solve_lower(chol, (X - location).T).T


#: Elements of ``X`` whitened at a time (512 KB): temporaries the size of a
#: large ``X`` cost more to fault in than the arithmetic on them.
_BLOCK_ELEMENTS = 2**16


def mahalanobis(X, location, chol):
    """Squared Mahalanobis distances ``||L^-1 (x - mu)||^2``, shape (n_samples,)."""
    out = np.empty(len(X))
    rows = max(1, _BLOCK_ELEMENTS // len(location))
    for start in range(0, len(X), rows):
        Z = _whiten(X[start : start + rows], location, chol)
        np.einsum("ij,ij->i", Z, Z, out=out[start : start + rows])
    return out


def log_density(X, location, chol):
    """Gaussian log-density of every row of ``X``, shape (n_samples,).

    ``-1/2 (d log 2 pi + 2 sum log diag(L) + ||L^-1 (x - mu)||^2)``: no inverse
    is formed and no pdf is exponentiated, so far-away points keep a finite
    log-density instead of underflowing to ``log(0)``.
    """
    return -0.5 * (_log_normalizer(chol) + mahalanobis(X, location, chol))


def _log_normalizer(chol):
    """``d log 2 pi + log det Sigma``, from the Cholesky factor of ``Sigma``."""
    return len(chol) * np.log(2 * np.pi) + 2.0 * np.sum(np.log(np.diag(chol)))


def mean_log_density(chol, covariance):
    """Mean of :func:`log_density` over data centred on the mean, with covariance ``covariance``.

    ``-1/2 (d log 2 pi + log det Sigma + tr(Sigma^-1 C))``, in ``O(n_features**3)``
    without the data: the training loss of a fit whose state is the data's own
    moments.
    """
    trace = np.trace(solve_lower(chol, solve_lower(chol, covariance), trans=True))
    return -0.5 * (_log_normalizer(chol) + trace)


def kl_divergence(location_p, covariance_p, location_q, covariance_q):
    """``KL(p || q)`` between two Gaussians, computed through Cholesky factors.

    With ``p`` the true distribution and ``q`` an estimate this is the
    expected excess negative log-likelihood of the estimate, the figure the
    solvers are compared by (``d (d + 3) / (4 n)`` for the batch MLE).
    """
    Lp = cholesky_or_raise(covariance_p)
    Lq = cholesky_or_raise(covariance_q)
    M = solve_lower(Lq, Lp)
    z = solve_lower(Lq, location_p - location_q)
    log_det_ratio = 2.0 * np.sum(np.log(np.diag(Lq)) - np.log(np.diag(Lp)))
    return 0.5 * (np.sum(M * M) + z @ z - len(z) + log_det_ratio)
