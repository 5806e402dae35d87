"""OnlineGaussianClassifier: one Gaussian per class, the face whose row weights are labels."""

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._base import StreamingEstimator
from ._classes import ClassState, class_intensities, class_step, labels_of, merge_class_states
from ._compat import Interval, InvalidParameterError, StrOptions
from ._merge import merged_like
from ._shrinkage import FourthMoments
from ._streaming import Carry, call_lock, check_fitted
from ._structures import PER_COMPONENT, SHARED, STRUCTURES

__all__ = ["OnlineGaussianClassifier"]


class OnlineGaussianClassifier(ClassifierMixin, StreamingEstimator):
    """One Gaussian per class, streamed with ``partial_fit(X, y, classes)``.

    Every class's Gaussian takes the natural-gradient step from the rows of
    its class, all classes in one pass (K Gaussians, rows weighted by their
    class: :ref:`theory-mixtures`). With the default ``'optimal'`` schedule
    the estimate is exact whatever the chunking: with
    ``covariance='per-class'`` the model of
    :class:`~sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis`
    (``reg_param=0``), with ``covariance='shared'`` the one of
    :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`; with
    ``covariance_type='diag'`` per class that of
    :class:`~sklearn.naive_bayes.GaussianNB`.

    Parameters
    ----------
    covariance : {'per-class', 'shared'}, default='per-class'
        One covariance per class (quadratic boundaries), or the pooled
        within-class covariance shared by all (linear boundaries; needs
        ``covariance_type='full'``).
    covariance_type : {'full', 'diag', 'spherical'}, default='full'
        Structure of the per-class covariances.
    learning_rate : {'optimal', 'constant', 'invscaling'}, default='optimal'
        Schedule of the stream, as in :class:`OnlineGaussian` (a class's rate
        is the stream's over its share of the stream).
    eta0 : float, default=0.01
        Rate of ``'constant'`` (below 1) and ``'invscaling'``.
    power_t : float, default=0.6
        Exponent of ``'invscaling'``.
    priors : array-like of shape (n_classes,), default=None
        Class priors; None: the class frequencies of the stream.
    reg_covar : float, default=1e-6
        What a covariance gets where its data do not determine it.
    shrinkage : {'ledoit-wolf', 'oas'} or float in [0, 1], default=None
        Shrinkage of each covariance toward its mean variance: a fixed
        intensity, or LedoitWolf's / OAS's on each class's rows, exactly
        (these need ``covariance_type='full'`` and ``learning_rate='optimal'``;
        ``'ledoit-wolf'`` is per class only and gathers two more sums).
    batch_size : int or 'auto', default='auto'
        Rows per step; the estimate does not depend on it.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_count_ : ndarray of shape (n_classes,)
        Total sample weight seen of each class.
    priors_ : ndarray of shape (n_classes,)
    means_ : ndarray of shape (n_classes, n_features)
    covariances_ : ndarray
        Per-class covariances, shaped as in GaussianMixture
        (``covariance='per-class'`` only).
    covariance_ : ndarray of shape (n_features, n_features)
        The shared covariance (``covariance='shared'`` only).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_samples_seen_ : int
    t_ : float

    See Also
    --------
    sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_onlinegauss import OnlineGaussianClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = OnlineGaussianClassifier()
    >>> for rows in np.array_split(np.random.default_rng(0).permutation(150), 5):
    ...     clf = clf.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
    >>> round(clf.score(X, y), 2)
    0.98
    """

    _parameter_constraints = {
        "covariance": [StrOptions({"per-class", "shared"})],
        "covariance_type": [StrOptions(PER_COMPONENT)],
        "learning_rate": [StrOptions({"optimal", "constant", "invscaling"})],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "priors": ["array-like", None],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "shrinkage": [
            None,
            StrOptions({"ledoit-wolf", "oas"}),
            Interval(Real, 0, 1, closed="both"),
        ],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    }
    _structural_params = ("covariance", "covariance_type")
    # float32 rows stay float32 until a mini-batch is centred into float64.
    _input_dtypes = (np.float64, np.float32)

    def __init__(
        self,
        *,
        covariance="per-class",
        covariance_type="full",
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.6,
        priors=None,
        reg_covar=1e-6,
        shrinkage=None,
        batch_size="auto",
    ):
        self.covariance = covariance
        self.covariance_type = covariance_type
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.priors = priors
        self.reg_covar = reg_covar
        self.shrinkage = shrinkage
        self.batch_size = batch_size

    def fit(self, X, y, sample_weight=None):
        """Fit on all of ``X`` afresh: one pass, exact for the default schedule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return super().fit(X, y, sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Learn from one chunk of the stream.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream: required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        with call_lock(self):
            if classes is None and self._params_unchanged():  # the streaming case
                return self._update(X, y, sample_weight, self._validated_params)
            return self._validated_partial_fit(X, y, sample_weight, classes=classes)

    # -- the hooks -------------------------------------------------------------------

    def _structure_values(self):
        gathers = ("shrinkage='ledoit-wolf' (sums gathered)", self.shrinkage == "ledoit-wolf")
        return (*super()._structure_values(), gathers)

    def _check_settings(self):
        if self.covariance == "shared" and self.covariance_type != "full":
            raise InvalidParameterError(
                "covariance='shared' is the pooled within-class covariance of "
                "LinearDiscriminantAnalysis and needs covariance_type='full'."
            )
        if isinstance(self.shrinkage, str) and (
            self.covariance_type != "full" or self.learning_rate != "optimal"
        ):
            raise InvalidParameterError(
                f"shrinkage={self.shrinkage!r} estimates each covariance from all the data "
                "seen: it needs covariance_type='full' and learning_rate='optimal'."
            )
        if self.shrinkage == "ledoit-wolf" and self.covariance == "shared":
            raise InvalidParameterError(
                "shrinkage='ledoit-wolf' is per class: the Ledoit-Wolf intensity of the "
                "shared covariance needs every class's own covariance, which "
                "covariance='shared' does not keep. Use shrinkage='oas' (OAS of the "
                "class-centred rows) or a fixed intensity."
            )
        super()._check_settings()

    def _structure(self):
        return SHARED if self.covariance == "shared" else STRUCTURES[self.covariance_type]

    def _one_pass_is_exact(self):
        return True  # fit is one pass of the stream in its order

    def _check_targets(self, X, y, first, fit=False, classes=None):
        if first or not (type(y) is np.ndarray and y.ndim == 1):
            y = column_or_1d(y, warn=True)
            check_classification_targets(y)
        # Later, a plain array of labels needs only to hold known classes.
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels.")
        if fit:
            classes = np.unique(y)
        elif first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        elif not first:
            known = self.classes_
            if classes is not None and not np.array_equal(classes, known):
                raise ValueError(
                    f"classes={classes!r} is not the classes_ of the first call, {known!r}."
                )
            classes = known
        return labels_of(np.unique(classes) if first and not fit else classes, y)

    def _start(self, X, labels, rng):
        K, d = len(labels.classes), X.shape[1]
        fourth = (
            FourthMoments(np.zeros((K, d)), np.zeros(K))
            if self.shrinkage == "ledoit-wolf"
            else None
        )
        gaussians = self._structure().empty(K, d)
        return Carry(ClassState(gaussians, labels.classes, np.zeros(K), fourth), None, 0.0, 0, 0)

    def _moments(self, state):
        return state.gaussians

    def _step(self, rate, labels):
        return class_step(self._structure(), rate, labels)

    def _intensities(self, carry):
        state = carry.state
        if not isinstance(self.shrinkage, str):
            return super()._intensities(carry)
        if self.shrinkage == "ledoit-wolf" and state.fourth is None:
            raise ValueError(
                "shrinkage='ledoit-wolf' needs sums gathered while fitting, and this "
                "classifier was fitted without it: refit with shrinkage='ledoit-wolf' set."
            )
        return class_intensities(self.shrinkage, state, carry.t, self.covariance == "shared")

    def _merge_problem(self, other):
        if not np.array_equal(self.classes_, other.classes_):
            return "has other classes"
        return None

    @classmethod
    def _merged(cls, parts):
        """Each class pooled exactly, each part weighted by the weight it has seen."""
        state, total = merge_class_states(parts[0]._structure(), parts)
        carry = Carry(state, None, total, sum(p.n_samples_seen_ for p in parts), 0)
        return merged_like(parts[0], carry, max(p.n_iter_ for p in parts))

    # -- reads ------------------------------------------------------------------------

    @property
    def classes_(self):
        """ndarray of shape (n_classes,): the classes."""
        check_fitted(self)
        return self._state.classes

    @property
    def class_count_(self):
        """ndarray of shape (n_classes,): total sample weight seen of each class."""
        check_fitted(self)
        return self._state.counts.copy()

    @property
    def priors_(self):
        """ndarray of shape (n_classes,): the class priors used."""
        check_fitted(self)
        if self.priors is not None:
            priors = np.asarray(self.priors, dtype=float)
            if priors.shape != self.classes_.shape or np.any(priors < 0):
                raise ValueError(f"priors must be {len(self.classes_)} non-negative numbers.")
            return priors / priors.sum()
        weights = self._state.gaussians.weights
        return weights / weights.sum()

    @property
    def means_(self):
        """ndarray of shape (n_classes, n_features): the class means."""
        return self._fitted()[0].locations

    @property
    def covariances_(self):
        """ndarray: the per-class covariances (``covariance='per-class'``)."""
        if self.covariance == "shared":
            raise AttributeError("covariance='shared' has one covariance_, not covariances_.")
        return self._fitted()[0].covariances.copy()

    @property
    def covariance_(self):
        """ndarray of shape (n_features, n_features): the shared covariance."""
        if self.covariance != "shared":
            raise AttributeError("covariance='per-class' has covariances_, not covariance_.")
        return self._fitted()[0].covariances.copy()

    def _joint_log_likelihood(self, X):
        state, factor, normalizers = self._fitted()
        X = self._check_X(X)
        with np.errstate(divide="ignore"):  # a class not seen yet: prior 0, log -inf
            log_priors = np.log(self.priors_)
        return self._structure().log_density(state, factor, X, normalizers) + log_priors

    def predict_log_proba(self, X):
        """Log of the class posterior probabilities, shape (n_samples, n_classes)."""
        joint = self._joint_log_likelihood(X)
        return joint - logsumexp(joint, axis=1, keepdims=True)

    def predict_proba(self, X):
        """Class posterior probabilities, shape (n_samples, n_classes)."""
        return np.exp(self.predict_log_proba(X))

    def decision_function(self, X):
        """Log posterior of each class up to a constant; for two classes, their difference."""
        joint = self._joint_log_likelihood(X)
        return joint[:, 1] - joint[:, 0] if joint.shape[1] == 2 else joint

    def predict(self, X):
        """The most probable class of each row."""
        return self.classes_[np.argmax(self._joint_log_likelihood(X), axis=1)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        return super().score(X, y, sample_weight=sample_weight)

    def mahalanobis(self, X):
        """Squared Mahalanobis distances to every class, shape (n_samples, n_classes)."""
        state, factor, _ = self._fitted()
        return self._structure().mahalanobis(state, factor, self._check_X(X))

    def ood_score(self, X, relative=False):
        """Minus each row's smallest class Mahalanobis distance (low: out of distribution).

        The Mahalanobis OOD score (Lee et al., 2018); ``relative=True`` subtracts
        the row's distance to one Gaussian of all the data seen (Ren et al., 2021).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        relative : bool, default=False

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        distances = self.mahalanobis(X)
        if relative:
            distances = distances - self._background_mahalanobis(X)[:, None]
        return -distances.min(axis=1)

    def _background_mahalanobis(self, X):
        """Squared distances to the Gaussian of all the data: the classes' pooled moments."""
        state = self._fitted()[0]
        weights = state.weights / state.weights.sum()
        centre = weights @ state.locations
        spread = (state.locations - centre) * np.sqrt(weights)[:, None]
        covariance = np.tensordot(weights, self._structure().to_full(state), axes=1)
        covariance += spread.T @ spread
        full = STRUCTURES["full"]
        background, factor = full.regularized(
            full.from_full(centre[None], covariance[None]), self.reg_covar
        )
        return full.mahalanobis(background, factor, self._check_X(X))[:, 0]
