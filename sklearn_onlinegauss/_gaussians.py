"""K Gaussians: the state every estimator streams, and the pooled natural step.

A state is a :class:`Gaussians` tuple of plain arrays: a weight, a mean and a
covariance per component, the covariance in the shape of its structure
(:mod:`._structures`). The step is weighted pooling (see the user guide's
Theory page, :ref:`theory-pooling`): a group of weight ``W`` with mean ``m``
and covariance ``C`` pooled into one of weight ``V`` moves it at the rate
``eta = W / (V + W)``.
"""

import math
from functools import cache
from typing import NamedTuple

import numpy as np

from ._linalg import blend_scatter

__all__ = ["Gaussians", "batch_moments", "pool", "scoring_rows", "step_toward"]


_LOG_2PI = math.log(2 * math.pi)


class Gaussians(NamedTuple):
    """The state: ``K`` Gaussians with their weights.

    weights : ndarray of shape (K,)
        Each component's weight, in the units of the row weights of the
        steps that built it; 0 for a component that has seen nothing.
    origins : ndarray of shape (K, d)
        A point near each component's data (its first row), which ``means``
        are relative to: a mean stored as such keeps its precision relative
        to the data's spread, not to their offset from 0 (rounding of a mean
        at 1e6 standard deviations from 0 would otherwise cost 2e-10
        standard deviations per step).
    means : ndarray of shape (K, d)
        Each component's mean minus its origin.
    covariances : ndarray
        Of the structure's shape (see the module docstring).
    """

    weights: np.ndarray
    origins: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    @property
    def locations(self):
        """ndarray of shape (K, d): each component's mean."""
        return self.origins + self.means


# -- the pooled step, shared by the structures -------------------------------------


def _representable(total_variance, covariance):
    """``covariance``, or a ValueError if it overflowed float64.

    The trace of a positive semi-definite matrix bounds all its entries, so it
    is the only sum that needs checking.
    """
    if not math.isfinite(total_variance):
        raise ValueError(
            "The covariance overflowed float64: the data's values are too large to "
            "square (the total variance must stay below ~1e308). Rescale the "
            "features, e.g. with sklearn.preprocessing.StandardScaler."
        )
    return covariance


def _centred(X, w, origin, extra_rows=0, out=None):
    """``(W, m, R)``: the rows' weight and mean relative to ``origin``, and a buffer.

    ``R[:n]`` holds the rows minus their mean (as computed, rounded) and
    ``R`` has ``extra_rows`` more rows for the caller to fill; ``origin``
    None: ``m`` is the mean itself. The rows are first taken relative to a
    pivot, a row of positive weight: those within a factor 2 of it are
    exact differences (Sterbenz), so the arithmetic rounds relative to the
    rows' spread, never to their offset from 0, and identical rows give
    exactly zero scatter at any magnitude (:ref:`theory-rounding`).
    ``out``: a buffer to use for ``R``.
    """
    n = len(X)
    R = np.empty((n + extra_rows, X.shape[1])) if out is None else out
    weights, W = (np.ones(n), n) if w is None else (w, w.sum())
    pivot = X[0] if w is None else X[int(np.argmax(w > 0))]
    D = np.subtract(X, pivot, out=R[:n], dtype=R.dtype)  # float32 rows: in float64
    m = weights @ D  # a product with the weights (GEMV) is faster than a sum
    m /= W
    D -= m
    m += pivot if origin is None else pivot - origin
    return W, m, R


def batch_moments(X, w, origin=None):
    """Total weight, weighted mean (relative to ``origin``) and covariance about it.

    ``w`` is None for unit weights. Centring before the product keeps it
    exact for data far from the origin (no ``E[xx'] - m m'`` cancellation);
    ``R.T @ R`` of one buffer is a symmetric rank-k update (SYRK).
    """
    W, m, R = _centred(X, w, origin)
    if w is not None:
        R *= np.sqrt(w / W)[:, None]
        C = R.T @ R
    else:
        C = R.T @ R
        C /= W
    return W, m, _representable(C.trace(), C)


def pool(location, covariance, m, C, eta):
    """The natural-gradient step toward moments ``(m, C)``: new ``(location, covariance)``.

    ``(1 - eta) Sigma + eta C + eta (1 - eta) delta delta'``: exact pooling
    when ``eta`` is their share of the total weight. Full matrices.
    """
    delta = m - location
    new = eta * C
    new += (1 - eta) * covariance
    scaled = np.sqrt(eta * (1 - eta)) * delta
    new += scaled[:, None] * scaled  # s_i s_j == s_j s_i: exactly symmetric
    return location + eta * delta, _representable(new.trace(), new)


def step_toward(location, covariance, X, w, eta, origin=None):
    """The natural-gradient step of one full Gaussian toward the rows ``X``.

    ``Sigma <- (1 - eta) Sigma + eta C + eta (1 - eta) delta delta'``, with
    ``m, C`` the rows' weighted mean and covariance and ``delta = m - mu``;
    ``location`` (and the new one returned) is relative to ``origin``. The
    last two terms are ``(eta / W) R'R`` for the rows
    ``R = [sqrt(w_i) (x_i - m); sqrt((1 - eta) W) delta]``, so the whole
    blend is one symmetric rank-k update (SYRK, exactly symmetric) of a copy
    of ``Sigma``: :func:`~._linalg.blend_scatter`.
    """
    eta = min(float(eta), 1.0)  # a Python float: scalar arithmetic, not numpy's
    if eta == 1.0:  # the step lands on the rows' own moments
        _, m, C = batch_moments(X, w, origin)
        return m, C
    if len(X) == 1:  # the streaming case: a row has no scatter about itself
        delta = (X[0] if origin is None else X[0] - origin) - location
        scaled = math.sqrt(eta) * delta
        new = np.multiply.outer(scaled, scaled)  # eta delta delta', exactly symmetric
        new += covariance
        new *= 1 - eta
    else:
        W, m, R = _centred(X, w, origin, extra_rows=1)
        delta = m - location
        if w is not None:
            R[:-1] *= np.sqrt(w)[:, None]
        np.multiply(delta, math.sqrt((1 - eta) * W), out=R[-1])
        new = blend_scatter(covariance, R, eta / W, 1 - eta)
    return location + eta * delta, _representable(new.trace(), new)


def _diag_step_toward(location, variances, X, w, eta, origin=None):
    """:func:`step_toward` for the diagonal of the covariance only, ``O(n d)``."""
    eta = min(float(eta), 1.0)
    W, m, R = _centred(X, w, origin)
    R *= R
    C = (np.ones(len(X)) @ R if w is None else w @ R) / W
    if eta == 1.0:
        return m, _representable(C.sum(), C)
    delta = m - location
    new = eta * C
    new += (1 - eta) * variances
    new += (eta * (1 - eta)) * delta * delta
    return location + eta * delta, _representable(new.sum(), new)


@cache
def scoring_rows(n_features):
    """Rows per block of a distance computation.

    Temporaries the size of a large ``X`` cost more to fault in than the
    arithmetic on them, so the rows go in blocks; but a triangular solve
    runs at BLAS-3 speed only on a block of several hundred rows. So 512 KB
    of rows, or 512 rows up to 32 MB (the user guide's "Speed and memory").
    """
    return max(1, 2**16 // n_features, min(512, 2**22 // n_features))
