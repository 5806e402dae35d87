"""OnlineEllipticEnvelope: OnlineGaussian with a threshold learned from the stream."""

import math
from numbers import Real

import numpy as np
from scipy.stats import chi2
from sklearn.base import OutlierMixin
from sklearn.metrics import accuracy_score

from ._compat import Interval, StrOptions
from ._estimator import OnlineGaussian
from ._quantiles import DistanceHistogram, pool_distances, upper_quantile
from ._schedules import Rate
from ._streaming import cached_read, call_lock, check_fitted

__all__ = ["OnlineEllipticEnvelope"]


class OnlineEllipticEnvelope(OutlierMixin, OnlineGaussian):
    """Outlier detection on a stream: an online Gaussian and a threshold learned with it.

    :class:`~sklearn.covariance.EllipticEnvelope`'s detector, streamed. Rows
    are scored by minus their squared Mahalanobis distance under the
    Gaussian learned so far (:class:`OnlineGaussian`, with all its
    parameters), and the threshold ``offset_`` is the ``contamination``
    quantile of the scores of the rows seen: each chunk's rows are scored
    by the Gaussian right after they update it, and their distances join a
    histogram (a fixed logarithmic grid, 0.45% wide bins, constant memory)
    that forgets at the Gaussian's own rate. So about ``contamination`` of
    the stream seen so far is flagged, whatever the data's distribution,
    and under ``learning_rate='constant'`` the threshold follows drift with
    the Gaussian. ``fit(X)`` scores every row of ``X`` under the final
    Gaussian, as EllipticEnvelope does.

    Parameters
    ----------
    contamination : float in (0, 0.5], default=0.1
        The fraction of the stream to flag as outliers.

    threshold : {'quantile', 'chi2'}, default='quantile'
        ``'quantile'``: the ``contamination`` quantile of the stream's own
        scores. ``'chi2'``: the ``1 - contamination`` quantile of the
        chi-squared distribution with ``n_features`` degrees of freedom,
        right only when the rows are Gaussian (on breast_cancer's benign
        rows, which are not, it flags 12% of them at 2.5%).

    learn_outliers : bool, default=True
        Whether rows the detector flags are learned. With False,
        ``partial_fit`` first scores each chunk with the detector as it is
        ("score, then learn") and keeps the rows it flags out of the
        Gaussian's update, so that outliers do not drag the estimate; they
        still count toward the threshold. The price is truncation: the
        Gaussian is that of the rows inside the threshold, narrower than
        the inliers' own (measured with 2-D Gaussian inliers, 5% gross
        outliers and ``contamination=0.1``: 0.8 times their covariance,
        and 12% of the stream flagged instead of 10%). ``fit`` and a first
        call learn every row.

    solver, parametrization, preconditioner, covariance_type, learning_rate, eta0, power_t, \
average, batch_size, max_iter, tol, n_iter_no_change, shuffle, random_state, warm_start, \
reg_covar, shrinkage, beta_1, beta_2, epsilon, verbose
        As in :class:`OnlineGaussian`.

    Attributes
    ----------
    offset_ : float
        The threshold on ``score_samples``: ``decision_function`` is
        ``score_samples - offset_``, negative for outliers.
    location_, covariance_, precision_ : ndarray
        The Gaussian's estimates, as in :class:`OnlineGaussian`.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_samples_seen_ : int
    t_ : float

    See Also
    --------
    sklearn.covariance.EllipticEnvelope
    OnlineGaussian

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_onlinegauss import OnlineEllipticEnvelope
    >>> rng = np.random.default_rng(0)
    >>> detector = OnlineEllipticEnvelope(contamination=0.05)
    >>> for _ in range(20):
    ...     detector = detector.partial_fit(rng.standard_t(5, size=(500, 3)))
    >>> flagged = detector.predict(rng.standard_t(5, size=(10_000, 3))) == -1
    >>> round(float(flagged.mean()), 2)
    0.05
    """

    _parameter_constraints = {
        **OnlineGaussian._parameter_constraints,
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "threshold": [StrOptions({"quantile", "chi2"})],
        "learn_outliers": ["boolean"],
    }

    def __init__(
        self,
        *,
        contamination=0.1,
        threshold="quantile",
        learn_outliers=True,
        solver="natural",
        parametrization="cholesky",
        preconditioner=None,
        covariance_type="full",
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.6,
        average=False,
        batch_size="auto",
        max_iter=1000,
        tol=1e-3,
        n_iter_no_change=5,
        shuffle=True,
        random_state=None,
        warm_start=False,
        reg_covar=1e-6,
        shrinkage=None,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        verbose=0,
    ):
        super().__init__(
            solver=solver,
            parametrization=parametrization,
            preconditioner=preconditioner,
            covariance_type=covariance_type,
            learning_rate=learning_rate,
            eta0=eta0,
            power_t=power_t,
            average=average,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            shuffle=shuffle,
            random_state=random_state,
            warm_start=warm_start,
            reg_covar=reg_covar,
            shrinkage=shrinkage,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            verbose=verbose,
        )
        self.contamination = contamination
        self.threshold = threshold
        self.learn_outliers = learn_outliers

    def fit(self, X, y=None, sample_weight=None):
        """Fit the Gaussian to ``X``, then the threshold to the scores of ``X`` under it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        with call_lock(self), self._kept_on_error(None):
            self._fit(X, sample_weight)
            self._histogram, self._histogram_weight = DistanceHistogram.empty(), 0.0
            distances, w = self._learn_threshold(X, sample_weight)
            # The threshold of all the rows under the final Gaussian, exactly
            # as EllipticEnvelope's; the histogram carries on from it.
            self._fitted_offset = -_upper_percentile(distances, w, self.contamination)
        return self

    def partial_fit(self, X, y=None, sample_weight=None):
        """Learn from one chunk of the stream: the Gaussian, then the threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        with call_lock(self), self._kept_on_error(None):
            fitted = hasattr(self, "_histogram")
            learned = sample_weight
            if fitted and not self.learn_outliers:  # score, then learn the inliers
                inliers = self._predict(X) == 1
                learned = inliers if sample_weight is None else inliers * np.asarray(sample_weight)
            if self._params_unchanged():
                self._update(X, learned, self._solver, self._validated_params)
            else:
                self._validated_partial_fit(X, learned, self._param_values())
            if not hasattr(self, "_state"):  # a first call of zero weight
                return self
            if not fitted:
                self._histogram, self._histogram_weight = DistanceHistogram.empty(), 0.0
            self._learn_threshold(X, sample_weight)
            self.__dict__.pop("_fitted_offset", None)
        return self

    def _learn_threshold(self, X, sample_weight):
        """Pool the rows' distances under the updated Gaussian into the histogram.

        Returns the distances and the sample weights (None: unit weights).
        """
        X, w = self._validate_input(X, sample_weight, reset=False)
        rate = Rate(self.learning_rate, self.eta0, self.power_t)
        weights, retain = rate.pooling(self._histogram_weight, w, len(X))
        distances = self._per_row("mahalanobis", X, checked=True)
        self._histogram = pool_distances(
            self._histogram, distances, self.n_features_in_, weights, retain
        )
        self._histogram_weight += len(X) if w is None else float(w.sum())
        return distances, w

    @property
    def offset_(self):
        """float: the threshold on ``score_samples`` (minus a squared distance)."""
        check_fitted(self, "_histogram")
        d = self.n_features_in_
        if self.threshold == "chi2":
            return -float(chi2.ppf(1.0 - self.contamination, d))
        if hasattr(self, "_fitted_offset"):
            return self._fitted_offset
        return cached_read(  # read once per histogram, not once per predict
            self,
            (self._histogram,),
            lambda: -float(upper_quantile(self._histogram, self.contamination, d)),
            name="offset",
        )

    def score_samples(self, X):
        """Minus the squared Mahalanobis distance of each row (higher: more normal).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return -self.mahalanobis(X)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._predict(X)

    def _predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def score(self, X, y, sample_weight=None):
        """Accuracy of ``predict(X)`` against ``y`` (+1 inlier, -1 outlier).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)


def _upper_percentile(distances, weights, fraction):
    """``np.percentile`` of the distances at ``1 - fraction``, a weight ``k`` as ``k`` rows.

    Linear interpolation between order statistics, on the rows repeated as
    their weights say (for real weights, the same rule on their extent).
    """
    q = 1.0 - fraction
    if weights is None:
        return float(np.percentile(distances, 100.0 * q))
    kept = weights > 0
    order = np.argsort(distances[kept])
    values, ends = distances[kept][order], np.cumsum(weights[kept][order])
    position = q * (ends[-1] - 1.0)  # in the repeated rows, from 0
    low = math.floor(position)
    i = min(np.searchsorted(ends, low, side="right"), len(values) - 1)
    j = min(np.searchsorted(ends, low + 1, side="right"), len(values) - 1)
    return float(values[i] + (position - low) * (values[j] - values[i]))
