"""The fitted scikit-learn counterpart of each estimator: its attributes set by its conventions.

Each function takes a fitted estimator whose state has a counterpart (checked by
:func:`~.export.to_sklearn`) and returns the scikit-learn object whose reads
(predictions, probabilities, log-densities, distances) are the estimator's.
The shapes come from the structures: a structure knows its covariance's form
and scikit-learn's (``to_full``, ``precisions``, ``sklearn_precisions_cholesky``).
"""

import copy
import warnings
from functools import cache

import numpy as np
from scipy import linalg
from sklearn.covariance import (
    OAS,
    EllipticEnvelope,
    EmpiricalCovariance,
    LedoitWolf,
    ShrunkCovariance,
)
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.mixture import GaussianMixture

__all__ = [
    "classifier_to_sklearn",
    "density_to_sklearn",
    "detector_to_sklearn",
    "mixture_to_sklearn",
]


class NoCounterpart(ValueError):
    """A state that no fitted scikit-learn object represents (one line saying why)."""


def _features(est, obj):
    """``n_features_in_`` and ``feature_names_in_`` as the estimator has them."""
    obj.n_features_in_ = est.n_features_in_
    if hasattr(est, "feature_names_in_"):
        obj.feature_names_in_ = np.array(est.feature_names_in_, dtype=object)
    return obj


def _covariance_object(shrinkage):
    """The EmpiricalCovariance (sub)class whose estimate is that of ``shrinkage``."""
    common = {"store_precision": True, "assume_centered": False}
    if shrinkage is None or (not isinstance(shrinkage, str) and float(shrinkage) == 0.0):
        return EmpiricalCovariance(**common)
    if shrinkage == "ledoit-wolf":
        return LedoitWolf(**common)
    if shrinkage == "oas":
        return OAS(**common)
    return ShrunkCovariance(**common, shrinkage=float(shrinkage))


def density_to_sklearn(est):
    """:class:`OnlineGaussian` as ``EmpiricalCovariance`` (``ShrunkCovariance``,
    ``LedoitWolf`` or ``OAS`` for its ``shrinkage``): location, covariance, precision."""
    obj = _covariance_object(est.shrinkage)
    obj.location_ = np.array(est.location_)
    obj.covariance_ = est.covariance_
    obj.precision_ = np.array(est.precision_)
    if isinstance(obj, LedoitWolf | OAS):
        obj.shrinkage_ = est.shrinkage_
    return _features(est, obj)


def detector_to_sklearn(est):
    """:class:`OnlineEllipticEnvelope` as ``EllipticEnvelope`` with the same ``offset_``.

    After ``fit`` on rows in memory, ``dist_`` and ``support_`` (and the
    ``raw_`` estimates, which here are the same as the final ones: the density
    is not reweighted) are those of the fit's rows; a streamed detector has no
    rows, and its export has none of them.
    """
    obj = EllipticEnvelope(contamination=est.contamination, store_precision=True)
    obj.location_ = np.array(est.location_)
    obj.covariance_ = np.array(est.covariance_)
    obj.precision_ = np.array(est.precision_)
    obj.offset_ = float(est.offset_)
    if hasattr(est, "dist_"):  # after fit only
        obj.dist_, obj.support_ = est.dist_, est.support_
        obj.raw_location_, obj.raw_covariance_ = obj.location_.copy(), obj.covariance_.copy()
        obj.raw_support_, obj.raw_dist_ = obj.support_.copy(), obj.dist_.copy()
    return _features(est, obj)


def mixture_to_sklearn(est):
    """:class:`OnlineGaussianMixture` as ``GaussianMixture`` of its ``covariance_type``.

    ``precisions_cholesky_`` is the structure's: ``P`` with ``P @ P.T`` the
    precision, upper triangular ('full', 'tied'), ``1 / sqrt(variances)``
    ('diag', 'spherical'), as ``GaussianMixture`` computes it.
    """
    init = est.init_params if est.init_params in ("kmeans", "k-means++") else "random_from_data"
    obj = GaussianMixture(
        est.n_components,
        covariance_type=est.covariance_type,
        tol=est.tol,
        reg_covar=est.reg_covar,
        max_iter=est.max_iter,
        n_init=est.n_init,
        init_params=init,
        weights_init=est.weights_init,
        means_init=est.means_init,
        precisions_init=est.precisions_init,
        random_state=copy.deepcopy(est.random_state),
    )
    obj.weights_, obj.means_ = est.weights_, np.array(est.means_)
    obj.covariances_, obj.precisions_ = est.covariances_, est.precisions_
    obj.precisions_cholesky_ = est.precisions_cholesky_
    obj.converged_, obj.n_iter_ = bool(est.converged_), int(est.n_iter_)
    obj.lower_bound_ = float(est.lower_bound_)
    obj.lower_bounds_ = list(est.lower_bounds_)
    return _features(est, obj)


