"""Online estimators from fitted scikit-learn Gaussian models, ready to go on learning.

Every importer gives the learned state of a stream that has seen the prior
fit's rows: the structure's own state of those moments (``from_full``, with
the components' shares as weights), ``t = n_samples_seen``, committed by
:func:`~._merge.merged_like` as a merge commits its pooled state, so that the
estimator is what a stream of those rows would have left.
"""

import numbers

import numpy as np
from sklearn.covariance import OAS, LedoitWolf, MinCovDet, ShrunkCovariance

from ._classes import ClassState
from ._merge import merged_like
from ._quantiles import DistanceHistogram, pool_distances
from ._solvers import Natural, WarmupState
from ._streaming import Carry
from ._to_sklearn import EXPORTED_SCALINGS, NoCounterpart, qda_fit_divides_by_n_minus_1

__all__ = ["classifier_from", "density_from", "detector_from", "mixture_from"]


def _template(cls, params, fitted, n_features=None):
    """An unfitted ``cls(**params)``, validated, with ``fitted``'s features."""
    est = cls(**params)
    est._validate_params()
    est._check_settings()
    est.n_features_in_ = int(fitted.n_features_in_ if n_features is None else n_features)
    if hasattr(fitted, "feature_names_in_"):
        est.feature_names_in_ = np.array(fitted.feature_names_in_, dtype=object)
    return est


def _rows(n_samples_seen, recorded, kind):
    """The prior fit's row count: the one given, else the one ``fitted`` records."""
    n = recorded if n_samples_seen is None else n_samples_seen
    if n is None:
        raise ValueError(
            f"A fitted {kind} does not record how many rows it was fitted on: pass "
            "n_samples_seen=, the number of rows the prior fit is to count as."
        )
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n_samples_seen must be a positive integer, got {n!r}.")
    return int(n)


def _refuse_gathered(params, kind):
    if params.get("shrinkage") == "ledoit-wolf":
        raise NoCounterpart(
            f"shrinkage='ledoit-wolf' continues from sums of fourth powers that a fitted {kind} "
            "does not keep; pass a fixed shrinkage (a float) or 'oas'."
        )


# -- one Gaussian ------------------------------------------------------------------------


def _unshrunk(fitted, covariance):
    """The covariance before ``fitted``'s shrinkage toward ``mu I`` (the trace is kept)."""
    if not isinstance(fitted, ShrunkCovariance | LedoitWolf | OAS):
        return covariance, None
    s = float(fitted.shrinkage_ if hasattr(fitted, "shrinkage_") else fitted.shrinkage)
    if s >= 1.0:
        raise NoCounterpart(
            f"{type(fitted).__name__} shrank fully (shrinkage={s}): only the mean variance "
            "is left, not the covariance to continue from."
        )
    d = len(covariance)
    raw = covariance.copy()
    raw.reshape(-1)[:: d + 1] -= s * np.trace(covariance) / d
    return raw / (1.0 - s), s


def density_state(est, location, covariance, n):
    """The :class:`Carry` of ``est``'s solver holding these moments of ``n`` rows."""
    solver, structure = est._solver, est._structure()
    if isinstance(solver, Natural):
        gaussians = structure.from_full(location[None], covariance[None], np.ones(1))
        if solver.fourth_moments:
            raise NoCounterpart(
                "shrinkage='ledoit-wolf' continues from sums of fourth powers that no "
                "scikit-learn estimator keeps."
            )
        state = gaussians
    else:  # the Euclidean solvers start from exact moments of enough rows
        state = solver.settle(WarmupState(location, structure.project(covariance), n, 1.0))
    return Carry(state, None, float(n), n, 0)


def density_from(cls, fitted, n_samples_seen, params):
    """:class:`OnlineGaussian` from ``EmpiricalCovariance`` (or a shrunk or robust one)."""
    if fitted.assume_centered:
        raise NoCounterpart(
            f"{type(fitted).__name__}(assume_centered=True) holds second moments about 0, "
            "not a covariance about the mean: refit it with assume_centered=False."
        )
    robust = isinstance(fitted, MinCovDet) and hasattr(fitted, "support_")
    recorded = int(np.count_nonzero(fitted.support_)) if robust else None
    n = _rows(n_samples_seen, recorded, type(fitted).__name__)
    covariance, s = _unshrunk(fitted, np.array(fitted.covariance_, dtype=float))
    if s is not None and "shrinkage" not in params:
        params = {**params, "shrinkage": _shrinkage_name(fitted, s)}
    _refuse_gathered(params, type(fitted).__name__)
    est = _template(cls, params, fitted)
    carry = density_state(est, np.array(fitted.location_, dtype=float), covariance, n)
    return merged_like(est, carry, 1)


