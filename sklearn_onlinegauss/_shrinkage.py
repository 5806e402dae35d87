"""Shrinkage of a covariance toward ``mu I`` or its diagonal: fixed, Ledoit-Wolf, OAS.

scikit-learn's ``ShrunkCovariance``, ``LedoitWolf`` and ``OAS`` are functions
of a few sums of the data (:ref:`theory-shrinkage`): the fixed
intensity and OAS of the sample count ``n`` and the covariance ``S``;
Ledoit-Wolf also of ``sum ||z_i||^4`` about the final mean, which follows
from two sums about any fixed point ``r``, kept as weighted means
(:class:`FourthMoments`):

    m3 = mean ||y||^2 y,   m4 = mean ||y||^4,   y = x - r.

The diagonal target (``shrinkage_target='diag'``, :func:`diagonal_shrinkage`)
needs the same sums without their diagonal, ``cross3`` and ``cross4``
(:mod:`._cross_moments`), kept apart so that no digit is lost to the spread
of the variances.

``r`` is the Gaussian's origin (its first row), so the sums stay exact for
data far from 0. Fourth powers overflow float64 where squares do not: a row
farther than about 1e77 from the origin is refused (:func:`finite_fourth_moments`),
before it changes anything. They pool like the mean itself, with the same rates, so the
shrinkage is exact in one pass for any chunking, and after merging.
"""

from typing import NamedTuple

import numpy as np

from ._cross_moments import cross_about, row_cross_sums

__all__ = [
    "TARGETS",
    "FourthMoments",
    "batch_fourth_moments",
    "centred_cross_fourth",
    "centred_fourth_moment",
    "combine_fourth_moments",
    "component_fourth",
    "diagonal_shrinkage",
    "empty_fourth_moments",
    "finite_fourth_moments",
    "ledoit_wolf_shrinkage",
    "oas_shrinkage",
    "pool_labelled_fourth_moments",
    "intensity",
    "with_component",
]

#: The targets of shrinkage, by the covariance_type whose estimate each is.
TARGETS = ("spherical", "diag")


class FourthMoments(NamedTuple):
    """Weighted means about the origin ``r``: ``m3 = mean ||y||^2 y``, ``m4 = mean ||y||^4``.

    ``cross3 = mean (||y||^2 - y_j^2) y_j`` and ``cross4 = mean (||y||^4 -
    sum_j y_j^4)``, each summed without its diagonal (:mod:`._cross_moments`),
    serve the diagonal target; None in a state saved before they were gathered.
    """

    m3: np.ndarray
    m4: float
    cross3: np.ndarray = None
    cross4: float = None


def empty_fourth_moments(n_features, n_components=None):
    """The sums of no rows: of one Gaussian, or of ``n_components`` (arrays with a K axis)."""
    K = () if n_components is None else (n_components,)
    d = (*K, n_features)
    m4 = 0.0 if n_components is None else np.zeros(K)
    return FourthMoments(np.zeros(d), m4, np.zeros(d), m4 if n_components is None else m4.copy())


def component_fourth(fourth, k):
    """Component ``k``'s :class:`FourthMoments` of the per-component sums ``fourth``."""
    return FourthMoments(*(None if f is None else f[k] for f in fourth))


def with_component(fourth, k, part):
    """``fourth`` (per component) with component ``k``'s sums replaced by ``part``'s."""
    fields = []
    for field, value in zip(fourth, part, strict=True):
        if field is None or value is None:  # not gathered by one of them: by neither
            fields.append(None)
            continue
        field = field.copy()
        field[k] = value
        fields.append(field)
    return FourthMoments(*fields)


def _pooled(old, new, eta):
    """``old + eta (new - old)``, or None where either was not gathered."""
    return None if old is None or new is None else old + eta * (new - old)


#: Below this total variance the fourth powers ``||y||^4`` (about its square)
#: reach float64's subnormal range (``tiny / eps``, about 1e-292), where they
#: lose digits and then vanish: Ledoit-Wolf's intensity would be silently wrong.
SMALLEST_FOURTH_TRACE = 1e-140


def finite_fourth_moments(m3, m4, cross3=None, cross4=None):
    """``FourthMoments(...)``, or a ValueError if float64 could not hold them."""
    with np.errstate(over="ignore", invalid="ignore"):
        finite = all(f is None or np.isfinite(f).all() for f in (m4, m3, cross4, cross3))
    if not finite:
        raise ValueError(
            "shrinkage='ledoit-wolf' needs the fourth powers of the rows' distances from "
            "the first row seen, and these overflow float64 (a row, or a part merged, about "
            "1e77 or more from it): rescale the features (e.g. StandardScaler) or use "
            "shrinkage='oas' or a fixed intensity."
        )
    return FourthMoments(m3, m4, cross3, cross4)


