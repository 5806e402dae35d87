"""River adapters: the estimators as `river <https://riverml.xyz>`_ online learners.

Needs the ``river`` extra: ``pip install "sklearn-onlinegauss[river]"``.

:class:`RiverAnomalyDetector` speaks river's ``AnomalyDetector`` API (``learn_one(x)``,
``score_one(x)``) over :class:`~sklearn_onlinegauss.OnlineGaussian`,
:class:`~sklearn_onlinegauss.OnlineGaussianMixture` or
:class:`~sklearn_onlinegauss.OnlineEllipticEnvelope`; :class:`RiverClassifier` river's
``Classifier`` API (``learn_one(x, y)``, ``predict_proba_one(x)``, ``predict_one(x)``) over
:class:`~sklearn_onlinegauss.OnlineGaussianClassifier`. Each ``learn_one`` is one
``partial_fit`` of one row, so the adapter's ``estimator_`` is the estimator streamed on the
same rows, with every read and export it has (``to_sklearn``, ``save_model``, ``merge``).

A row is a dict of numbers. The features are the first learned row's keys, sorted
(``feature_names_``; in the row's order if they do not sort), so that no estimate depends on
the order of a dict's keys, which river does not fix (a covariance of condition 1e10, as few
rows per class make, would turn a permutation's rounding into probabilities that differ in
their sixth digit). Every later row must have exactly those keys, in any order: a Gaussian
is over a fixed set of features, so a new key or a missing one is refused in words rather
than guessed (river's checks of emerging and disappearing features are skipped for that
reason, as for river's own ``compat.SKL2RiverClassifier``).

Without river this module still imports (so that its documentation builds), and building an
adapter raises an ImportError that says what to install.
"""

import warnings

import numpy as np
from sklearn.base import clone

from ._classifier import OnlineGaussianClassifier
from ._estimator import OnlineGaussian
from ._mixture import OnlineGaussianMixture
from ._outlier import OnlineEllipticEnvelope

try:
    from river import base as _river_base
except ImportError:  # pragma: no cover - exercised where river is absent
    _river_base = None

__all__ = ["RiverAnomalyDetector", "RiverClassifier"]

_INSTALL = 'sklearn_onlinegauss.river needs river: pip install "sklearn-onlinegauss[river]"'


class _NeedsRiver:
    """The base of the adapters where river is not installed (building one says so)."""


def _require_river():
    if _river_base is None:
        raise ImportError(_INSTALL)


if _river_base is None:  # pragma: no cover
    _AnomalyDetector = _Classifier = _NeedsRiver
else:
    _AnomalyDetector, _Classifier = _river_base.AnomalyDetector, _river_base.Classifier

#: river's feature checks that a fixed set of features cannot pass (river's own
#: scikit-learn wrapper skips the same three).
_FIXED_FEATURES_SKIPS = frozenset(
    {
        "check_emerging_features",
        "check_disappearing_features",
        "check_radically_disappearing_features",
    }
)


class _Rows:
    """The dict-to-row part of both adapters: the features fixed by the first row learned."""

    def _unit_test_skips(self):
        return set(_FIXED_FEATURES_SKIPS)

    def _fitted(self):
        return "estimator_" in vars(self) and self.estimator_.__sklearn_is_fitted__()

    def _row(self, x, learning=False):
        """``x`` as a float64 row of shape (1, n_features), in ``feature_names_``'s order."""
        if not isinstance(x, dict):
            raise TypeError(f"x must be a dict of features, got {type(x).__name__}.")
        names = vars(self).get("feature_names_")
        if names is None:
            if not x:
                raise ValueError("x has no features: a Gaussian needs at least one.")
            names = _ordered(x)
            if learning:
                self.feature_names_ = names
        elif len(x) != len(names) or any(name not in x for name in names):
            self._refuse(x, names)
        values = []
        for name in names:
            value = x[name]
            try:
                values.append(float(value))
            except (TypeError, ValueError):
                raise ValueError(
                    f"feature {name!r} is {value!r}: every feature must be a number."
                ) from None
        return np.array([values])

    @staticmethod
    def _refuse(x, names):
        known = set(names)
        new = [k for k in x if k not in known]
        missing = [k for k in names if k not in x]
        said = []
        if new:
            said.append(f"features the first row had not: {new[:5]!r}")
        if missing:
            said.append(f"not the features {missing[:5]!r} of the first row")
        raise ValueError(
            f"x has {' and '.join(said)}. The Gaussian is over the {len(names)} features of "
            "the first row learned (feature_names_), which every row must have, no more and "
            "no fewer; select or fill them before this step (river.compose.Select, "
            "river.preprocessing.StatImputer)."
        )