def _shrinkage_name(fitted, s):
    """The online ``shrinkage`` whose intensity on more rows is ``fitted``'s."""
    if isinstance(fitted, LedoitWolf):
        raise NoCounterpart(
            "LedoitWolf's intensity on more rows needs sums of fourth powers it does not keep: "
            "pass shrinkage= (a float, such as its shrinkage_, or 'oas') to continue with it."
        )
    return "oas" if isinstance(fitted, OAS) else s


# -- the detector ------------------------------------------------------------------------


def detector_from(cls, density_cls, fitted, n_samples_seen, params):
    """:class:`OnlineEllipticEnvelope` from ``EllipticEnvelope``: its density on the
    ``support_`` rows, its threshold's histogram of the ``dist_`` of its fit's rows."""
    params = {"contamination": fitted.contamination, **params}
    detector = cls(**params)
    detector._validate_params()
    template = detector._template()
    if not isinstance(template, density_cls):
        raise NoCounterpart(
            f"from_sklearn builds an OnlineGaussian density, not a {type(template).__name__}."
        )
    if not hasattr(fitted, "dist_"):
        raise NoCounterpart(
            "This EllipticEnvelope has no dist_ (the distances of its fit's rows), which its "
            "threshold is learned from: export a detector fitted by fit(X), or refit."
        )
    dist = np.asarray(fitted.dist_, dtype=float)
    density = density_from(density_cls, fitted, n_samples_seen, template.get_params())
    weights, retain = density._rate().pooling(0.0, None, len(dist))
    detector.estimator_ = density
    detector._histogram = pool_distances(
        DistanceHistogram.empty(), dist, density.n_features_in_, weights, retain
    )
    detector._histogram_weight = float(len(dist))
    detector._fitted_offset = (fitted.contamination, float(fitted.offset_))
    support = getattr(fitted, "support_", np.ones(len(dist), bool))
    detector._fit_rows = (dist.copy(), np.asarray(support, dtype=bool).copy())
    detector._validated_params = detector._param_values()
    return detector


# -- the mixture -------------------------------------------------------------------------


def mixture_from(cls, fitted, n_samples_seen, params):
    """:class:`OnlineGaussianMixture` from ``GaussianMixture``: its components' moments,
    weighted by ``weights_``, past the warm-up."""
    from ._em import MixtureState

    n = _rows(n_samples_seen, None, "GaussianMixture")
    settings = {
        "n_components": fitted.n_components,
        "covariance_type": fitted.covariance_type,
        "reg_covar": fitted.reg_covar,
    }
    _check_agrees(settings, params, "GaussianMixture")
    est = _template(cls, {**settings, **params}, fitted)
    structure = est._structure()
    covariances = _full_covariances(fitted)
    gaussians = structure.from_full(
        np.array(fitted.means_, dtype=float), covariances, np.array(fitted.weights_, dtype=float)
    )
    carry = Carry(MixtureState(gaussians), None, float(n), n, 0)
    merged = merged_like(est, carry, int(getattr(fitted, "n_iter_", 1)), [fitted.lower_bound_])
    merged.converged_ = bool(getattr(fitted, "converged_", False))
    return merged


def _full_covariances(fitted):
    """``GaussianMixture``'s ``covariances_`` as ``(K, d, d)`` matrices."""
    K, d = fitted.means_.shape
    c = np.asarray(fitted.covariances_, dtype=float)
    kind = fitted.covariance_type
    if kind == "full":
        return c
    if kind == "tied":
        return np.broadcast_to(c, (K, d, d))
    variances = c if kind == "diag" else np.repeat(c[:, None], d, axis=1)
    full = np.zeros((K, d, d))
    full.reshape(K, d * d)[:, :: d + 1] = variances
    return full


def _check_agrees(settings, params, kind):
    for name, value in settings.items():
        if name in params and params[name] != value:
            raise ValueError(
                f"{name}={params[name]!r} contradicts the fitted {kind}'s {name}={value!r}, "
                "which its state was fitted with."
            )


# -- the classifier ----------------------------------------------------------------------