def _class_model(est):
    """``(means (K, d), full covariances (K, d, d), precision factor)`` of the classes."""
    state, factor, _ = est._fitted()
    return state.locations, est._structure().to_full(state), factor


def classifier_to_sklearn(est):
    """:class:`OnlineGaussianClassifier` as QDA (``'per-class'``) or LDA (``'shared'``)."""
    obj = _lda(est) if est.covariance == "shared" else _qda(est)
    obj.classes_ = np.array(est.classes_)
    obj.priors_ = est.priors_
    return _features(est, obj)


def _priors_param(est):
    return None if est.priors is None else np.asarray(est.priors, dtype=float)


#: The attribute of an exported QDA that holds its ``scalings_`` list itself: it tells
#: :func:`~._from_sklearn.classifier_from` that they are the estimator's maximum-likelihood
#: covariances, where QDA's own fit divides by ``n_k - 1``. A refit replaces ``scalings_``
#: (the mark no longer is it); a pickle or deep copy keeps the two one object.
EXPORTED_SCALINGS = "_onlinegauss_scalings"


@cache
def qda_fit_divides_by_n_minus_1():
    """Whether this scikit-learn's QDA fit divides a class's scatter by ``n_k - 1``.

    Before scikit-learn 1.9.1 it did (``scalings_`` and ``covariance_`` unbiased);
    from then on by ``n_k``, the maximum likelihood. Asked of QDA itself, once.
    """
    X, y = np.array([[0.0], [2.0], [0.0], [4.0]]), np.array([0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaling = QuadraticDiscriminantAnalysis().fit(X, y).scalings_[0][0]
    return bool(scaling > 1.5)  # the variance of 0 and 2: 1, or 2 unbiased


def _qda(est):
    """QDA reads ``means_``, ``rotations_`` (eigenvectors as columns) and ``scalings_``
    (eigenvalues, in decreasing order, as its own fit sorts them).

    They are the estimator's covariances, the maximum likelihood, also where QDA's
    own fit would divide by ``n_k - 1``: the reads are the estimator's. The object
    is marked so (:data:`EXPORTED_SCALINGS`), for :func:`~.export.from_sklearn`.
    """
    obj = QuadraticDiscriminantAnalysis(priors=_priors_param(est), store_covariance=True)
    means, covariances, _ = _class_model(est)
    rotations, scalings = [], []
    for covariance in covariances:
        values, vectors = linalg.eigh(covariance)
        order = np.argsort(values)[::-1]
        scalings.append(values[order])
        rotations.append(vectors[:, order])
    if np.min([s[-1] for s in scalings]) <= 0:
        raise NoCounterpart(
            "A class covariance has a non-positive eigenvalue in float64, which "
            "QuadraticDiscriminantAnalysis cannot score; set a larger reg_covar."
        )
    obj.means_, obj.rotations_, obj.scalings_ = np.array(means), rotations, scalings
    obj.covariance_ = [np.array(c) for c in covariances]
    setattr(obj, EXPORTED_SCALINGS, obj.scalings_)
    return obj


def _lda(est):
    """LDA by its ``'eigen'`` solver, every attribute of which the state gives exactly.

    ``covariance_`` is the pooled within-class covariance; ``coef_``,
    ``intercept_``, ``scalings_`` and ``explained_variance_ratio_`` are the
    classifier's own (LDA's linear form; the discriminants, the generalized
    eigenvectors of the between-class scatter against ``covariance_``, with
    the classifier's signs), so that ``transform`` projects as the
    classifier's does. ``scalings_`` has the ``min(n_classes - 1, n_features)``
    columns ``transform`` can use, not the ``n_features`` of LDA's own fit
    (the others are of eigenvalue 0).
    """
    obj = LinearDiscriminantAnalysis(
        solver="eigen", priors=_priors_param(est), n_components=est.n_components
    )
    means, covariances, _ = _class_model(est)
    shares = est.class_count_ / est.class_count_.sum()
    obj.means_, obj.covariance_ = np.array(means), np.array(covariances[0])
    obj.xbar_ = shares @ means
    obj.coef_, obj.intercept_ = est.coef_, est.intercept_
    obj.scalings_ = est.scalings_
    obj.explained_variance_ratio_ = est.explained_variance_ratio_
    obj._max_components = len(obj.explained_variance_ratio_)
    obj._n_features_out = obj._max_components
    return obj
