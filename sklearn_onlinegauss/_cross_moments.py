"""The off-diagonal fourth moments the diagonal shrinkage target reads, without cancellation.

Ledoit-Wolf's intensity toward ``diag(S)`` needs ``sum_{i != j} mean z_i^2 z_j^2``
about the final mean. Computed as ``mean ||z||^4 - sum_j mean z_j^4`` it loses
the digits of the variances' spread (a feature whose variance is 1e4 times
another's leaves four fewer): so the sums are kept without the diagonal, about
the origin ``r`` (``y = x - r``), as weighted means:

    cross3_j = mean (sum_{i != j} y_i^2) y_j,   cross4 = mean sum_{i != j} y_i^2 y_j^2,

each row's computed from sums of the *other* features (:func:`excluding_each`),
never as a total less the feature's own term. :func:`cross_about` moves them
to another point, the final mean or another state's origin.
"""

import numpy as np

__all__ = ["cross_about", "excluding_each", "row_cross_sums"]


def excluding_each(a):
    """``sum_{i != j} a_i`` for each ``j`` (the last axis), from prefix and suffix sums.

    Not ``a.sum() - a_j``, which keeps only the digits ``a_j`` leaves of the total.
    """
    out = np.zeros_like(a)
    out[..., 1:] = np.cumsum(a[..., :-1], axis=-1)
    out[..., :-1] += np.cumsum(a[..., :0:-1], axis=-1)[..., ::-1]
    return out


def row_cross_sums(Y):
    """Each row's ``(sum_{i != j} y_i^2) y_j`` (n, d) and ``sum_{i != j} y_i^2 y_j^2`` (n,)."""
    Y2 = Y * Y
    others = excluding_each(Y2)  # sums of positive terms: exact to d roundings
    return others * Y, np.einsum("ij,ij->i", Y2, others)


def _off_diagonal(M):
    off = M.copy()
    np.fill_diagonal(off, 0.0)
    return off


def cross_about(cross3, cross4, mean, second, t):
    """The sums of ``y - t`` from those of ``y``: ``(cross3, cross4)``.

    ``mean = E[y]``, ``second = E[y y']``. Expanding
    ``(y_i - t_i)^2 (y_j - t_j)^2`` over the pairs ``i != j``:

    ``cross4' = cross4 - 4 t'cross3 + 2 sum_{i!=j} t_j^2 M_ii + 4 sum_{i!=j} t_i t_j M_ij
    - 4 sum_{i!=j} t_i t_j^2 mean_i + sum_{i!=j} t_i^2 t_j^2``, and ``cross3'`` likewise;
    every sum over ``i != j`` is taken without its diagonal.
    """
    t2 = t * t
    diagonal = np.diagonal(second)
    off = _off_diagonal(second)
    others_diagonal, others_tm, others_t2 = (excluding_each(a) for a in (diagonal, t * mean, t2))
    moved4 = (
        cross4
        - 4.0 * (t @ cross3)
        + 2.0 * (t2 @ others_diagonal)
        + 4.0 * (t @ off @ t)
        - 4.0 * (t2 @ others_tm)
        + t2 @ others_t2
    )
    moved3 = (
        cross3
        - t * others_diagonal
        - 2.0 * (off @ t)
        + 2.0 * t * others_tm
        + mean * others_t2
        - t * others_t2
    )
    return moved3, float(moved4)