def _class_counts(fitted, n_samples_seen, kind):
    """Each class's rows: given per class, or the empirical priors times the rows."""
    K = len(fitted.classes_)
    if n_samples_seen is not None and np.ndim(n_samples_seen) == 1:
        counts = np.asarray(n_samples_seen, dtype=float)
        if counts.shape != (K,) or not np.all(np.isfinite(counts)) or np.any(counts <= 0):
            raise ValueError(
                f"n_samples_seen per class must be {K} positive counts, got {n_samples_seen!r}."
            )
        return counts
    if fitted.priors is not None:
        raise ValueError(
            f"This {kind} was fitted with priors, so its priors_ are not its class "
            f"frequencies: pass n_samples_seen as the {K} class counts."
        )
    n = _rows(n_samples_seen, None, kind)
    counts = np.asarray(fitted.priors_, dtype=float) * n
    whole = np.round(counts)
    return np.where(np.abs(counts - whole) <= 1e-9 * counts, whole, counts)


def classifier_from(cls, fitted, n_samples_seen, params, shared):
    """:class:`OnlineGaussianClassifier` from QDA (``shared=False``) or LDA."""
    kind = type(fitted).__name__
    _check_agrees({"covariance": "shared" if shared else "per-class"}, params, kind)
    priors = None if fitted.priors is None else np.asarray(fitted.priors, dtype=float)
    settings = {"covariance": "shared" if shared else "per-class", "priors": priors}
    _refuse_gathered(params, kind)
    est = _template(cls, {**settings, **params}, fitted)
    counts = _class_counts(fitted, n_samples_seen, kind)
    means = np.array(fitted.means_, dtype=float)
    covariances = _lda_within(fitted) if shared else _qda_covariances(fitted, counts)
    gaussians = est._structure().from_full(means, covariances, counts / counts.sum())
    state = ClassState(gaussians, np.array(fitted.classes_), counts, None)
    carry = Carry(state, None, float(counts.sum()), int(round(counts.sum())), 0)
    return merged_like(est, carry, 1)


def _qda_covariances(fitted, counts):
    """QDA's class covariances, ``R diag(S) R'``, before its ``reg_param``: the maximum likelihood.

    Where QDA's own fit divides a class's scatter by ``n_k - 1`` (scikit-learn
    < 1.9.1), ``counts`` (the classes' rows) turn its covariances into the
    maximum likelihood; an object :func:`~.export.to_sklearn` made holds that already.
    """
    r = float(fitted.reg_param)
    if r >= 1.0:
        raise NoCounterpart("QDA with reg_param=1 keeps no class covariance to continue from.")
    if getattr(fitted, "shrinkage", None) is not None:
        raise NoCounterpart(
            "QuadraticDiscriminantAnalysis with shrinkage holds covariances that are not the "
            "classes' own; refit it without shrinkage."
        )
    exported = getattr(fitted, EXPORTED_SCALINGS, None) is fitted.scalings_
    unbiased = qda_fit_divides_by_n_minus_1() and not exported
    covariances = []
    for R, S, n in zip(fitted.rotations_, fitted.scalings_, counts, strict=True):
        S = (np.asarray(S, dtype=float) - r) / (1.0 - r)  # QDA's (1 - r) S + r, undone
        if unbiased:
            S = S * ((n - 1.0) / n)
        covariances.append((R * S) @ R.T)
    return np.array(covariances)


def _lda_within(fitted):
    """LDA's ``covariance_``, the pooled within-class covariance, as one per class."""
    if getattr(fitted, "shrinkage", None) is not None or fitted.covariance_estimator is not None:
        raise NoCounterpart(
            "LinearDiscriminantAnalysis with shrinkage or a covariance_estimator holds a "
            "covariance_ that is not the classes' pooled one; refit it without them."
        )
    if not hasattr(fitted, "covariance_"):
        raise NoCounterpart(
            "LinearDiscriminantAnalysis(solver='svd') keeps no covariance_ unless "
            "store_covariance=True: refit it so, or with solver='lsqr' or 'eigen'."
        )
    if fitted.priors is not None:
        raise NoCounterpart(
            "LinearDiscriminantAnalysis with priors weighs its covariance_ by them, not by "
            "the class counts: the classes' pooled covariance cannot be recovered."
        )
    covariance = np.array(fitted.covariance_, dtype=float)
    return np.broadcast_to(covariance, (len(fitted.classes_), *covariance.shape))
