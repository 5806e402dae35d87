"""Triangular solves, Cholesky factors and symmetric rank-k updates, called directly.

``scipy.linalg``'s wrappers check and convert their arguments on every call,
which costs more than the arithmetic on the small matrices of a streaming
step. These call the same BLAS and LAPACK routines (``dtrsm``, ``dpotrf``)
on the float64 arrays their callers already hold, and raise ``LinAlgError``
as scipy does. They do not check for NaN or infinity (``check_finite=False``).
The rank-k updates of a large covariance call numpy's own BLAS
(:func:`blend_scatter`).
"""

import ctypes
from contextlib import nullcontext
from functools import cache, lru_cache

import numpy as np
from scipy.linalg import LinAlgError
from scipy.linalg.blas import dtrsm
from scipy.linalg.lapack import dpotrf, dtrtri

from ._threads import (
    LAPACK_THREADED_WORK,
    UNTHREADED_WORK,
    blas_threads_for,
    lapack_threads_for,
    numpy_blas_path,
)

__all__ = [
    "add_scatter",
    "blend_scatter",
    "block_threads_for",
    "cholesky_lower",
    "eigvalsh",
    "lower_inverse",
    "mirror_lower",
    "solve_lower",
]

_UNLIMITED = nullcontext()

#: Eigenvalues of a symmetric matrix: numpy's has less per-call overhead.
eigvalsh = np.linalg.eigvalsh


def solve_lower(L, B, trans=False, call_work=None):
    """``L^-1 B``, or ``L^-T B`` with ``trans``, for lower-triangular ``L``.

    ``B`` has shape ``(n,)`` or ``(n, k)``. ``call_work``: the flops of the
    whole computation this solve is a block of, which decides its threads
    (:func:`~._threads.lapack_threads_for`); by default this solve's own.

    BLAS's ``dtrsm``, not LAPACK's ``dtrtrs``: OpenBLAS runs ``dtrtrs`` on
    all its threads whatever the size, and on a loaded machine a solve of a
    few rows then waits milliseconds for a second core (``benchmarks/reads.py``
    measures the small reads); ``dtrsm`` splits only work worth splitting.
    A zero on the diagonal is refused as ``dtrtrs`` refuses it.
    """
    diagonal = np.diagonal(L)
    if not diagonal.all():
        raise LinAlgError(
            f"singular triangular factor (zero pivot at {int(np.argmin(diagonal != 0)) + 1})"
        )
    work = len(L) * B.size
    if work < UNTHREADED_WORK:  # one thread anyway: no context, a large part of a small call
        return _trsm(L, B, trans)
    with lapack_threads_for(work if call_work is None else call_work):
        return _trsm(L, B, trans)


def _trsm(L, B, trans):
    matrix = B if B.ndim == 2 else B[:, None]
    if L.flags.c_contiguous and not L.flags.f_contiguous:
        # BLAS reads Fortran order: a C-ordered L is the upper factor L' in
        # place, so solve with that instead of letting f2py copy L.
        X = dtrsm(1.0, L.T, matrix, lower=0, trans_a=1 - int(trans))
    else:
        X = dtrsm(1.0, L, matrix, lower=1, trans_a=int(trans))
    return X if B.ndim == 2 else X[:, 0]


def block_threads_for(call_work):
    """The BLAS threads of one block's matrix product in a call of ``call_work`` flops.

    The rule :func:`solve_lower` follows for scipy's solves, on numpy's
    products: one thread for every block (a block's product is short, and on
    a loaded machine a second thread can keep it waiting longer than it
    takes), unless the whole call is of ``LAPACK_THREADED_WORK`` flops or more.
    Below ``UNTHREADED_WORK`` no limit is set: OpenBLAS keeps such calls on one
    thread anyway, and setting it would cost a short read more than its products.
    """
    if call_work < UNTHREADED_WORK:
        return _UNLIMITED
    return blas_threads_for(None if call_work >= LAPACK_THREADED_WORK else 0)  # 0: one


