"""Triangular solves and Cholesky factors, calling LAPACK directly.

``scipy.linalg``'s wrappers check and convert their arguments on every call,
which costs 5-30 us: more than the arithmetic on the small matrices of a
streaming step. These call the same LAPACK routines (``dtrtrs``, ``dpotrf``)
on the float64 arrays their callers already hold, and raise ``LinAlgError``
as scipy does. They do not check for NaN or infinity (``check_finite=False``).
"""

import numpy as np
from scipy.linalg import LinAlgError
from scipy.linalg.lapack import dpotrf, dtrtrs

__all__ = ["cholesky_lower", "eigvalsh", "solve_lower"]

#: Eigenvalues of a symmetric matrix: numpy's has less per-call overhead.
eigvalsh = np.linalg.eigvalsh


def solve_lower(L, B, trans=False):
    """``L^-1 B``, or ``L^-T B`` with ``trans``, for lower-triangular ``L``.

    ``B`` has shape ``(n,)`` or ``(n, k)``.
    """
    X, info = dtrtrs(L, B, lower=1, trans=int(trans))
    if info > 0:
        raise LinAlgError(f"singular triangular factor (zero pivot at {info})")
    return X


def cholesky_lower(A):
    """Lower Cholesky factor ``L`` of ``A`` (``L @ L.T == A``), zero above the diagonal."""
    L, info = dpotrf(A, lower=1, clean=1)
    if info > 0:
        raise LinAlgError(f"{info}-th leading minor not positive definite")
    return L
