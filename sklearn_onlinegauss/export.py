"""To scikit-learn and back: the fitted scikit-learn counterpart of a streamed model.

:func:`to_sklearn` returns the fitted scikit-learn estimator whose reads are the
online estimator's; :func:`from_sklearn` turns a fitted scikit-learn Gaussian
model into an online estimator that goes on learning from it. Through the
exported model, ``skl2onnx`` converts a streamed mixture or classifier to ONNX
(the user guide's "To scikit-learn, ONNX").
"""

from sklearn.covariance import (
    EllipticEnvelope,
    EmpiricalCovariance,
    GraphicalLasso,
    GraphicalLassoCV,
    MinCovDet,
)
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted

from . import _from_sklearn as inward
from . import _to_sklearn as outward
from ._classifier import OnlineGaussianClassifier
from ._estimator import OnlineGaussian
from ._mixture import OnlineGaussianMixture
from ._outlier import OnlineEllipticEnvelope

__all__ = ["from_sklearn", "to_sklearn"]


def to_sklearn(estimator):
    """The fitted scikit-learn counterpart of a fitted online estimator.

    - :class:`OnlineGaussian`: ``EmpiricalCovariance`` (``ShrunkCovariance``,
      ``LedoitWolf`` or ``OAS`` for its ``shrinkage``);
    - :class:`OnlineGaussianClassifier`: ``QuadraticDiscriminantAnalysis``
      (``covariance='per-class'``, any ``covariance_type``), or
      ``LinearDiscriminantAnalysis(solver='eigen')`` (``'shared'``);
    - :class:`OnlineGaussianMixture`: ``GaussianMixture`` of its ``covariance_type``;
    - :class:`OnlineEllipticEnvelope`: ``EllipticEnvelope`` with the same ``offset_``
      (and, after ``fit``, the same ``dist_`` and ``support_``).

    Its fitted attributes are set as its own ``fit`` sets them, from the
    estimator's reads (after ``reg_covar`` and ``shrinkage``), so that its
    predictions, probabilities, log-densities, Mahalanobis distances and
    decision function are the online estimator's, to rounding. It is a new
    object: learning more does not change it.

    Parameters
    ----------
    estimator : fitted OnlineGaussian, OnlineGaussianClassifier, OnlineGaussianMixture
        or OnlineEllipticEnvelope

    Returns
    -------
    object
        The fitted scikit-learn estimator.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If its state has no counterpart, in one line saying why: a classifier
        with a class it has seen no rows of, or with ``shrinkage`` (QDA, LDA and
        GaussianMixture have no shrinkage toward the mean variance), a mixture
        still in its warm-up, a detector whose density is not an OnlineGaussian.

    See Also
    --------
    from_sklearn : The way back, to go on learning.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_onlinegauss import OnlineGaussianClassifier
    >>> from sklearn_onlinegauss.export import to_sklearn
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = OnlineGaussianClassifier()
    >>> for rows in np.array_split(np.random.default_rng(0).permutation(150), 5):
    ...     clf = clf.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
    >>> qda = to_sklearn(clf)
    >>> type(qda).__name__
    'QuadraticDiscriminantAnalysis'
    >>> np.allclose(qda.predict_proba(X), clf.predict_proba(X), rtol=0, atol=1e-10)
    True
    """
    for kind, export in _EXPORTS:
        if isinstance(estimator, kind):
            check_is_fitted(estimator)
            _check_exportable(estimator)
            return export(estimator)
    raise TypeError(
        f"to_sklearn exports an estimator of sklearn-onlinegauss "
        f"({', '.join(k.__name__ for k, _ in _EXPORTS)}), got a {type(estimator).__name__}."
    )


_EXPORTS = (
    (OnlineGaussian, outward.density_to_sklearn),
    (OnlineGaussianClassifier, outward.classifier_to_sklearn),
    (OnlineGaussianMixture, outward.mixture_to_sklearn),
    (OnlineEllipticEnvelope, outward.detector_to_sklearn),
)


def _check_exportable(est):
    """Refuse, in one line, a state that no fitted scikit-learn object represents."""
    name = type(est).__name__
    shrinkage = getattr(est, "shrinkage", None)
    shrunk = shrinkage is not None and (isinstance(shrinkage, str) or float(shrinkage) != 0)
    if isinstance(est, OnlineGaussianClassifier | OnlineGaussianMixture) and shrunk:
        raise outward.NoCounterpart(
            f"{name} with shrinkage={shrinkage!r} has no scikit-learn counterpart: QDA's "
            "reg_param, LDA's shrinkage and GaussianMixture shrink otherwise, or not at all."
        )
    if isinstance(est, OnlineGaussianClassifier) and not est._seen().all():
        unseen = est.classes_[~est._seen()].tolist()
        raise outward.NoCounterpart(
            f"{name} has seen no rows of classes {unseen}: they have no Gaussian, which "
            "a fitted QDA or LDA needs for every class."
        )
    if isinstance(est, OnlineGaussianMixture) and est._state.kept is not None:
        raise outward.NoCounterpart(
            f"{name} is still in its warm-up ({len(est._state.kept)} of init_size="
            f"{est.init_size} rows kept for batch EM): its mixture is provisional."
        )
    if isinstance(est, OnlineEllipticEnvelope) and not isinstance(est.estimator_, OnlineGaussian):
        raise outward.NoCounterpart(
            f"{name}'s density is a {type(est.estimator_).__name__}, whose settings "
            "EllipticEnvelope cannot read; export a detector of an OnlineGaussian."
        )


