"""Shrinkage of a covariance toward ``mu I``: a fixed intensity, Ledoit-Wolf and OAS.

scikit-learn's ``ShrunkCovariance``, ``LedoitWolf`` and ``OAS`` are functions
of a few sums of the data (:ref:`theory-shrinkage`): the fixed
intensity and OAS of the sample count ``n`` and the covariance ``S``;
Ledoit-Wolf also of ``sum ||z_i||^4`` about the final mean, which follows
from two sums about any fixed point ``r``, kept as weighted means
(:class:`FourthMoments`):

    m3 = mean ||y||^2 y,   m4 = mean ||y||^4,   y = x - r.

``r`` is the Gaussian's origin (its first row), so the sums stay exact for
data far from 0. Fourth powers overflow float64 where squares do not: a row
farther than about 1e77 from the origin is refused (:func:`finite_fourth_moments`),
before it changes anything. They pool like the mean itself, with the same rates, so the
shrinkage is exact in one pass for any chunking, and after merging.
"""

from typing import NamedTuple

import numpy as np

__all__ = [
    "FourthMoments",
    "batch_fourth_moments",
    "centred_fourth_moment",
    "combine_fourth_moments",
    "finite_fourth_moments",
    "ledoit_wolf_shrinkage",
    "oas_shrinkage",
    "pool_labelled_fourth_moments",
    "intensity",
]


class FourthMoments(NamedTuple):
    """Weighted means about the origin ``r``: ``m3 = mean ||y||^2 y``, ``m4 = mean ||y||^4``."""

    m3: np.ndarray
    m4: float


#: Below this total variance the fourth powers ``||y||^4`` (about its square)
#: reach float64's subnormal range (``tiny / eps``, about 1e-292), where they
#: lose digits and then vanish: Ledoit-Wolf's intensity would be silently wrong.
SMALLEST_FOURTH_TRACE = 1e-140


def finite_fourth_moments(m3, m4):
    """``FourthMoments(m3, m4)``, or a ValueError if float64 could not hold them."""
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(m4).all() and np.isfinite(m3).all()
    if not finite:
        raise ValueError(
            "shrinkage='ledoit-wolf' needs the fourth powers of the rows' distances from "
            "the first row seen, and these overflow float64 (a row, or a part merged, about "
            "1e77 or more from it): rescale the features (e.g. StandardScaler) or use "
            "shrinkage='oas' or a fixed intensity."
        )
    return FourthMoments(m3, m4)


def batch_fourth_moments(X, w, origin):
    """:class:`FourthMoments` of the rows about ``origin`` (``w`` None: unit weights)."""
    Y = X - origin
    with np.errstate(over="ignore", invalid="ignore"):
        squares = np.einsum("ij,ij->i", Y, Y)
        if w is None:
            return finite_fourth_moments((squares @ Y) / len(X), float(squares @ squares) / len(X))
        W = w.sum()
        weighted = w * squares
        return finite_fourth_moments((weighted @ Y) / W, float(weighted @ squares) / W)


def pool_fourth_moments(old, new, eta):
    """Pool ``old`` with ``new`` (about the same origin) at rate ``eta``."""
    with np.errstate(over="ignore", invalid="ignore"):
        return finite_fourth_moments(
            old.m3 + eta * (new.m3 - old.m3), old.m4 + eta * (new.m4 - old.m4)
        )


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
        finite_fourth_moments(squares[:, None] * Y, squares * squares)  # refuse before 0 * inf
        m3 = old.m3 * (1.0 - eta)[:, None] + scale[:, None] * (weights.T @ (squares[:, None] * Y))
        m4 = old.m4 * (1.0 - eta) + scale * (weights.T @ (squares * squares))
        return finite_fourth_moments(m3, m4)


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
    return FourthMoments(m3, m4)


def combine_fourth_moments(a, a_state, b, b_state, eta):
    """Pool the moments ``b`` of ``b_state`` into ``a``'s at rate ``eta``, about ``a``'s origin.

    ``a_state`` and ``b_state`` are the one-component Gaussians the moments
    belong to (origins, means relative to them, full covariances).
    """
    s = b_state.origins[0] - a_state.origins[0]
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = _shifted(b, b_state.means[0], b_state.covariances[0], s)
    return pool_fourth_moments(a, finite_fourth_moments(*shifted), eta)


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
    if 0 < np.trace(covariance) < SMALLEST_FOURTH_TRACE:
        raise ValueError(
            "shrinkage='ledoit-wolf' needs the fourth powers of the rows' distances from "
            "their mean, and these underflow float64 for data this small (a total variance "
            f"of {np.trace(covariance):.3g}, below {SMALLEST_FOURTH_TRACE:g}): rescale the "
            "features (e.g. StandardScaler) or use shrinkage='oas' or a fixed intensity."
        )
    trace = np.trace(covariance)
    mu = trace / d
    frobenius = float(np.sum(covariance**2))
    beta = (fourth_moment - frobenius) / (d * n_samples)
    delta = (frobenius - 2.0 * mu * trace + d * mu**2) / d
    beta = min(beta, delta)
    return 0.0 if beta == 0 else float(beta / delta)


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


def intensity(kind, covariance, n_samples, fourth=None, mean=None):
    """The shrinkage intensity ``kind`` gives a ``(d, d)`` covariance of ``n_samples`` rows.

    ``'oas'``: :func:`oas_shrinkage`; ``'ledoit-wolf'``: :func:`ledoit_wolf_shrinkage`
    from the gathered ``fourth`` moments about the component's origin and its
    ``mean`` relative to it; a number: itself. No rows: 0.
    """
    if not isinstance(kind, str):
        return float(kind)
    if n_samples == 0:
        return 0.0
    if kind == "oas":
        return oas_shrinkage(covariance, n_samples)
    centred = centred_fourth_moment(fourth, mean, covariance)
    return ledoit_wolf_shrinkage(covariance, n_samples, centred)
