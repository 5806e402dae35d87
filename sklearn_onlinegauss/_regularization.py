"""What the estimate gets where the data do not determine it: one rule for every structure.

See :func:`regularize_matrix`; the structures apply it to their own shapes.
"""

import numpy as np
from scipy.linalg import LinAlgError, eigh

from ._linalg import cholesky_lower
from ._threads import lapack_threads_for

__all__ = [
    "cholesky",
    "component_magnitudes",
    "not_positive_definite",
    "numerically_constant",
    "regularize_matrix",
    "regularized_matrix",
]

#: Relative size below which a variance, or an eigenvalue of the correlation
#: matrix (per feature), is rounding: float64 precision, with room for the
#: rounding a streamed estimate accumulates.
_ROUNDING = 256 * np.finfo(float).eps
#: A standard deviation at most this, relative to the magnitude, is the values'
#: own rounding (six roundings) and one rounding of their differences from the
#: origin: the feature has not varied. The moments' arithmetic adds no error
#: relative to the magnitude, so this does not grow with the rows seen (the
#: user guide's Theory page, :ref:`theory-rounding`).
_SAME_VALUE = 4 * np.finfo(float).eps
#: Smallest Cholesky pivot of a correlation matrix that is determined beyond doubt.
_CLEARLY_DETERMINED = 2.0**-20


#: Below this a variance is too close to float64's underflow to be computed.
_TINIEST_VARIANCE = 1e-290
#: A feature constant at a magnitude below this may be one whose spread underflowed.
_TINIEST_VALUE = 1e-140


def component_magnitudes(state):
    """The size of each component's values in each feature, shape (K, d).

    The larger of the mean's and the origin's (a row of the data): where
    the estimate has decayed toward 0 (a feature stuck at 0 under a
    forgetting schedule, a component's tiny responsibilities), the origin
    still gives the scale the feature's values have had.
    """
    return np.maximum(np.abs(state.locations), np.abs(state.origins))


def numerically_constant(variances, magnitudes):
    """Features whose spread is zero, or a few roundings of values of that magnitude.

    Constant: a standard deviation at most ``4 eps * magnitudes``, at any
    scale, offset and count of rows (:ref:`theory-rounding`).

    A ValueError for features whose scale float64 cannot square: values
    too small to tell (data of scale 1e-160 would otherwise be taken for
    constant, silently), with a variance near underflow or none at all. A
    variance that decayed toward 0 in values of normal size (``magnitudes``)
    is rounding of them: constant.
    """
    small = magnitudes < _TINIEST_VALUE
    tiny = small & (variances > 0) & (variances < _TINIEST_VARIANCE)
    tiny |= small & (variances == 0) & (magnitudes > 0)
    if tiny.any():
        k = np.flatnonzero(np.ravel(tiny))[0]
        value = np.ravel(np.broadcast_to(magnitudes, tiny.shape))[k]
        variance = np.ravel(np.broadcast_to(variances, tiny.shape))[k]
        raise ValueError(
            f"Feature {k % tiny.shape[-1]} varies on a scale float64 cannot square (values "
            f"about {value:.1e}, variance {variance:.1e}); rescale it, e.g. with "
            "sklearn.preprocessing.StandardScaler."
        )
    return ~(variances > (_SAME_VALUE * magnitudes) ** 2)


def regularize_matrix(magnitudes, covariance, reg_covar):
    """The covariance where the data determine it; ``reg_covar`` where they do not.

    The rule, for every structure (``regularize``): work on the correlation
    matrix ``R = D^-1/2 Sigma D^-1/2``, which does not change when a feature
    is rescaled or shifted. If ``R`` is numerically positive definite (every
    eigenvalue above ``d`` times float64 rounding, ``_ROUNDING``; eigenvalues
    are exact to about ``d`` eps, so the verdict does not depend on how the
    estimate was chunked) the covariance is returned as it is: the exact
    maximum-likelihood estimate, at any conditioning float64 can represent.
    Otherwise the directions of ``R`` whose eigenvalues are rounding (fewer
    samples than features, duplicated rows, collinear columns) are raised to
    ``reg_covar`` and every other direction is kept. A feature that has not
    varied (variance 0, or rounding of its magnitude ``magnitudes``) has no
    correlation and no scale: it gets the variance ``reg_covar`` in its own
    units, as ``GaussianMixture``'s ``reg_covar``. So scaling or shifting one
    feature never changes another feature's fill-in.
    """
    if reg_covar == 0 or _determined_factor(magnitudes, covariance) is not None:
        return covariance
    return _fill_undetermined(magnitudes, covariance, reg_covar)[0]