def from_sklearn(fitted, n_samples_seen=None, **params):
    """An online estimator that goes on learning from a fitted scikit-learn model.

    - ``EmpiricalCovariance``, ``ShrunkCovariance``, ``OAS``, ``MinCovDet``:
      :class:`OnlineGaussian` (a shrunk covariance un-shrunk, and the
      estimator given its ``shrinkage``);
    - ``QuadraticDiscriminantAnalysis`` (its ``reg_param`` undone, and where its
      fit divides a class's scatter by ``n_k - 1``, scikit-learn before 1.9.1,
      that too, unless the object is one ``to_sklearn`` made):
      :class:`OnlineGaussianClassifier` with ``covariance='per-class'``;
    - ``LinearDiscriminantAnalysis``: :class:`OnlineGaussianClassifier` with
      ``covariance='shared'``;
    - ``GaussianMixture``: :class:`OnlineGaussianMixture`, past its warm-up;
    - ``EllipticEnvelope``: :class:`OnlineEllipticEnvelope`, its threshold's
      histogram that of the ``dist_`` of its fit's rows.

    The online state is the one a stream of the prior fit's rows leaves: its
    moments, weighted by the class frequencies or mixing weights, counting as
    ``n_samples_seen`` rows (``t_ = n_samples_seen_ = n_samples_seen``), so that
    with the default schedule a ``partial_fit`` of more rows gives the estimate
    of all of them. ``from_sklearn(to_sklearn(est), n_samples_seen=est.n_samples_seen_,
    **settings)`` then more ``partial_fit`` is ``est`` continued, for an estimator
    streamed with unit weights (``t_ == n_samples_seen_``), where ``settings`` are
    the online settings the scikit-learn model does not carry (a classifier's
    ``covariance_type``, a schedule; a detector's ``estimator``).

    Parameters
    ----------
    fitted : fitted scikit-learn estimator
        One of the table's.
    n_samples_seen : int, or array-like of shape (n_classes,) for QDA and LDA, default=None
        How many rows the prior fit counts as; for QDA and LDA, an int splits by
        ``priors_``, or the class counts. Required but where ``fitted`` records
        it: ``MinCovDet`` and ``EllipticEnvelope`` (the rows of ``support_``; the
        envelope's threshold counts the rows of ``dist_``). A QDA fitted with
        ``priors`` needs the class counts.
    **params
        Settings of the online estimator (its constructor's parameters). Those
        ``fitted`` determines (a mixture's ``n_components``, ``covariance_type``
        and ``reg_covar``; a classifier's ``covariance`` and ``priors``; a
        detector's ``contamination``, which may be changed) are taken from it.

    Returns
    -------
    estimator
        A fitted online estimator.

    Raises
    ------
    ValueError
        In one line, where ``fitted`` has no online counterpart: a covariance
        ``assume_centered``, one shrunk fully, LDA with shrinkage, with priors
        or keeping no ``covariance_`` (``solver='svd'`` without
        ``store_covariance``), an EllipticEnvelope without ``dist_``, the
        setting ``shrinkage='ledoit-wolf'`` (its sums are not kept), or a
        setting that contradicts ``fitted``.

    See Also
    --------
    to_sklearn : The way out.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.mixture import GaussianMixture
    >>> from sklearn_onlinegauss.export import from_sklearn
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-5, 1, (500, 2)), rng.normal(5, 1, (500, 2))])
    >>> gm = GaussianMixture(2, random_state=0).fit(X)
    >>> online = from_sklearn(gm, n_samples_seen=len(X))
    >>> online = online.partial_fit(rng.normal(5, 1, (100, 2)))
    >>> online.n_samples_seen_
    1100
    """
    for kind, load in _IMPORTS:
        if isinstance(fitted, kind):
            check_is_fitted(fitted)
            return load(fitted, n_samples_seen, params)
    raise TypeError(
        "from_sklearn reads a fitted EmpiricalCovariance (or ShrunkCovariance, LedoitWolf, "
        "OAS, MinCovDet), QuadraticDiscriminantAnalysis, LinearDiscriminantAnalysis, "
        f"GaussianMixture or EllipticEnvelope; got a {type(fitted).__name__}."
    )


def _refuse_graphical(fitted, n_samples_seen, params):
    raise outward.NoCounterpart(
        f"{type(fitted).__name__} estimates a sparse precision, not the moments an "
        "OnlineGaussian continues from; use EmpiricalCovariance."
    )


_IMPORTS = (
    (
        EllipticEnvelope,
        lambda f, n, p: inward.detector_from(OnlineEllipticEnvelope, OnlineGaussian, f, n, p),
    ),
    (GraphicalLasso | GraphicalLassoCV, _refuse_graphical),
    (MinCovDet, lambda f, n, p: inward.density_from(OnlineGaussian, f, n, p)),
    (EmpiricalCovariance, lambda f, n, p: inward.density_from(OnlineGaussian, f, n, p)),
    (
        QuadraticDiscriminantAnalysis,
        lambda f, n, p: inward.classifier_from(OnlineGaussianClassifier, f, n, p, False),
    ),
    (
        LinearDiscriminantAnalysis,
        lambda f, n, p: inward.classifier_from(OnlineGaussianClassifier, f, n, p, True),
    ),
    (GaussianMixture, lambda f, n, p: inward.mixture_from(OnlineGaussianMixture, f, n, p)),
)
