"""Triangular solves and Cholesky factors, calling LAPACK directly.

``scipy.linalg``'s wrappers check and convert their arguments on every call,
which costs 5-30 us: more than the arithmetic on the small matrices of a
streaming step. These call the same LAPACK routines (``dtrtrs``, ``dpotrf``)
on the float64 arrays their callers already hold, and raise ``LinAlgError``
as scipy does. They do not check for NaN or infinity (``check_finite=False``).
"""

from functools import lru_cache

import numpy as np
from scipy.linalg import LinAlgError
from scipy.linalg.lapack import dpotrf, dtrtrs

__all__ = ["add_scatter", "cholesky_lower", "eigvalsh", "mirror_lower", "solve_lower"]

#: Eigenvalues of a symmetric matrix: numpy's has less per-call overhead.
eigvalsh = np.linalg.eigvalsh


def solve_lower(L, B, trans=False):
    """``L^-1 B``, or ``L^-T B`` with ``trans``, for lower-triangular ``L``.

    ``B`` has shape ``(n,)`` or ``(n, k)``.
    """
    if L.flags.c_contiguous and not L.flags.f_contiguous:
        # LAPACK reads Fortran order: a C-ordered L is the upper factor L' in
        # place, so solve with that instead of letting f2py copy L.
        X, info = dtrtrs(L.T, B, lower=0, trans=1 - int(trans))
    else:
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


def add_scatter(C, R, alpha):
    """``C += alpha R'R`` on the lower triangle of the square ``C``, in place.

    By column blocks, each one matrix product of numpy's BLAS (the library
    the caller's own products run on: a second BLAS's thread pool competes
    with the first's for the cores), with a temporary of at most about
    1 MB; as fast as ``R.T @ R`` (SYRK) and with no ``d x d`` temporary.
    The upper triangle is left as it was; :func:`mirror_lower` completes
    the matrix.
    """
    d = len(C)
    width = max(16, 2**17 // d)
    for j in range(0, d, width):
        end = j + width
        block = R[:, j:].T @ R[:, j:end]
        block *= alpha
        C[j:, j:end] += block


def mirror_lower(C, block=256):
    """Copy the lower triangle of the square ``C`` onto its upper one, in place.

    By row blocks, so the temporary is at most ``block x d``.
    """
    for i in range(0, len(C), block):
        end = i + block
        diagonal = C[i:end, i:end]
        upper = _upper_indices(len(diagonal))
        diagonal[upper] = diagonal.T[upper]
        C[i:end, end:] = C[end:, i:end].T
    return C


@lru_cache(maxsize=8)
def _upper_indices(n):
    return np.triu_indices(n, 1)
