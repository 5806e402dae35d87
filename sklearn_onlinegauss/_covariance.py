"""The KL divergence between two Gaussians: the figure solvers are compared by."""

import numpy as np
from scipy.linalg import LinAlgError

from ._linalg import cholesky_lower, solve_lower

__all__ = ["kl_divergence"]


def _cholesky(covariance):
    try:
        if not np.all(np.isfinite(covariance)):
            raise LinAlgError("non-finite entries")
        return cholesky_lower(covariance)
    except LinAlgError as exc:
        raise ValueError(f"The covariance is not numerically positive definite ({exc}).") from None


def kl_divergence(location_p, covariance_p, location_q, covariance_q):
    """``KL(p || q)`` between two Gaussians, computed through Cholesky factors.

    With ``p`` the true distribution and ``q`` an estimate this is the
    expected excess negative log-likelihood of the estimate, the figure the
    solvers are compared by (``d (d + 3) / (4 n)`` for the batch MLE:
    :ref:`theory-figures`).
    """
    Lp = _cholesky(covariance_p)
    Lq = _cholesky(covariance_q)
    M = solve_lower(Lq, Lp)
    z = solve_lower(Lq, location_p - location_q)
    log_det_ratio = 2.0 * np.sum(np.log(np.diag(Lq)) - np.log(np.diag(Lp)))
    return 0.5 * (np.sum(M * M) + z @ z - len(z) + log_det_ratio)