def batch_fourth_moments(X, w, origin):
    """:class:`FourthMoments` of the rows about ``origin`` (``w`` None: unit weights)."""
    Y = X - origin
    with np.errstate(over="ignore", invalid="ignore"):
        squares = np.einsum("ij,ij->i", Y, Y)
        cross3, cross4 = row_cross_sums(Y)
        if w is None:
            n = len(X)
            sums = (squares @ Y, float(squares @ squares), cross3.sum(0), float(cross4.sum()))
            return finite_fourth_moments(*(s / n for s in sums))
        W = w.sum()
        weighted = w * squares
        sums = (weighted @ Y, float(weighted @ squares), w @ cross3, float(w @ cross4))
        return finite_fourth_moments(*(s / W for s in sums))


def pool_fourth_moments(old, new, eta):
    """Pool ``old`` with ``new`` (about the same origin) at rate ``eta``."""
    with np.errstate(over="ignore", invalid="ignore"):
        return finite_fourth_moments(*(_pooled(a, b, eta) for a, b in zip(old, new, strict=True)))


def pool_labelled_fourth_moments(old, X, weights, labels, gaussians):
    """Each component's :class:`FourthMoments` (``m3`` (K, d), ``m4`` (K,)) after a step.

    Row ``i`` weighed ``weights[i, labels[i]]`` on its component only (one
    Gaussian per class); ``gaussians`` is the state after the step, whose
    origins the sums are about and whose weights give each component's rate.
    """
    Y = X - gaussians.origins[labels]
    gained = weights.sum(axis=0)
    seen = gained > 0
    eta = np.divide(gained, gaussians.weights, out=np.zeros_like(gained), where=seen)
    scale = np.divide(eta, gained, out=np.zeros_like(gained), where=seen)
    with np.errstate(over="ignore", invalid="ignore"):
        squares = np.einsum("ij,ij->i", Y, Y)
        rows = (squares[:, None] * Y, squares * squares, *row_cross_sums(Y))
        finite_fourth_moments(*rows)  # refuse before 0 * inf
        kept = 1.0 - eta
        pooled = []
        for old_sums, row_sums in zip(old, rows, strict=True):
            if old_sums is None:  # a state saved before these sums were gathered
                pooled.append(None)
                continue
            gathered = weights.T @ row_sums
            if old_sums.ndim == 1:
                pooled.append(old_sums * kept + scale * gathered)
            else:
                pooled.append(old_sums * kept[:, None] + scale[:, None] * gathered)
        return finite_fourth_moments(*pooled)


def centred_fourth_moment(fourth, mean, covariance):
    """``mean ||x - mean||^4`` from the moments about the origin.

    With ``c`` the mean relative to the origin, ``S`` the covariance and
    ``a = ||c||^2``: ``m4 - 4 c'm3 + 4 c'S c + 2 a tr(S) + 3 a^2``.
    """
    a = mean @ mean
    return (
        fourth.m4
        - 4.0 * (mean @ fourth.m3)
        + 4.0 * (mean @ covariance @ mean)
        + 2.0 * a * np.trace(covariance)
        + 3.0 * a * a
    )


def centred_cross_fourth(fourth, mean, covariance):
    """``mean sum_{i != j} (x_i - mean_i)^2 (x_j - mean_j)^2`` from the sums about the origin.

    :func:`~._cross_moments.cross_about` at the mean ``c`` (relative to the origin),
    with ``E[y y'] = S + c c'``.
    """
    second = covariance + np.outer(mean, mean)
    return cross_about(fourth.cross3, fourth.cross4, mean, second, mean)[1]


def _shifted(fourth, mean, covariance, s):
    """The moments of ``y + s``, from those of ``y`` (mean ``mean``, covariance ``covariance``)."""
    second = covariance + np.outer(mean, mean)  # E[y y']
    sq = np.trace(second)  # E||y||^2
    ss, s_mean = s @ s, s @ mean
    m3 = fourth.m3 + sq * s + 2.0 * (second @ s) + 2.0 * s_mean * s + ss * mean + ss * s
    m4 = (
        fourth.m4
        + 4.0 * (s @ second @ s)
        + ss * ss
        + 4.0 * (s @ fourth.m3)
        + 2.0 * ss * sq
        + 4.0 * ss * s_mean
    )
    if fourth.cross3 is None:
        return FourthMoments(m3, m4)
    return FourthMoments(m3, m4, *cross_about(fourth.cross3, fourth.cross4, mean, second, -s))


def combine_fourth_moments(a, a_state, b, b_state, eta):
    """Pool the moments ``b`` of ``b_state`` into ``a``'s at rate ``eta``, about ``a``'s origin.

    ``a_state`` and ``b_state`` are the one-component Gaussians the moments
    belong to (origins, means relative to them, full covariances).
    """
    s = b_state.origins[0] - a_state.origins[0]
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = _shifted(b, b_state.means[0], b_state.covariances[0], s)
    return pool_fourth_moments(a, finite_fourth_moments(*shifted), eta)