class RiverAnomalyDetector(_Rows, _AnomalyDetector):
    """A density of the package as a river anomaly detector: ``learn_one``, ``score_one``.

    ``score_one(x)`` is minus the estimator's ``score_samples`` of the row: the negative
    log-density under :class:`~sklearn_onlinegauss.OnlineGaussian` or
    :class:`~sklearn_onlinegauss.OnlineGaussianMixture`, the squared Mahalanobis distance
    under :class:`~sklearn_onlinegauss.OnlineEllipticEnvelope`; high is anomalous, as river
    wants. Before the estimator has a fit (no row yet, or a mixture still gathering its
    first rows) it is 0.0.

    Parameters
    ----------
    estimator : OnlineGaussian, OnlineGaussianMixture or OnlineEllipticEnvelope, default=None
        The settings of the density learned; None: ``OnlineGaussian()``. It is not
        modified: the first ``learn_one`` fits a clone of it.

    Attributes
    ----------
    estimator_ : OnlineGaussian, OnlineGaussianMixture or OnlineEllipticEnvelope
        The estimator fitted by ``partial_fit`` on each row learned, in order.
    feature_names_ : list
        The first learned row's keys, sorted: the estimator's columns.

    Examples
    --------
    >>> from sklearn_onlinegauss import OnlineEllipticEnvelope
    >>> from sklearn_onlinegauss.river import RiverAnomalyDetector
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> detector = RiverAnomalyDetector(OnlineEllipticEnvelope(contamination=0.01))
    >>> for row in rng.normal(size=(500, 3)):
    ...     detector.learn_one({"a": row[0], "b": row[1], "c": row[2]})
    >>> detector.score_one({"a": 0.0, "b": 0.1, "c": -0.1}) < 1.0
    True
    >>> detector.score_one({"a": 6.0, "b": 0.0, "c": 0.0}) > 30.0
    True
    """

    def __init__(self, estimator=None):
        _require_river()
        self.estimator = estimator

    def learn_one(self, x):
        """Learn one row: one ``partial_fit`` of the estimator.

        Parameters
        ----------
        x : dict
            The row's features, numbers; the first row learned fixes which.
        """
        row = self._row(x, learning=True)
        if "estimator_" not in vars(self):
            self.estimator_ = self._new_estimator()
        self.estimator_.partial_fit(row)

    def score_one(self, x):
        """The row's anomaly score: minus the estimator's ``score_samples`` (0.0 before a fit).

        Parameters
        ----------
        x : dict
            A row with the features of the first row learned.

        Returns
        -------
        float
        """
        if not self._fitted():
            return 0.0
        return float(-self.estimator_.score_samples(self._row(x))[0])

    def _new_estimator(self):
        estimator = OnlineGaussian() if self.estimator is None else self.estimator
        kinds = (OnlineGaussian, OnlineGaussianMixture, OnlineEllipticEnvelope)
        if not isinstance(estimator, kinds):
            raise TypeError(
                "estimator must be an OnlineGaussian, OnlineGaussianMixture or "
                f"OnlineEllipticEnvelope, got {type(estimator).__name__}."
            )
        return clone(estimator)

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"estimator": OnlineEllipticEnvelope(contamination=0.01)}


