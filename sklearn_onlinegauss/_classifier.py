"""OnlineGaussianClassifier: one Gaussian per class, the face whose row weights are labels."""

from numbers import Integral

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._available_if import available_if
from sklearn.utils._tags import TransformerTags
from sklearn.utils.validation import _generate_get_feature_names_out

from . import _classes as per_class
from ._base import StreamingEstimator
from ._compat import Interval, StrOptions
from ._density import DENSITY_CONSTRAINTS, check_target
from ._merge import merged_like
from ._streaming import Carry, cached_read, call_lock, check_fitted, read_of_rows
from ._structures import SHARED, STRUCTURES

__all__ = ["OnlineGaussianClassifier"]

_OWN_CONSTRAINTS = {
    "covariance": [StrOptions({"per-class", "shared"})],
    "learning_rate": [StrOptions({"optimal", "constant", "invscaling"})],  # no 'adaptive'
    "priors": ["array-like", None],
    "n_components": [Interval(Integral, 1, None, closed="left"), None],
}

_NO_LINEAR_FORM = (
    "covariance='per-class' is quadratic discriminant analysis, which has no linear form: "
    "coef_, intercept_, scalings_, explained_variance_ratio_ and transform are LDA's, of "
    "covariance='shared'."
)


def _has_linear_form(clf):
    """``available_if``'s check: the shared covariance's reads exist, the per-class ones not."""
    if clf.covariance != "shared":
        raise AttributeError(_NO_LINEAR_FORM)
    return True


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
    n_components : int, default=None
        Discriminants :meth:`transform` keeps (``covariance='shared'``), at most
        ``min(n_classes - 1, n_features)``; None: that many. As LDA's, it changes
        only ``transform`` and ``explained_variance_ratio_``, so it can be set after
        fitting.
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
    coef_ : ndarray of shape (n_classes, n_features), or (1, n_features) for two classes
        LDA's weights (``covariance='shared'``): each class's precision times its mean
        (zeros: not seen); for two classes one row, the second's less the first's.
    intercept_ : ndarray of shape (n_classes,), or (1,) for two classes
        LDA's intercepts: ``-mean' precision mean / 2 + log prior`` (-inf: a class not
        seen or of prior 0); for two classes the second's less the first's.
    scalings_ : ndarray of shape (n_features, min(n_classes - 1, n_features))
        The discriminants :meth:`transform` projects on, as columns: the first columns of
        LDA(solver='eigen')'s ``scalings_``, up to the sign of each (see Notes).
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Each discriminant's share of the between-class variance (all 0 while the class
        means coincide).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_samples_seen_ : int
        Rows of positive weight seen, each once.
    t_ : float
        Total weight processed: the schedules' ``t``.
    n_iter_ : int
        Calls that learned: ``fit`` counts one, each ``partial_fit`` one more.

    Notes
    -----
    With ``covariance='shared'`` the model is LDA's, and so are its linear reads:
    ``coef_`` and ``intercept_`` are those of
    :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis` with
    ``solver='lsqr'`` or ``'eigen'`` on the same rows (its ``'svd'`` solver centres at
    ``xbar_``, so its ``coef_`` differ by a row common to the classes and its
    ``decision_function`` by a constant per row; with two classes they are equal).
    ``decision_function`` is ``X @ coef_.T + intercept_``, raveled for two classes.
    ``transform`` is ``X @ scalings_`` (the first ``n_components`` columns), as
    LDA(solver='eigen')'s: not centred (the 'svd' solver's subtracts
    ``xbar_ @ scalings_``). Each discriminant has unit variance within the classes,
    ``scalings_.T @ covariance_ @ scalings_`` the identity. A discriminant is defined up
    to its sign, which LDA leaves to LAPACK; here each column of ``scalings_`` has its
    largest entry in absolute value positive (the first, of ties), so the sign follows
    the data, not the library, and stays while ``partial_fit`` moves the estimate unless
    another feature comes to weigh most. With ``priors`` set, LDA weighs each class's
    covariance by its prior; here the shared covariance is the classes' rows pooled,
    whatever the priors, which enter ``intercept_`` only.

    With ``covariance='per-class'`` (QDA) there is no linear form: ``coef_``,
    ``intercept_``, ``scalings_``, ``explained_variance_ratio_``, ``transform``,
    ``fit_transform`` and ``get_feature_names_out`` raise AttributeError (``hasattr``
    is False), and ``decision_function`` is the log posterior up to a constant per row.

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
            *("priors", "n_components", "reg_covar", "shrinkage", "shrinkage_target"),
            "batch_size",
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
        n_components=None,
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
        self.n_components = n_components
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
        with call_lock(self), self._threads_for(X):  # the base's partial_fit, with classes
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
        self._n_components(len(labels.classes), X.shape[1])  # LDA's fit refuses too many
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

    # -- LDA's linear form and projection (covariance='shared') -----------------------

    def _n_components(self, n_classes, n_features):
        """The discriminants ``transform`` keeps; a ValueError if more than there are."""
        most = min(n_classes - 1, n_features)
        if self.n_components is None:
            return most
        if self.n_components > most:
            raise ValueError(
                f"n_components={self.n_components} is more than min(n_classes - 1, "
                f"n_features) = {most}, the discriminants of {n_classes} classes in "
                f"{n_features} features; set n_components <= {most} or None."
            )
        return self.n_components

    def _linear_read(self, name, compute):
        """A read of the shared covariance's linear form, cached with the state."""
        if self.covariance != "shared":
            raise AttributeError(_NO_LINEAR_FORM)
        check_fitted(self)
        return cached_read(self, (self._state, self._average), compute, name=name)

    def _lda_coefficients(self):
        """``(coef, intercept)`` of LDA's linear form, in LDA's shapes."""

        def compute():
            seen = self._seen()
            log_priors = per_class.log_priors_of(self.priors_, seen, self.classes_)
            return per_class.lda_coefficients(self._fitted(), seen, log_priors)

        return self._linear_read("lda coefficients", compute)

    def _discriminants(self):
        """The :class:`~._classes.Discriminants` of the shared covariance."""

        def compute():
            return per_class.Discriminants.of(self._fitted(), len(self.classes_))

        return self._linear_read("lda discriminants", compute)

    @property
    def coef_(self):
        """ndarray of shape (n_classes, n_features), or (1, n_features) for two classes:
        LDA's weights (``covariance='shared'``)."""
        return self._lda_coefficients()[0].copy()

    @property
    def intercept_(self):
        """ndarray of shape (n_classes,), or (1,) for two classes: LDA's intercepts
        (``covariance='shared'``)."""
        return self._lda_coefficients()[1].copy()

    @property
    def scalings_(self):
        """ndarray of shape (n_features, min(n_classes - 1, n_features)): the
        discriminants as columns, each of unit within-class variance
        (``covariance='shared'``)."""
        return self._discriminants().scalings.copy()

    @property
    def explained_variance_ratio_(self):
        """ndarray of shape (n_components,): each discriminant's share of the
        between-class variance (``covariance='shared'``)."""
        ratios = self._discriminants().ratios
        return ratios[: self._n_components(len(self.classes_), self.n_features_in_)].copy()

    @read_of_rows
    def decision_function(self, X):
        """LDA's linear decision function, or the log posterior up to a constant per row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            With ``covariance='shared'``, ``X @ coef_.T + intercept_`` (-inf for a
            class not seen; +-inf, never NaN, beyond float64); with ``'per-class'``,
            each class's log posterior up to a constant per row. For two classes, the
            second's less the first's: their log odds.
        """
        if self.covariance != "shared":
            return super().decision_function(X)
        X = self._checked_rows(X)
        coef, intercept = self._lda_coefficients()
        scores = per_class.linear_map(X, coef.T, intercept)
        return scores[:, 0] if len(self.classes_) == 2 else scores

    @available_if(_has_linear_form)
    @read_of_rows
    def transform(self, X):
        """Project the rows on LDA's discriminants (``covariance='shared'``).

        ``X @ scalings_[:, :n_components]``, as LinearDiscriminantAnalysis(solver='eigen')'s
        ``transform``: each discriminant up to its sign (the class's Notes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        X = self._checked_rows(X)
        scalings = self._discriminants().scalings
        kept = self._n_components(len(self.classes_), self.n_features_in_)
        return per_class.linear_map(X, scalings[:, :kept], 0.0)

    @available_if(_has_linear_form)
    def fit_transform(self, X, y, sample_weight=None):
        """Fit on ``X`` and ``y``, then project ``X`` (``covariance='shared'``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        return self.fit(X, y, sample_weight=sample_weight).transform(X)

    @available_if(_has_linear_form)
    def get_feature_names_out(self, input_features=None):
        """Names of the discriminants: ``onlinegaussianclassifier0``, ... (as LDA's).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against ``feature_names_in_``; not used otherwise.

        Returns
        -------
        ndarray of str objects
        """
        check_fitted(self)
        kept = self._n_components(len(self.classes_), self.n_features_in_)
        return _generate_get_feature_names_out(self, kept, input_features=input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.covariance == "shared":  # a transformer too, as LDA
            tags.transformer_tags = TransformerTags()
        return tags

    def _joint_log_likelihood(self, X):
        """Log prior plus log-density of each class, up to a constant per row (user guide)."""
        X, seen = self._checked_rows(X), self._seen()
        log_priors = per_class.log_priors_of(self.priors_, seen, self.classes_)
        if self.covariance == "shared":  # LDA's linear form: exact far from the classes
            form = cached_read(self, (self._state,), self._linear, name="linear")
        else:
            form = self._quadratic()

        def joint_at(rows):  # the priors added in place: no second array of the rows' size
            joint = form(rows)
            joint += log_priors
            return joint

        return per_class.finite_joint(joint_at, X, form.centre)

    @read_of_rows
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
