"""OnlineEllipticEnvelope: a streamed density and a threshold learned with it."""

import copy
import math
from numbers import Real

import numpy as np
from scipy.special import fdtrc
from scipy.stats import chi2
from sklearn.base import OutlierMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import HasMethods

from ._base import StreamingEstimator
from ._compat import Interval, StrOptions, _fit_context
from ._estimator import OnlineGaussian
from ._merge import merge
from ._quantiles import DistanceHistogram, pool_distances, upper_quantile, upper_tail
from ._streaming import cached_read, check_fitted, read_of_rows

__all__ = ["OnlineEllipticEnvelope"]


class OnlineEllipticEnvelope(OutlierMixin, StreamingEstimator):
    """Outlier detection on a stream: an online Gaussian and a threshold learned with it.

    :class:`~sklearn.covariance.EllipticEnvelope`'s detector, streamed. Rows
    are scored by minus their squared Mahalanobis distance under the density
    learned so far (`estimator`, an :class:`OnlineGaussian`), and the
    threshold ``offset_`` is the ``contamination`` quantile of the scores of
    the rows seen: each chunk's rows are scored by the density right after
    they update it, and their distances join a histogram (a fixed logarithmic
    grid, constant memory) that forgets at the density's own rate. ``fit(X)``
    scores every row of ``X`` under the final density, as EllipticEnvelope
    does.

    Parameters
    ----------
    estimator : OnlineGaussian, default=None
        The density's settings (None: ``OnlineGaussian()``); set them as
        ``set_params(estimator__learning_rate=...)``. The fitted density is
        `estimator_`.
    contamination : float in (0, 0.5], default=0.1
        The fraction of the stream to flag as outliers.
    threshold : {'quantile', 'chi2'}, default='quantile'
        ``'quantile'``: the ``contamination`` quantile of the stream's own
        scores. ``'chi2'``: the chi-squared quantile with ``n_features``
        degrees of freedom, right only for Gaussian rows.
    learn_outliers : bool, default=True
        Whether flagged rows are learned. With False, ``partial_fit`` learns
        whole chunks until the density rests on ``n_features + 1`` rows of
        effective weight, then judges each chunk first and keeps the rows it
        flags out of the density's update (they count toward the threshold,
        not as learned rows): the density is that of the rows inside the
        threshold, narrower than the inliers', and outliers among the first
        rows stay in it (measured in the user guide). ``fit`` learns all rows.

    Attributes
    ----------
    estimator_ : OnlineGaussian
        The fitted density.
    offset_ : float
        The threshold on ``score_samples``: ``decision_function`` is
        ``score_samples - offset_``, negative for outliers.
    location_, covariance_, precision_ : ndarray
        The density's estimates.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_samples_seen_ : int
    t_ : float

    See Also
    --------
    sklearn.covariance.EllipticEnvelope

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
        "estimator": [HasMethods(["partial_fit", "mahalanobis"]), None],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "threshold": [StrOptions({"quantile", "chi2"})],
        "learn_outliers": ["boolean"],
    }
    _fitted_names = ("estimator_", "_histogram", "_histogram_weight", "_fitted_offset")

    def __init__(
        self, estimator=None, *, contamination=0.1, threshold="quantile", learn_outliers=True
    ):
        self.estimator = estimator
        self.contamination = contamination
        self.threshold = threshold
        self.learn_outliers = learn_outliers

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_histogram")

    def _check_settings(self):
        """The density's settings are checked by the density."""

    def _check_loaded(self):
        self.estimator_._check_loaded()

    def _template(self):
        return _DEFAULT_DENSITY if self.estimator is None else self.estimator

    def _param_values(self):
        """The detector's own settings and its density's: a change of either is seen."""
        return super()._param_values(), self._template()._param_values()

    def _params_unchanged(self):
        return self.__sklearn_is_fitted__() and self._param_values() == self._validated_params

    def _density(self):
        """A density with the current settings: the fitted one continued, or a new one."""
        if not self.__sklearn_is_fitted__():
            return clone(self._template())
        self._check_density_structure()
        density = _with_settings(self.estimator_, self._template())
        # The call's updates go to a copy: estimator_ stays as it is if the call fails.
        return copy.copy(density) if density is self.estimator_ else density

    def _batch_work(self, n_samples, n_features):
        return self._template()._batch_work(n_samples, n_features)

    # fit and partial_fit are the base's; these hooks run them on the density.
    # The density's parameters are validated by its own calls (nested validation).

    @_fit_context(prefer_skip_nested_validation=False)
    def _fit(self, X, y, sample_weight):
        return self._fit_threshold(X, sample_weight, fit=True)

    @_fit_context(prefer_skip_nested_validation=False)
    def _validated_partial_fit(self, X, y, sample_weight):
        return self._update(X, y, sample_weight, self._param_values())

    def _update(self, X, y, sample_weight, params):
        return self._fit_threshold(X, sample_weight, fit=False)

    def _fit_threshold(self, X, sample_weight, fit):
        """The density's update, then the threshold's; assigned at the end, all at once."""
        density = clone(self._template()) if fit else self._density()
        learned = sample_weight
        if not fit and self.__sklearn_is_fitted__() and not self.learn_outliers:
            learned = self._inlier_weights(density, X, sample_weight)
        (density.fit if fit else density.partial_fit)(X, sample_weight=learned)
        if not density.__sklearn_is_fitted__():  # a first call of zero weight
            return self
        distances = density.mahalanobis(X)  # X as given: its feature names are checked
        X, w = density._validate_input(X, sample_weight, reset=False)
        if fit or not self.__sklearn_is_fitted__():
            histogram, weight = DistanceHistogram.empty(), 0.0
        else:
            histogram, weight = self._histogram, self._histogram_weight
        weights, retain = density._rate().pooling(weight, w, len(X))
        histogram = pool_distances(histogram, distances, X.shape[1], weights, retain)
        self.estimator_, self._histogram = density, histogram
        self._histogram_weight = weight + (len(X) if w is None else float(w.sum()))
        # After fit, the threshold of all its rows under the final density, exactly
        # as EllipticEnvelope's, at the contamination it was computed for.
        offset = -_upper_percentile(distances, w, self.contamination) if fit else None
        self._fitted_offset = (self.contamination, offset) if fit else None
        # fit's rows, for dist_ and support_: a later partial_fit changes the density.
        support = np.ones(len(X), bool) if w is None else w > 0
        self._fit_rows = (distances, support) if fit else None
        self._validated_params = self._param_values()
        return self

    def _inlier_weights(self, density, X, sample_weight):
        """The call's weights with ``learn_outliers=False``: zero for the rows it flags.

        Nothing is judged before the density has learned ``n_features + 1``
        rows of effective weight. A new row's squared distance ``D`` to a
        Gaussian of ``n`` rows is Hotelling's, ``D (n - d) / ((n + 1) d) ~
        F(d, n - d)``: its tail is compared with the threshold's.
        """
        X, w = density._validate_input(X, sample_weight, reset=False)
        d = X.shape[1]
        # The effective rows learned: the histogram's, less the share of weight kept out.
        n = self._histogram.effective_rows * density.t_ / self._histogram_weight
        if n < d + 1:  # the density is not determined yet: every row is learned
            return w
        tail = fdtrc(d, n - d, density.mahalanobis(X) * (n - d) / ((n + 1) * d))
        bound, scored = self.contamination, self._histogram.effective_rows
        if self.threshold == "quantile" and scored > d + 1:  # the threshold's in-sample tail
            bound = float(upper_tail(np.array(-self.offset_), d, scored))
        return (tail >= bound) * (1.0 if w is None else w)

    @classmethod
    def _merged(cls, parts):
        """The densities merged, the histograms pooled by the weight each has scored."""
        first = parts[0]
        merged = clone(first)  # settings copied: the parts are left untouched
        total = sum(p._histogram_weight for p in parts)
        shares = [p._histogram_weight / total for p in parts]
        mass = sum(s * p._histogram.mass for s, p in zip(shares, parts, strict=True))
        squares = sum(s**2 * p._histogram.squares for s, p in zip(shares, parts, strict=True))
        merged.estimator_ = merge([p._fitted_density() for p in parts])  # settings of now
        merged._histogram, merged._histogram_weight = DistanceHistogram(mass, squares), total
        merged._fitted_offset = None
        merged._validated_params = merged._param_values()
        return merged

    # -- reads ----------------------------------------------------------------------

    def __getattr__(self, name):
        # The density's fitted attributes, read through the detector.
        if name in _DENSITY_READS and "estimator_" in self.__dict__:
            return getattr(self._fitted_density(), name)
        if name in ("dist_", "support_") and "_histogram" in self.__dict__:
            raise AttributeError(
                f"{name} is defined after fit(X) only, over the rows of X: a detector "
                "learned by partial_fit (or changed by it since fit) keeps no rows."
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _fitted_density(self):
        """``estimator_`` with the density settings of now (``set_params(estimator__...)``)."""
        self._check_density_structure()
        return _with_settings(self.__dict__["estimator_"], self._template())

    def _check_density_structure(self):
        """The base's rule for the density's structural settings, named as they are set."""
        settings = self._template()._structure_values()
        self.__dict__["estimator_"]._check_structure(settings, self, "estimator__")

    @property
    def offset_(self):
        """float: the threshold on ``score_samples`` (minus a squared distance)."""
        check_fitted(self, "_histogram")
        if self.threshold == "chi2":
            return -float(chi2.ppf(1.0 - self.contamination, self.n_features_in_))
        if self._fitted_offset is not None and self._fitted_offset[0] == self.contamination:
            return self._fitted_offset[1]
        return cached_read(  # read once per histogram, not once per predict
            self,
            (self._histogram,),
            lambda: (
                -float(upper_quantile(self._histogram, self.contamination, self.n_features_in_))
            ),
            name="offset",
        )

    def _rows_of_fit(self):
        """``(distances, support)`` of ``fit``'s rows, or None (streamed, loaded, merged)."""
        check_fitted(self, "_histogram")
        rows = self.__dict__.get("_fit_rows")
        if rows is None:
            return None
        self._check_density_structure()
        return rows

    @property
    def dist_(self):
        """ndarray of shape (n_samples,): squared Mahalanobis distances of ``fit``'s rows.

        As in :class:`~sklearn.covariance.EllipticEnvelope`: those of the rows
        of ``X`` in the last ``fit(X)``, under the fitted density, from which
        ``offset_`` is their ``contamination`` quantile. Defined after ``fit``
        only: a stream keeps no rows, so a ``partial_fit`` (which changes the
        density) removes it; neither is it saved by ``save_model`` nor kept by
        ``merge``.
        """
        rows = self._rows_of_fit()
        if rows is None:
            raise AttributeError(
                "dist_ is defined after fit(X) only, over the rows of X: a detector "
                "learned by partial_fit (or changed by it since fit) keeps no rows."
            )
        return rows[0].copy()

    @property
    def support_(self):
        """ndarray of shape (n_samples,) of bool: ``fit``'s rows the density was fitted on.

        EllipticEnvelope's meaning, the rows used to compute ``location_`` and
        ``covariance_``: here every row of positive weight (the density is not
        reweighted, and ``fit`` learns every row). After ``fit`` only, as `dist_`.
        """
        rows = self._rows_of_fit()
        if rows is None:
            raise AttributeError(
                "support_ is defined after fit(X) only, over the rows of X: a detector "
                "learned by partial_fit (or changed by it since fit) keeps no rows."
            )
        return rows[1].copy()

    @read_of_rows
    def mahalanobis(self, X):
        """Squared Mahalanobis distance of each row under the density, shape (n_samples,)."""
        check_fitted(self, "_histogram")
        return self._fitted_density().mahalanobis(X)

    @read_of_rows
    def score_samples(self, X):
        """Minus the squared Mahalanobis distance of each row (higher: more normal)."""
        distances = self.mahalanobis(X)
        return np.negative(distances, out=distances)

    @read_of_rows
    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, shape (n_samples,)."""
        distances = self.mahalanobis(X)  # -d - offset, in one pass: -offset - d
        return np.subtract(-self.offset_, distances, out=distances)

    @read_of_rows
    def predict(self, X):
        """+1 for inliers, -1 for outliers, shape (n_samples,)."""
        return np.where(self.decision_function(X) >= 0, 1, -1)

    @read_of_rows
    def score(self, X, y, sample_weight=None):
        """Accuracy of ``predict(X)`` against ``y`` (+1 inlier, -1 outlier)."""
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)


_DEFAULT_DENSITY = OnlineGaussian()


def _with_settings(density, template):
    """``density``, or a copy of it with ``template``'s settings where they differ."""
    if density._param_values() == template._param_values():
        return density
    density = copy.copy(density)  # its arrays are replaced by updates, not changed
    names = type(template)._parameter_constraints
    return density.set_params(**{name: getattr(template, name) for name in names})


_DENSITY_READS = frozenset(
    "location_ covariance_ precision_ shrinkage_ n_features_in_ feature_names_in_ "
    "n_samples_seen_ t_ n_iter_".split()
)


def _upper_percentile(distances, weights, fraction):
    """``np.percentile`` of the distances at ``1 - fraction``, the weights relative.

    Linear interpolation between order statistics, on the rows repeated as
    their weights say once the smallest positive weight is scaled to one row:
    any positive multiple of the weights gives the same threshold, unit
    weights ``np.percentile``'s, and integer weights with a one among them
    that of the rows repeated.
    """
    q = 1.0 - fraction
    if weights is None:
        return float(np.percentile(distances, 100.0 * q))
    kept = weights > 0
    order = np.argsort(distances[kept])
    rows = weights[kept][order] / weights[kept].min()  # relative: the smallest is one row
    whole = np.round(rows)  # a multiple of it to rounding is that multiple
    ends = np.cumsum(np.where(np.abs(rows - whole) <= 1e-12 * rows, whole, rows))
    values, position = distances[kept][order], q * (ends[-1] - 1.0)  # from 0
    low = math.floor(position)
    i = min(np.searchsorted(ends, low, side="right"), len(values) - 1)
    j = min(np.searchsorted(ends, low + 1, side="right"), len(values) - 1)
    return float(values[i] + (position - low) * (values[j] - values[i]))