def lower_inverse(L):
    """``L^-1`` of a lower-triangular ``L`` (LAPACK's ``dtrtri``), or None if it is singular.

    Above the diagonal it keeps ``L``'s entries (zeros, for a Cholesky factor).
    Computing it costs a third of ``d**3`` flops; a product with it then costs
    what the solve would, at the speed of a matrix product, which small
    triangular solves do not reach.
    """
    with lapack_threads_for(len(L) ** 3 // 3):
        inverse, info = dtrtri(L, lower=1)
    return None if info != 0 else inverse


def cholesky_lower(A):
    """Lower Cholesky factor ``L`` of ``A`` (``L @ L.T == A``), zero above the diagonal."""
    with lapack_threads_for(len(A) ** 3 // 3):
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
    The strict upper triangle is left undefined; :func:`mirror_lower`
    completes the matrix. A large ``C``: one call to numpy's own ``dsyrk``
    (:func:`_large_dsyrk`), where it can be found.
    """
    dsyrk = _large_dsyrk(len(C))
    if dsyrk is not None:
        _call(dsyrk, _LOWER, C, R, alpha, 1.0)
        return
    d = len(C)
    width = max(16, 2**17 // d)
    for j in range(0, d, width):
        end = j + width
        block = R[:, j:].T @ R[:, j:end]
        block *= alpha
        C[j:, j:end] += block


def blend_scatter(C, R, alpha, beta):
    """``beta C + alpha R'R`` for a symmetric ``C``: a new symmetric matrix.

    ``R.T @ R`` (numpy's SYRK into a fresh matrix, which it mirrors) and two
    passes to blend it in; for a large ``C`` (:func:`_large_dsyrk`), one call
    to numpy's own ``dsyrk`` accumulating into a copy of ``C`` (``beta``
    scales it in the same pass), then :func:`mirror_lower`. ``beta > 0``.
    """
    dsyrk = _large_dsyrk(len(C))
    if dsyrk is None:
        new = R.T @ R
        new *= alpha / beta
        new += C
        new *= beta
        return new
    out = C.copy()
    _call(dsyrk, _UPPER, out, R, alpha, beta)
    mirror_lower(out.T)  # out's upper triangle onto its lower one
    return out


#: CBLAS enumerations (blend_scatter fills the upper triangle: the faster of the two).
_ROW_MAJOR, _UPPER, _LOWER, _TRANS = 101, 121, 122, 112


def _call(dsyrk, triangle, C, R, alpha, beta):
    """``C <- beta C + alpha R'R`` on one triangle of the C-ordered ``C``, in place."""
    if not (C.flags.c_contiguous and C.dtype == np.float64 and C.shape == (R.shape[1],) * 2):
        # BLAS would write through the pointer regardless: refuse, never corrupt memory.
        raise TypeError("dsyrk needs a C-ordered float64 (d, d) matrix to update in place")
    R = np.ascontiguousarray(R, dtype=np.float64)
    n, d = R.shape
    dsyrk(_ROW_MAJOR, triangle, _TRANS, d, n, alpha, R.ctypes.data, d, beta, C.ctypes.data, d)


#: Bytes of a covariance from which its update calls ``dsyrk`` itself.
LARGE_MATRIX = 2**23


def _large_dsyrk(n_features):
    """numpy's ``cblas_dsyrk`` for a ``d x d`` matrix of over ``LARGE_MATRIX`` bytes, or None.

    ``LARGE_MATRIX`` is 8 MB: d > 1024. A fresh matrix that large is
    faulted in page by page, and numpy mirrors its product row by row, so
    ``R.T @ R`` costs more than ``dsyrk`` accumulating into a copy, and the
    more so the larger the matrix. Below, both routes cost about the same,
    and the call through ctypes would only add its own overhead.
    """
    return _numpy_dsyrk() if 8 * n_features**2 > LARGE_MATRIX else None


@cache
def _numpy_dsyrk():
    """``cblas_dsyrk`` of the BLAS numpy itself calls, or None.

    scipy's BLAS is a second library with its own threads: interleaved with
    numpy's (the caller's ``X.T @ X``, or the step's own products) each
    library's idle threads spin on the cores the other's work needs (see
    :func:`~._threads.lapack_threads_for`). So the step calls numpy's,
    found where numpy's wheels bundle it (scipy-openblas64, 64-bit
    integers); elsewhere (conda's numpy, Apple's Accelerate) this is None
    and the updates keep to numpy's products.
    """
    path = numpy_blas_path()
    if path is None:
        return None
    try:
        dsyrk = ctypes.CDLL(path).scipy_cblas_dsyrk64_
    except (OSError, AttributeError):
        return None
    i, f, p = ctypes.c_int64, ctypes.c_double, ctypes.c_void_p
    dsyrk.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, i, i, f, p, i, f, p, i]
    dsyrk.restype = None
    return dsyrk


#: Side of the square tiles :func:`mirror_lower` copies (32 KB: cache-sized).
_TILE = 64


def mirror_lower(C):
    """Copy the lower triangle of the square ``C`` onto its upper one, in place.

    By square tiles, each read and written while it is in cache: a block of
    whole rows spans more memory than the cache holds, so its transposed
    reads would miss it.
    """
    d = len(C)
    for i in range(0, d, _TILE):
        end = i + _TILE
        diagonal = C[i:end, i:end]
        np.copyto(diagonal, diagonal.T, where=_upper_mask(len(diagonal)))
        for j in range(end, d, _TILE):
            C[i:end, j : j + _TILE] = C[j : j + _TILE, i:end].T
    return C


@lru_cache(maxsize=8)
def _upper_mask(n):
    mask = np.triu(np.ones((n, n), dtype=bool), 1)
    mask.flags.writeable = False
    return mask
