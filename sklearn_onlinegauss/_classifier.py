"""OnlineGaussianClassifier: one Gaussian per class, the core with K = n_classes."""

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._compat import Interval, InvalidParameterError, StrOptions, _fit_context
from ._gaussians import STRUCTURES
from ._schedules import Rate, check_pooling_rate
from ._shrinkage import (
    FourthMoments,
    centred_fourth_moment,
    ledoit_wolf_shrinkage,
    oas_shrinkage,
    pool_labelled_fourth_moments,
    shrink,
)
from ._solvers import TrackedState
from ._streaming import (
    Carry,
    NothingToLearn,
    StreamingMixin,
    cached_read,
    call_lock,
    check_fitted,
    stream,
)
from ._threads import blas_threads_for, natural_step_work

__all__ = ["OnlineGaussianClassifier"]

#: What a fitting call sets, restored as it was if the call fails.
_FITTED = (
    "_state",
    "_fourth",
    "classes_",
    "class_count_",
    "t_",
    "n_samples_seen_",
    "n_features_in_",
    "feature_names_in_",
    "_validated_params",
)


class OnlineGaussianClassifier(ClassifierMixin, StreamingMixin, BaseEstimator):
    """One Gaussian per class, streamed with ``partial_fit(X, y, classes)``.

    Every class's Gaussian takes the library's natural-gradient step from the
    rows of its class, all classes in one pass of the core (K Gaussians, rows
    weighted by their class). With the default ``'optimal'`` schedule the
    estimate is exact whatever the chunking: with ``covariance='per-class'``
    the model of :class:`~sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis`
    (``reg_param=0``), with ``covariance='shared'`` the one of
    :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`
    (``solver='lsqr'``): the same predictions and probabilities as those fitted
    on all the data. ``covariance_type='diag'`` per class is
    :class:`~sklearn.naive_bayes.GaussianNB`'s model (which ``partial_fit``\\ s
    only that).

    Parameters
    ----------
    covariance : {'per-class', 'shared'}, default='per-class'
        One covariance per class (quadratic boundaries), or one covariance
        shared by all classes, the pooled within-class covariance (linear
        boundaries; needs ``covariance_type='full'``).

    covariance_type : {'full', 'diag', 'spherical'}, default='full'
        Structure of the per-class covariances.

    learning_rate : {'optimal', 'constant', 'invscaling'}, default='optimal'
        Schedule of the stream, as in :class:`OnlineGaussian`: ``'optimal'``
        is the exact estimate of all the data seen; ``'constant'`` forgets
        the stream at rate ``eta0`` per row, for drift (a class's rate is the
        stream's over its share of the stream, online EM's rule).

    eta0 : float, default=0.01
        Rate of ``'constant'`` (below 1) and ``'invscaling'``.

    power_t : float, default=0.6
        Exponent of ``'invscaling'``.

    priors : array-like of shape (n_classes,), default=None
        Class priors; None: the class frequencies of the stream (exponentially
        weighted with ``'constant'``).

    reg_covar : float, default=1e-6
        What a class's covariance gets where its data do not determine it
        (see :class:`OnlineGaussian`).

    shrinkage : {'ledoit-wolf', 'oas'} or float in [0, 1], default=None
        Shrinkage of each covariance toward its mean variance, for classes
        with few rows for their features: a fixed intensity (any
        structure), or chosen from the data as
        :class:`~sklearn.covariance.LedoitWolf` or
        :class:`~sklearn.covariance.OAS` do on each class's rows, exactly, in
        one pass for any chunking (with each class's weight seen as its
        sample count). These two need ``covariance_type='full'`` and
        ``learning_rate='optimal'``. ``'oas'`` also shrinks the shared
        covariance, as OAS on the class-centred rows; ``'ledoit-wolf'`` is
        per class only (its sums about a pooled covariance would need every
        class's own covariance, which ``'shared'`` does not keep), and
        gathers two more sums per class while fitting (``O(n_features)`` per
        row), so it must be set before fitting.

    batch_size : int or 'auto', default='auto'
        Rows per step; the estimate does not depend on it (``'auto'``: about
        2 MB of rows).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_count_ : ndarray of shape (n_classes,)
        Total sample weight seen of each class (its number of rows, without
        sample weights).
    priors_ : ndarray of shape (n_classes,)
        The class priors used.
    means_ : ndarray of shape (n_classes, n_features)
    covariances_ : ndarray
        Per-class covariances, shaped as in
        :class:`~sklearn.mixture.GaussianMixture` for ``covariance_type``
        (``covariance='per-class'`` only): for ``'optimal'`` each class's
        maximum-likelihood covariance, as QuadraticDiscriminantAnalysis's
        (scikit-learn >= 1.8).
    covariance_ : ndarray of shape (n_features, n_features)
        The shared covariance (``covariance='shared'`` only), as
        LinearDiscriminantAnalysis's ``covariance_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_samples_seen_ : int
    t_ : float

    See Also
    --------
    sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis
    sklearn.naive_bayes.GaussianNB

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
        "covariance_type": [StrOptions({"full", "diag", "spherical"})],
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

    # -- fitting ---------------------------------------------------------------

    def fit(self, X, y, sample_weight=None):
        """Fit on all of ``X``, afresh: one exact pass for the default schedule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        if sample_weight is not None and not np.any(np.asarray(sample_weight)):
            raise ValueError(
                "All sample weights are zero: fit needs at least one positive weight."
            )
        with call_lock(self):
            return self._validated_fit(X, y, None, sample_weight, self._param_values(), True)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Learn from one chunk of the stream.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes of the stream: required on the first call (as
            for :class:`~sklearn.linear_model.SGDClassifier`).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        with call_lock(self):
            if classes is None and self._params_unchanged():  # the streaming case
                return self._update(X, y, sample_weight, self._validated_params)
            params = self._param_values()
            return self._validated_fit(X, y, classes, sample_weight, params, False)

    @_fit_context(prefer_skip_nested_validation=True)
    def _validated_fit(self, X, y, classes, sample_weight, params, reset):
        """Validate the settings, then learn; ``reset``: start afresh (``fit``)."""
        self._check_settings()
        try:
            with self._kept_on_error(_FITTED) as fitted:
                if reset:
                    for name in fitted:
                        del self.__dict__[name]
                    classes = np.unique(column_or_1d(y, warn=True))
                if not hasattr(self, "_state"):
                    _check_partial_fit_first_call(self, classes)
                elif classes is not None and not np.array_equal(classes, self.classes_):
                    raise ValueError(
                        f"classes={classes!r} is not the classes_ of the first call, "
                        f"{self.classes_!r}."
                    )
                return self._update(X, y, sample_weight, params)
        except NothingToLearn:  # a first call of zero weight: nothing was there
            return self

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
        check_pooling_rate(self.learning_rate, self.eta0)

    def _structure(self):
        return STRUCTURES["tied" if self.covariance == "shared" else self.covariance_type]

    def _update(self, X, y, sample_weight, params):
        first = not hasattr(self, "_state")
        X, w = self._validate_input(X, sample_weight, reset=first)
        if first or not (type(y) is np.ndarray and y.ndim == 1):
            y = column_or_1d(y, warn=True)
            check_classification_targets(y)
        # Later, a plain array of labels needs only to hold known classes,
        # which the first call checked are classification targets.
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels.")
        index = np.searchsorted(self.classes_, y)
        index[index >= len(self.classes_)] = 0
        unknown = self.classes_[index] != y
        if unknown.any():
            raise ValueError(
                f"y has labels not in classes ({y[unknown][:3]!r}); pass every class of the "
                "stream in the first partial_fit's classes."
            )
        if w is not None and not w.any():
            if first:
                raise NothingToLearn
            return self
        structure = self._structure()
        K, d = len(self.classes_), X.shape[1]
        state = self._state if not first else structure.empty(K, d)
        gather = self.shrinkage == "ledoit-wolf"  # Ledoit-Wolf's sums, per class
        if gather:
            fourth = FourthMoments(np.zeros((K, d)), np.zeros(K))
            state = TrackedState(state, fourth if first else self._gathered_fourth())
        if first:
            start = Carry(state, None, 0.0, 0, 0)
            counts = np.zeros(K)
        else:
            start = Carry(state, None, self.t_, self.n_samples_seen_, 0)
            counts = self.class_count_
        rate = Rate(self.learning_rate, self.eta0, self.power_t)

        def step(state, Xb, wb, t, rows):
            weights, retain = rate.pooling(t, wb, len(Xb))
            A = np.zeros((len(Xb), K))  # each row weighs on its own class only
            A[np.arange(len(Xb)), index[rows]] = weights
            if not gather:
                return structure.step(state, Xb, A, retain), False
            gaussians = structure.step(state.gaussians, Xb, A, retain)
            fourth = pool_labelled_fourth_moments(state.fourth, Xb, A, index[rows], gaussians)
            return TrackedState(gaussians, fourth), False

        batch = self._batch_size(len(X), d)
        with blas_threads_for(natural_step_work(min(batch, len(X)), d)):
            carry = stream(start, X, w, batch, None, step, None, None)
        seen = np.bincount(index, weights=w, minlength=K)
        state = carry.state
        if gather:
            state, self._fourth = state
        else:  # sums that did not see these rows must not be read later
            self.__dict__.pop("_fourth", None)
        self._state, self.t_, self.n_samples_seen_ = state, carry.t, carry.n_seen
        self.class_count_ = counts + seen
        self._validated_params = params
        return self

    def _batch_size(self, n_samples, n_features):
        if self.batch_size != "auto":
            return self.batch_size
        return max(1000, 2**18 // n_features)

    def _gathered_fourth(self):
        """Ledoit-Wolf's sums per class, or an error if the fit did not gather them."""
        fourth = getattr(self, "_fourth", None)
        if fourth is None:
            raise ValueError(
                "shrinkage='ledoit-wolf' needs sums gathered while fitting, and this "
                "classifier was fitted without it: refit with shrinkage='ledoit-wolf' set."
            )
        return fourth

    # -- reading ---------------------------------------------------------------

    def _read(self):
        """The estimate and its factors, computed once per learned state and settings."""
        check_fitted(self)
        learned = (self._state, self.class_count_, getattr(self, "_fourth", None))
        return cached_read(self, learned, self._compute_read)

    def _compute_read(self):
        structure, state = self._structure(), self._state
        if self.shrinkage is not None:
            shared = self.covariance == "shared"
            covariances = state.covariances[None] if shared else state.covariances
            if isinstance(self.shrinkage, str):
                counts = [self.t_] if shared else self.class_count_
                covariances = np.array(
                    [
                        shrink(c[None], self._intensity(k, c, n))[0]
                        for k, (c, n) in enumerate(zip(covariances, counts, strict=True))
                    ]
                )
            else:
                covariances = shrink(covariances, self.shrinkage)
            state = state._replace(covariances=covariances[0] if shared else covariances)
        return structure.regularized(state, self.reg_covar)

    def _intensity(self, k, covariance, n_samples):
        """The shrinkage intensity of class ``k`` (or the shared covariance) from the data."""
        if self.shrinkage == "oas":
            return oas_shrinkage(covariance, n_samples)
        if n_samples == 0:  # a class not seen yet
            return 0.0
        fourth = self._gathered_fourth()
        centred = centred_fourth_moment(
            FourthMoments(fourth.m3[k], fourth.m4[k]), self._state.means[k], covariance
        )
        return ledoit_wolf_shrinkage(covariance, n_samples, centred)

    @property
    def priors_(self):
        """ndarray of shape (n_classes,): the class priors used."""
        check_fitted(self)
        if self.priors is not None:
            priors = np.asarray(self.priors, dtype=float)
            if priors.shape != self.classes_.shape or np.any(priors < 0):
                raise ValueError(f"priors must be {len(self.classes_)} non-negative numbers.")
            return priors / priors.sum()
        weights = self._state.weights
        return weights / weights.sum()

    @property
    def means_(self):
        """ndarray of shape (n_classes, n_features): the class means."""
        return self._read()[0].locations

    @property
    def covariances_(self):
        """ndarray: the per-class covariances (``covariance='per-class'``)."""
        if self.covariance == "shared":
            raise AttributeError("covariance='shared' has one covariance_, not covariances_.")
        return self._read()[0].covariances.copy()

    @property
    def covariance_(self):
        """ndarray of shape (n_features, n_features): the shared covariance."""
        if self.covariance != "shared":
            raise AttributeError("covariance='per-class' has covariances_, not covariance_.")
        return self._read()[0].covariances.copy()

    def _joint_log_likelihood(self, X):
        state, factor = self._read()
        X = self._check_X(X)
        with np.errstate(divide="ignore"):  # a class not seen yet: prior 0, log -inf
            log_priors = np.log(self.priors_)
        return self._structure().log_density(state, factor, X) + log_priors

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
        joint = self._joint_log_likelihood(X)
        return self.classes_[np.argmax(joint, axis=1)]

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
        state, factor = self._read()
        return self._structure().mahalanobis(state, factor, self._check_X(X))

    def ood_score(self, X, relative=False):
        """How much each row looks like a class: minus its smallest class Mahalanobis distance.

        The Mahalanobis out-of-distribution score (Lee et al., 2018): low for
        rows far from every class, with ``covariance='shared'`` as there.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        relative : bool, default=False
            The relative Mahalanobis score (Ren et al., 2021): each distance
            minus the row's distance to one Gaussian of all the data seen
            (the classes' mixture moments: the mean of the means, the
            within-class covariance plus the spread of the means), which
            discounts directions where every class, and the background,
            varies.

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
        state, _ = self._read()
        weights = state.weights / state.weights.sum()
        means = state.locations
        centre = weights @ means
        spread = (means - centre) * np.sqrt(weights)[:, None]
        within = self._structure().to_full(state)
        covariance = np.tensordot(weights, within, axes=1) + spread.T @ spread
        full = STRUCTURES["full"]
        background, factor = full.regularized(
            full.from_full(centre[None], covariance[None]), self.reg_covar
        )
        return full.mahalanobis(background, factor, self._check_X(X))[:, 0]
