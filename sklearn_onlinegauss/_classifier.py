"""OnlineGaussianClassifier: one Gaussian per class, the face whose row weights are labels."""

import numpy as np
from sklearn.base import ClassifierMixin

from . import _classes as per_class
from ._base import StreamingEstimator
from ._compat import StrOptions
from ._density import DENSITY_CONSTRAINTS, check_target
from ._merge import merged_like
from ._streaming import Carry, cached_read, call_lock, check_fitted
from ._structures import SHARED, STRUCTURES

__all__ = ["OnlineGaussianClassifier"]

_OWN_CONSTRAINTS = {
    "covariance": [StrOptions({"per-class", "shared"})],
    "learning_rate": [StrOptions({"optimal", "constant", "invscaling"})],  # no 'adaptive'
    "priors": ["array-like", None],
}


class OnlineGaussianClassifier(per_class.PosteriorReads, ClassifierMixin, StreamingEstimator):
    """One Gaussian per class, streamed with ``partial_fit(X, y, classes)``.

    Each row takes the natural step of its class's Gaussian (:ref:`theory-mixtures`). With
    the default ``'optimal'`` schedule the estimate is exact whatever the chunking: the
    model of :class:`~sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis`
    (``reg_param=0``), of :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`
    with ``covariance='shared'``, of :class:`~sklearn.naive_bayes.GaussianNB` with
    ``covariance_type='diag'``. A class with no rows yet has no Gaussian, and a row too far
    for float64 to score still gets finite probabilities: the user guide's "One Gaussian per
    class" says what each read then returns.

    Parameters
    ----------
    covariance : {'per-class', 'shared'}, default='per-class'
        One covariance per class, or the pooled within-class one (``'full'`` only).
    covariance_type : {'full', 'diag', 'spherical'}, default='full'
        Structure of the per-class covariances.
    learning_rate : {'optimal', 'constant', 'invscaling'}, default='optimal'
    eta0 : float, default=0.01
    power_t : float, default=0.6
        The schedule of the stream, as in :class:`OnlineGaussian`.
    priors : array-like of shape (n_classes,), default=None
        Class priors, finite, non-negative, not all zero (renormalized, with a warning, if
        they do not sum to 1); None: the class frequencies.
    reg_covar : float, default=1e-6
        What a covariance gets where its data do not determine it.
    shrinkage : {'ledoit-wolf', 'oas'} or float in [0, 1], default=None
        Of each covariance toward `shrinkage_target`: an intensity, or LedoitWolf's /
        OAS's on each class's rows (user guide).
    shrinkage_target : {'spherical', 'diag'}, default='spherical'
        ``mu I`` (``mu`` the mean variance), or the diagonal of the estimate (each
        variance kept, the correlations shrunk; not with ``'oas'``). ``mu I`` hurts
        when the variances differ, as raw features' do (:ref:`shrinkage-target`).
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
        Shaped as in GaussianMixture (``covariance='per-class'``).
    covariance_ : ndarray of shape (n_features, n_features)
        The shared covariance (``covariance='shared'``).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_samples_seen_ : int
        Rows of positive weight seen, each once.
    t_ : float
        Total weight processed: the schedules' ``t``.
    n_iter_ : int
        Calls that learned: ``fit`` counts one, each ``partial_fit`` one more.

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

    _parameter_constraints = {  # the density's, but for the classifier's own three
        name: _OWN_CONSTRAINTS.get(name) or DENSITY_CONSTRAINTS[name]
        for name in (
            *("covariance", "covariance_type", "learning_rate", "eta0", "power_t"),
            *("priors", "reg_covar", "shrinkage", "shrinkage_target", "batch_size"),
        )
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
        shrinkage_target="spherical",
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
        self.shrinkage_target = shrinkage_target
        self.batch_size = batch_size

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
        per_class.check_class_settings(
            self.covariance, self.covariance_type, self.shrinkage, self.learning_rate
        )
        check_target(self.shrinkage, self.shrinkage_target)
        super()._check_settings()

    def _structure(self):
        return SHARED if self.covariance == "shared" else STRUCTURES[self.covariance_type]

    def _one_pass_is_exact(self):
        return True  # fit is one pass of the stream in its order

    def _check_targets(self, X, y, first, fit=False, classes=None, check_priors=False):
        known = None if first else self.classes_
        labels = per_class.class_labels(X, y, known, fit, classes)
        if (fit or check_priors) and self.priors is not None:  # a call that receives them
            per_class.checked_priors(self.priors, len(labels.classes), warn=True)
        return labels

    def _start(self, X, labels, rng):
        state = per_class.ClassState.empty(
            self._structure(), labels.classes, X.shape[1], self.shrinkage
        )
        return Carry(state, None, 0.0, 0, 0)

    def _moments(self, state):
        return state.gaussians

    def _step(self, rate, labels):
        return per_class.class_step(self._structure(), rate, labels)

    def _intensities(self, carry):
        if not isinstance(self.shrinkage, str):
            return super()._intensities(carry)
        shared = self.covariance == "shared"
        target = self.shrinkage_target
        return per_class.class_intensities(self.shrinkage, carry.state, carry.t, shared, target)

    def _merge_problem(self, other):
        return None if np.array_equal(self.classes_, other.classes_) else "has other classes"

    @classmethod
    def _merged(cls, parts):
        """Each class pooled exactly, each part weighted by the weight it has seen."""
        state, total = per_class.merge_class_states(parts[0]._structure(), parts)
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
        return per_class.priors_of(self.priors, self._state.gaussians.weights)

    def _seen(self):
        """Which classes have rows, and so a Gaussian."""
        check_fitted(self)
        return self._state.counts > 0

    def _read(self, carry):
        """The Gaussians of the classes seen, shrunk and regularized: no made-up one."""
        intensities = self._intensities(carry)
        return per_class.seen_estimate(
            self._structure(), carry.state, intensities, self.reg_covar, self.shrinkage_target
        )

    @property
    def means_(self):
        """ndarray of shape (n_classes, n_features): the class means (zeros: not seen)."""
        return per_class.of_every_class(self._fitted()[0].locations, self._seen())

    @property
    def covariances_(self):
        """ndarray: the per-class covariances (``covariance='per-class'``; zeros: not seen)."""
        if self.covariance == "shared":
            raise AttributeError("covariance='shared' has one covariance_, not covariances_.")
        return per_class.of_every_class(self._fitted()[0].covariances, self._seen())

    @property
    def covariance_(self):
        """ndarray of shape (n_features, n_features): the shared covariance."""
        if self.covariance != "shared":
            raise AttributeError("covariance='per-class' has covariances_, not covariance_.")
        return self._fitted()[0].covariances.copy()

    def _checked_rows(self, X):
        """``validate_data``'s ``X``, with one warning per call if a class has no rows."""
        per_class.warn_unseen(type(self).__name__, self.classes_, self._seen())
        return self._check_X(X)

    def _quadratic(self):
        """The classes' :class:`~._classes.QuadraticForm`: their distances and log-densities."""
        return per_class.QuadraticForm.of(self._structure(), self._fitted(), self._seen())

    def _linear(self):
        """LDA's :class:`~._classes.LinearForm` of a shared covariance."""
        return per_class.LinearForm.of(self._structure(), self._fitted(), self._seen())

    def _joint_log_likelihood(self, X):
        """Log prior plus log-density of each class, up to a constant per row (user guide)."""
        X, seen = self._checked_rows(X), self._seen()
        log_priors = per_class.log_priors_of(self.priors_, seen, self.classes_)
        if self.covariance == "shared":  # LDA's linear form: exact far from the classes
            form = cached_read(self, (self._state,), self._linear, name="linear")
        else:
            form = self._quadratic()
        return per_class.finite_joint(lambda rows: form(rows) + log_priors, X, form.centre)

    def mahalanobis(self, X):
        """Squared Mahalanobis distances to every class (inf: not seen), (n_samples, n_classes)."""
        X = self._checked_rows(X)
        return self._quadratic().distances(X)

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
        X, form = self._checked_rows(X), self._quadratic()
        if not relative:
            return -form.distances(X).min(axis=1)
        pooled = per_class.background(form.structure, form.state, self.reg_covar)
        return per_class.relative_ood(pooled, form.distances, X)