class RiverClassifier(_Rows, _Classifier):
    """:class:`~sklearn_onlinegauss.OnlineGaussianClassifier` as a river classifier.

    ``learn_one(x, y)``, ``predict_proba_one(x)`` and ``predict_one(x)``. River learns its
    classes as they come: with ``classes=None`` a label not seen before joins the
    classifier's ``classes_`` (its Gaussian empty until then, so the state is the one
    ``partial_fit`` with every class up front would have); with ``classes`` given, every
    label must be one of them, and the classes not seen yet have probability 0.

    Parameters
    ----------
    estimator : OnlineGaussianClassifier, default=None
        The classifier's settings; None: ``OnlineGaussianClassifier()``. It is not
        modified: the first ``learn_one`` fits a clone of it. Its ``priors``, one per
        class, need ``classes``.
    classes : tuple, default=None
        Every label of the stream, if known in advance; None: the labels seen so far.

    Attributes
    ----------
    estimator_ : OnlineGaussianClassifier
        The classifier fitted by ``partial_fit`` on each row learned, in order.
    feature_names_ : list
        The first learned row's keys, sorted: the classifier's columns.

    Examples
    --------
    >>> from river import datasets, evaluate, metrics, preprocessing
    >>> from sklearn_onlinegauss import OnlineGaussianClassifier
    >>> from sklearn_onlinegauss.river import RiverClassifier
    >>> model = preprocessing.StandardScaler() | RiverClassifier(
    ...     OnlineGaussianClassifier(covariance="shared")
    ... )
    >>> evaluate.progressive_val_score(datasets.Phishing(), model, metrics.Accuracy())
    Accuracy: 89.03%
    """

    def __init__(self, estimator=None, classes=None):
        _require_river()
        self.estimator = estimator
        self.classes = classes

    @property
    def _multiclass(self):
        return True

    def learn_one(self, x, y):
        """Learn one labelled row: one ``partial_fit`` of the classifier.

        Parameters
        ----------
        x : dict
            The row's features, numbers; the first row learned fixes which.
        y : label
            Its class: with ``classes=None``, a new one joins the classes.
        """
        row = self._row(x, learning=True)
        if "estimator_" not in vars(self):
            estimator = self._new_estimator()
            classes = [y] if self.classes is None else list(self.classes)
            estimator.partial_fit(row, [y], classes=classes)
            self.estimator_ = estimator
            return
        state = self.estimator_._state
        if self.classes is None:
            self._take_label(y)
        try:
            self.estimator_.partial_fit(row, [y])
        except BaseException:
            self.estimator_._state = state  # a label taken for a row refused: not taken
            raise

    def predict_proba_one(self, x):
        """Each class's posterior probability ({} before any row is learned).

        Parameters
        ----------
        x : dict
            A row with the features of the first row learned.

        Returns
        -------
        dict
            Label to probability, for every class (0 for one not seen yet).
        """
        if not self._fitted():
            return {}
        with warnings.catch_warnings():  # a class given but not seen yet: documented above
            warnings.filterwarnings("ignore", "OnlineGaussianClassifier has seen no rows")
            proba = self.estimator_.predict_proba(self._row(x))[0]
        return dict(zip(self.estimator_.classes_.tolist(), proba.tolist(), strict=True))

    def predict_one(self, x):
        """The most probable class (None before any row is learned).

        Parameters
        ----------
        x : dict
            A row with the features of the first row learned.

        Returns
        -------
        label or None
        """
        return super().predict_one(x)

    def _new_estimator(self):
        estimator = OnlineGaussianClassifier() if self.estimator is None else self.estimator
        if not isinstance(estimator, OnlineGaussianClassifier):
            raise TypeError(
                f"estimator must be an OnlineGaussianClassifier, got {type(estimator).__name__}."
            )
        if estimator.priors is not None and self.classes is None:
            raise ValueError(
                "The estimator's priors are one per class, so they need every class up "
                "front: pass classes=(...) to RiverClassifier, or leave priors=None."
            )
        return clone(estimator)

    def _take_label(self, y):
        """A label not among ``classes_`` joins them, its Gaussian empty (a state like the
        one ``partial_fit`` with every class on its first call would have)."""
        estimator = self.estimator_
        known = estimator.classes_
        if np.asarray([y]).dtype.kind != known.dtype.kind:  # numpy would convert one of them
            raise ValueError(
                f"y={y!r} is not of the type of the classes seen, {known.tolist()!r}: every "
                "label of a stream must be of one type."
            )
        position = np.searchsorted(known, y)
        if position < len(known) and known[position] == y:
            return
        classes = np.unique(np.append(known, y))
        estimator._state = estimator._state.with_classes(estimator._structure(), classes)

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"estimator": OnlineGaussianClassifier(covariance="shared")}


def _ordered(x):
    """The keys of ``x`` sorted, or in their order if they do not sort (a new list)."""
    try:
        return sorted(x)
    except TypeError:  # keys of several types
        return list(x)
