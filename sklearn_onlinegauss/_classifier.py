"""OnlineGaussianClassifier: one Gaussian per class, the face whose row weights are labels."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._base import StreamingEstimator
from ._classes import (
    ClassState,
    LinearForm,
    checked_priors,
    class_intensities,
    class_step,
    finite_joint,
    labels_of,
    log_posteriors,
    merge_class_states,
    nearest_relative,
    sorted_classes,
)
from ._compat import Interval, InvalidParameterError, StrOptions
from ._merge import merged_like
from ._shrinkage import FourthMoments
from ._streaming import Carry, cached_read, call_lock, check_fitted
from ._structures import PER_COMPONENT, SHARED, STRUCTURES
from .exceptions import outside_stacklevel

__all__ = ["OnlineGaussianClassifier"]


class OnlineGaussianClassifier(ClassifierMixin, StreamingEstimator):
    """One Gaussian per class, streamed with ``partial_fit(X, y, classes)``.

    Each row takes the natural step of its class's Gaussian (:ref:`theory-mixtures`).
    With the default ``'optimal'`` schedule the estimate is exact whatever the
    chunking: the model of
    :class:`~sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis`
    (``reg_param=0``), of
    :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis` with
    ``covariance='shared'``, of :class:`~sklearn.naive_bayes.GaussianNB` with
    ``covariance_type='diag'``. A class with no rows yet has no Gaussian,
    and a row too far for float64 to score still gets finite probabilities:
    the user guide's "One Gaussian per class" says what each read then returns.

    Parameters
    ----------
    covariance : {'per-class', 'shared'}, default='per-class'
        One covariance per class, or the pooled within-class covariance
        (needs ``covariance_type='full'``).
    covariance_type : {'full', 'diag', 'spherical'}, default='full'
        Structure of the per-class covariances.
    learning_rate : {'optimal', 'constant', 'invscaling'}, default='optimal'
        Schedule of the stream, as in :class:`OnlineGaussian`.
    eta0 : float, default=0.01
        Rate of ``'constant'`` (below 1) and ``'invscaling'``.
    power_t : float, default=0.6
        Exponent of ``'invscaling'``.
    priors : array-like of shape (n_classes,), default=None
        Class priors, finite, non-negative, not all zero (renormalized, with a
        warning, if they do not sum to 1); None: the class frequencies.
    reg_covar : float, default=1e-6
        What a covariance gets where its data do not determine it.
    shrinkage : {'ledoit-wolf', 'oas'} or float in [0, 1], default=None
        Shrinkage of each covariance toward its mean variance: a fixed
        intensity, or LedoitWolf's / OAS's on each class's rows (these need
        ``covariance_type='full'`` and ``learning_rate='optimal'``;
        ``'ledoit-wolf'`` is per class only).
    batch_size : int or 'auto', default='auto'
        Rows per step; the estimate does not depend on it.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_count_ : ndarray of shape (n_classes,)
        Total sample weight seen of each class.
    priors_ : ndarray of shape (n_classes,)
    means_ : ndarray of shape (n_classes, n_features)
        Zeros for a class with no rows.
    covariances_ : ndarray
        Per-class covariances, shaped as in GaussianMixture, zeros for a
        class with no rows (``covariance='per-class'`` only).
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
            Relative weights: scaling them all changes no estimate.

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
            return self._validated_partial_fit(
                X, y, sample_weight, classes=classes, check_priors=True
            )

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

    def _check_targets(self, X, y, first, fit=False, classes=None, check_priors=False):
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
        labels = labels_of(sorted_classes(classes) if first and not fit else classes, y)
        if (fit or check_priors) and self.priors is not None:  # a call that receives them
            checked_priors(self.priors, len(labels.classes), warn=True)
        return labels

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
        """ndarray of shape (n_classes,): the class priors used (0 for a class not seen)."""
        check_fitted(self)
        if self.priors is not None:
            return checked_priors(self.priors, len(self.classes_))
        weights = self._state.gaussians.weights
        return weights / weights.sum()

    def _seen(self):
        """Which classes have rows, and so a Gaussian."""
        check_fitted(self)
        return self._state.counts > 0

    def _read(self, carry):
        """The Gaussians of the classes seen, shrunk and regularized: no made-up one."""
        seen, structure = carry.state.counts > 0, self._structure()
        state = structure.take(self._moments(carry.state), seen)
        intensities = np.asarray(self._intensities(carry))
        state = structure.shrink(state, intensities[seen] if intensities.ndim else intensities)
        return structure.regularized(state, self.reg_covar)

    def _of_every_class(self, values):
        """Values of the classes seen as rows of every class: zeros for one not seen."""
        seen = self._seen()
        out = np.zeros((len(seen), *values.shape[1:]))
        out[seen] = values
        return out

    @property
    def means_(self):
        """ndarray of shape (n_classes, n_features): the class means (zeros: not seen)."""
        return self._of_every_class(self._fitted()[0].locations)

    @property
    def covariances_(self):
        """ndarray: the per-class covariances (``covariance='per-class'``; zeros: not seen)."""
        if self.covariance == "shared":
            raise AttributeError("covariance='shared' has one covariance_, not covariances_.")
        return self._of_every_class(self._fitted()[0].covariances)

    @property
    def covariance_(self):
        """ndarray of shape (n_features, n_features): the shared covariance."""
        if self.covariance != "shared":
            raise AttributeError("covariance='per-class' has covariances_, not covariance_.")
        return self._fitted()[0].covariances.copy()

    def _checked_rows(self, X):
        """``validate_data``'s ``X``, with one warning per call if a class has no rows."""
        seen = self._seen()
        if not seen.all():
            warnings.warn(
                f"{type(self).__name__} has seen no rows of classes "
                f"{self.classes_[~seen].tolist()}: "
                "they have no Gaussian, so their probability is 0, their distance inf, "
                "and they are not predicted.",
                UserWarning,
                stacklevel=outside_stacklevel(),
            )
        return self._check_X(X)

    def _distances_at(self, X):
        """Squared distances of checked rows to every class: inf to a class not seen."""
        state, factor, _ = self._fitted()
        distances = np.full((len(X), len(self.classes_)), np.inf)
        distances[:, self._seen()] = self._structure().mahalanobis(state, factor, X)
        return distances

    def _joint_log_likelihood(self, X):
        """Log prior plus log-density of each class, up to a constant per row (user guide)."""
        X, seen = self._checked_rows(X), self._seen()
        log_priors = np.full(len(seen), -np.inf)
        with np.errstate(divide="ignore"):
            log_priors[seen] = np.log(self.priors_[seen])
        if np.isneginf(log_priors).all():
            raise ValueError(
                f"The priors give no mass to any class seen ({self.classes_[seen]!r}): "
                "no class can be predicted. Set priors that give a class seen mass."
            )
        state, _, normalizers = self._fitted()
        if self.covariance == "shared":  # LDA's linear form: exact far from the classes
            linear = cached_read(self, (self._state,), self._linear, name="linear")
            return finite_joint(lambda rows: linear(rows) + log_priors, X, linear.centre)
        terms = np.zeros(len(seen))
        terms[seen] = normalizers
        joint_at = lambda rows: -0.5 * (self._distances_at(rows) + terms) + log_priors  # noqa: E731
        return finite_joint(joint_at, X, state.locations.mean(axis=0))

    def _linear(self):
        state, factor, _ = self._fitted()
        precision = self._structure().precisions(factor, self.n_features_in_)[0]
        return LinearForm.of(state.locations, precision, self._seen())

    def predict_log_proba(self, X):
        """Log of the class posterior probabilities, shape (n_samples, n_classes)."""
        return log_posteriors(self._joint_log_likelihood(X))

    def predict_proba(self, X):
        """Class posterior probabilities, shape (n_samples, n_classes)."""
        return np.exp(self.predict_log_proba(X))

    def decision_function(self, X):
        """Log posterior of each class up to a constant; for two classes, their difference."""
        joint = self._joint_log_likelihood(X)
        return joint[:, 1] - joint[:, 0] if joint.shape[1] == 2 else joint

    def predict(self, X):
        """The most probable class of each row (never a class not seen)."""
        return self.classes_[np.argmax(self._joint_log_likelihood(X), axis=1)]

    def mahalanobis(self, X):
        """Squared Mahalanobis distances to every class (inf: not seen), (n_samples, n_classes)."""
        return self._distances_at(self._checked_rows(X))

    def ood_score(self, X, relative=False):
        """Minus each row's smallest class Mahalanobis distance (low: out of distribution).

        The Mahalanobis OOD score (Lee et al., 2018); ``relative=True`` subtracts
        the row's distance to one Gaussian of all the data seen (Ren et al., 2021).
        Classes not seen are left out; -inf where the distances overflow.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        relative : bool, default=False

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._checked_rows(X)
        if not relative:
            return -self._distances_at(X).min(axis=1)
        full, background, factor = self._background()

        def closeness(rows):  # minus each relative distance
            base = full.mahalanobis(background, factor, rows)
            with np.errstate(invalid="ignore"):  # inf - inf: NaN, scored nearer
                return base - self._distances_at(rows)

        return nearest_relative(closeness, X, background.locations[0])

    def _background(self):
        """``(structure, Gaussian, factor)`` of all the data: the classes' pooled moments."""
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
        return full, background, factor