def regularized_matrix(magnitudes, covariance, reg_covar):
    """``(regularize_matrix(...), its Cholesky factor)``, factorizing a clearly determined
    covariance once (the test's factor is the read's) and any other once after the rule."""
    factor = _determined_factor(magnitudes, covariance) if reg_covar > 0 else None
    if factor is not None:
        return covariance, factor
    if reg_covar > 0:
        covariance, factor = _fill_undetermined(magnitudes, covariance, reg_covar)
    return covariance, cholesky(covariance) if factor is None else factor


def _fill_undetermined(magnitudes, covariance, reg_covar):
    """:func:`regularize_matrix` past its shortcut: the eigenvalue test and fill-in.

    Returns the filled covariance and, where the rule found one on its way,
    its Cholesky factor (else None).
    """
    d = len(covariance)
    variances = np.diag(covariance)
    constant = numerically_constant(variances, magnitudes)
    varying = ~constant
    if constant.any():  # the other features' test is _determined_factor's
        block = np.ix_(varying, varying)
        kept = covariance[block]
        L = _clearly_determined(kept) if len(kept) else kept
        if L is not None:  # only constant features: no correlation, variance reg_covar
            filled, factor = np.zeros_like(covariance), np.zeros_like(covariance)
            filled[block], factor[block] = kept, L  # zero rows and columns factor apart
            filled[constant, constant], factor[constant, constant] = reg_covar, reg_covar**0.5
            return filled, factor
    scale = np.sqrt(variances[varying])
    correlation = covariance[np.ix_(varying, varying)] / np.outer(scale, scale)
    # Eigenvalues are exact to about d eps: a sharp test, the same for every chunking.
    if len(correlation):
        with lapack_threads_for(4 * len(correlation) ** 3):
            eigenvalues, eigenvectors = eigh(correlation, check_finite=False)
    else:  # every feature constant (scipy < 1.14's eigh refuses an empty matrix)
        eigenvalues, eigenvectors = np.empty(0), np.empty((0, 0))
    undetermined = eigenvalues < d * _ROUNDING
    if not undetermined.any() and not constant.any():
        return covariance, None
    V = eigenvectors[:, undetermined]
    lift = np.maximum(eigenvalues[undetermined], reg_covar) - eigenvalues[undetermined]
    correlation += (V * lift) @ V.T
    filled = np.zeros_like(covariance)
    filled[np.ix_(varying, varying)] = 0.5 * (correlation + correlation.T) * np.outer(scale, scale)
    filled[constant, constant] = reg_covar
    return filled, None


def _determined_factor(magnitudes, covariance):
    """The Cholesky factor of a covariance the data clearly determine, else None.

    Clearly determined: no feature constant, and every Cholesky pivot of the
    correlation matrix at least ``_CLEARLY_DETERMINED`` (a pivot of a
    singular matrix is rounding, which can come out at any size, so only
    such matrices skip the eigenvalue test of :func:`regularize_matrix`,
    which returns them as they are). The correlation's factor is
    ``D^-1/2 L``, so its pivots are ``L_jj^2 / Sigma_jj``: one factorization
    of the covariance settles both the test and the factor (a read used to
    take two, and the index gathers of the correlation).
    """
    if numerically_constant(covariance.diagonal(), magnitudes).any():
        return None
    return _clearly_determined(covariance)


def _clearly_determined(covariance):
    """The Cholesky factor of ``covariance`` if every pivot of its correlation is at least
    ``_CLEARLY_DETERMINED``, else None (no feature of it may be constant)."""
    try:
        L = cholesky_lower(covariance)
    except LinAlgError:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        if not np.min(L.diagonal() ** 2 / covariance.diagonal()) >= _CLEARLY_DETERMINED:
            return None  # NaN: no
    return L


def cholesky(covariance):
    """Lower Cholesky factor, or a ValueError that says what to do."""
    try:
        if not np.isfinite(covariance).all():
            raise LinAlgError("non-finite entries")
        return cholesky_lower(covariance)
    except LinAlgError as exc:
        raise not_positive_definite(exc) from None


def not_positive_definite(reason):
    return ValueError(
        "The covariance estimate is not numerically positive definite "
        f"({reason}). Increase reg_covar, or rescale features whose variances "
        "differ by many orders of magnitude."
    )