def _refuse_underflow(covariance):
    if 0 < np.trace(covariance) < SMALLEST_FOURTH_TRACE:
        raise ValueError(
            "shrinkage='ledoit-wolf' needs the fourth powers of the rows' distances from "
            "their mean, and these underflow float64 for data this small (a total variance "
            f"of {np.trace(covariance):.3g}, below {SMALLEST_FOURTH_TRACE:g}): rescale the "
            "features (e.g. StandardScaler) or use shrinkage='oas' or a fixed intensity."
        )


def ledoit_wolf_shrinkage(covariance, n_samples, fourth_moment):
    """``sklearn.covariance.ledoit_wolf_shrinkage`` from the sums.

    ``fourth_moment`` is ``mean ||x - mean||^4`` (:func:`centred_fourth_moment`).
    Not rescaled as :func:`oas_shrinkage` is: the covariance's squares are
    as safe as the fourth moment, gathered unscaled (rows whose fourth
    powers overflow are refused, :func:`finite_fourth_moments`).
    """
    d = len(covariance)
    if d == 1:
        return 0.0
    _refuse_underflow(covariance)
    trace = np.trace(covariance)
    mu = trace / d
    frobenius = float(np.sum(covariance**2))
    beta = (fourth_moment - frobenius) / (d * n_samples)
    delta = (frobenius - 2.0 * mu * trace + d * mu**2) / d
    beta = min(beta, delta)
    return 0.0 if beta == 0 else float(beta / delta)


def diagonal_shrinkage(covariance, n_samples, cross_fourth):
    """Ledoit-Wolf's intensity toward ``diag(S)``: the variances kept, the correlations shrunk.

    ``sum_{i != j} Var(s_ij) / sum_{i != j} s_ij^2``, each ``Var(s_ij)``
    estimated as Ledoit-Wolf's are, ``(mean z_i^2 z_j^2 - s_ij^2) / n``
    (:ref:`theory-diagonal-target`); clipped to ``[0, 1]``, 0 for a
    diagonal ``S``. ``cross_fourth`` is ``sum_{i != j} mean z_i^2 z_j^2``
    (:func:`centred_cross_fourth`).
    """
    if len(covariance) == 1:
        return 0.0
    _refuse_underflow(covariance)
    squares = covariance**2
    np.fill_diagonal(squares, 0.0)  # summed without the variances: no cancellation
    off_diagonal = float(np.sum(squares))
    beta = min(max((cross_fourth - off_diagonal) / n_samples, 0.0), off_diagonal)
    return 0.0 if beta == 0 else float(beta / off_diagonal)


def oas_shrinkage(covariance, n_samples):
    """The intensity of ``sklearn.covariance.OAS`` for this covariance and sample count.

    The intensity is a ratio of terms quadratic in the covariance, so it is
    computed on the covariance divided by its largest entry: its squares
    then neither overflow (scikit-learn's intensity is NaN beyond entries of
    about 1e154) nor lose their precision (it is 1 below about 1e-162).
    """
    d = len(covariance)
    if d == 1:
        return 0.0
    largest = np.max(np.abs(covariance))
    if largest > 0:
        covariance = covariance / largest
    alpha = np.mean(covariance**2)
    mu = np.trace(covariance) / d
    num = alpha + mu**2
    den = (n_samples + 1) * (alpha - mu**2 / d)
    return 1.0 if den == 0 else float(min(num / den, 1.0))


def intensity(kind, covariance, n_samples, fourth=None, mean=None, target="spherical"):
    """The shrinkage intensity ``kind`` gives a ``(d, d)`` covariance of ``n_samples`` rows.

    ``'oas'``: :func:`oas_shrinkage`; ``'ledoit-wolf'``: :func:`ledoit_wolf_shrinkage`
    (``target='spherical'``) or :func:`diagonal_shrinkage` (``'diag'``) from the
    gathered ``fourth`` moments about the component's origin and its ``mean``
    relative to it; a number: itself. No rows: 0.
    """
    if not isinstance(kind, str):
        return float(kind)
    if n_samples == 0:
        return 0.0
    if kind == "oas":
        return oas_shrinkage(covariance, n_samples)
    if target == "spherical":
        centred = centred_fourth_moment(fourth, mean, covariance)
        return ledoit_wolf_shrinkage(covariance, n_samples, centred)
    if fourth.cross3 is None:
        raise ValueError(
            "shrinkage_target='diag' with shrinkage='ledoit-wolf' needs each feature's "
            "fourth moment, which this estimator's learned state (saved by an earlier "
            "version) does not hold: refit it, or use shrinkage_target='spherical'."
        )
    cross = centred_cross_fourth(fourth, mean, covariance)
    return diagonal_shrinkage(covariance, n_samples, cross)
