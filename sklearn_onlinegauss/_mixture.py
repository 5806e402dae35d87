"""OnlineGaussianMixture: online EM, the face whose row weights are responsibilities."""

import copy
import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import DensityMixin
from sklearn.utils import check_random_state

from ._base import StreamingEstimator
from ._compat import Interval, StrOptions
from ._em import (
    MixtureState,
    check_init,
    e_step,
    em_pass,
    fit_in_memory,
    merge_mixtures,
    sample_mixture,
    warm_up,
    warn_lost,
)
from ._streaming import Carry, read_of_rows
from ._structures import STRUCTURES

__all__ = ["OnlineGaussianMixture"]


class OnlineGaussianMixture(DensityMixin, StreamingEstimator):
    """A Gaussian mixture learned online: stochastic EM by natural-gradient steps.

    Online EM (Cappe & Moulines, 2009; :ref:`theory-mixtures`) after a warm-up
    of batch EM on the first ``init_size`` rows, with
    :class:`~sklearn.mixture.GaussianMixture`'s API; with one component, this
    is :class:`OnlineGaussian`. ``fit`` afresh with the default schedule is
    GaussianMixture's batch EM on all the rows. See :ref:`user-guide-mixture`.

    Parameters
    ----------
    n_components : int, default=1
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    tol : float, default=1e-3
        ``fit`` stops when an iteration changes ``lower_bound_`` by less.
    reg_covar : float, default=1e-6
        What a covariance gets where its data do not determine it.
    max_iter : int, default=100
        Most epochs of ``fit`` (and iterations of each warm-up batch EM).
    n_init : int, default=1
        Initializations the warm-up tries, keeping the best.
    init_params : {'kmeans', 'k-means++', 'random_from_data'}, default='kmeans'
    init_size : int, default=1000
        Rows kept and fitted by batch EM before online EM takes over.
    weights_init, means_init, precisions_init : array-like, default=None
        As in GaussianMixture, validated by the call that receives them.
    learning_rate : {'optimal', 'invscaling', 'constant'}, default='optimal'
        Per-row schedule, as in :class:`OnlineGaussian`.
    eta0 : float, default=0.01
    power_t : float, default=0.6
    average : bool or float, default=False
        Polyak-Ruppert averaging from the warm-up's end (a number: that weight).
    batch_size : int, default=1000
        Rows per E-step and step.
    shrinkage : float in [0, 1], default=None
        Shrinkage of each covariance toward its mean variance.
    random_state : int, RandomState instance or None, default=None
    warm_start : bool, default=False
    verbose : int, default=0

    Attributes
    ----------
    weights_, means_, covariances_, precisions_, precisions_cholesky_ : ndarray
        As in GaussianMixture.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood of the last epoch's or pass's rows, each scored
        before its step (-inf if a row was beyond float64).
    lower_bounds_ : list of float
    n_features_in_, feature_names_in_, n_samples_seen_, t_ : int, ndarray, int, float

    See Also
    --------
    sklearn.mixture.GaussianMixture

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_onlinegauss import OnlineGaussianMixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-5, 1, (5000, 2)), rng.normal(5, 1, (5000, 2))])
    >>> gm = OnlineGaussianMixture(2, random_state=0)
    >>> for chunk in np.array_split(rng.permutation(X), 50):
    ...     gm = gm.partial_fit(chunk)
    >>> np.round(np.sort(gm.means_[:, 0]))
    array([-5.,  5.])
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions(set(STRUCTURES))],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions({"kmeans", "k-means++", "random_from_data"})],
        "init_size": [Interval(Integral, 1, None, closed="left")],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "learning_rate": [StrOptions({"invscaling", "optimal", "constant"})],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "average": ["boolean", Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "shrinkage": [None, Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }
    _structural_params = ("n_components", "covariance_type")
    _fitted_names = (*StreamingEstimator._fitted_names, "lower_bounds_", "converged_")
    _curve_name, _curve_label = "lower_bounds_", "mean log-likelihood"

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        init_size=1000,
        weights_init=None,
        means_init=None,
        precisions_init=None,
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.6,
        average=False,
        batch_size=1000,
        shrinkage=None,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.init_size = init_size
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.average = average
        self.batch_size = batch_size
        self.shrinkage = shrinkage
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_state") and self._state.gaussians is not None

    def _structure(self):
        return STRUCTURES[self.covariance_type]

    def _moments(self, state):
        return state.gaussians

    def _epochs(self, carry, X, y, w, rng, own):
        """Afresh with the exact schedule: batch EM on all the rows, as GaussianMixture."""
        if own and self.learning_rate == "optimal" and self._pooled():
            return fit_in_memory(self, X, w, rng)
        return super()._epochs(carry, X, y, w, rng, own)

    def _next_epoch(self, carry):
        # Epoch 1 was the warm-up on all the rows; the later ones are online EM passes.
        return carry._replace(state=MixtureState(carry.state.gaussians))

    def _warming_up(self):
        return not self.__sklearn_is_fitted__() or self._state.kept is not None

    def _call_rng(self):
        return copy.deepcopy(check_random_state(self.random_state)) if self._warming_up() else None

    def _check_targets(self, X, y, first, fit=False, **context):
        # The initialization's overrides, before any draw, by every call that receives
        # them: the warm-up's, and any after set_params (the base's slow path).
        if first or self._warming_up() or not self._params_unchanged():
            check_init(self, X.shape[1])

    def _fit_input(self, X, sample_weight, warm):
        X, w = super()._fit_input(X, sample_weight, warm)
        rows = len(X) if w is None else np.count_nonzero(w)
        if not warm and rows < self.n_components:
            raise ValueError(
                f"Expected n_samples >= n_components: fit got {rows} rows of positive weight "
                f"for n_components={self.n_components}; each component starts from a row."
            )
        return X, w

    def _start(self, X, y, rng):
        kept = getattr(self, "_state", None)  # rows kept before a row per component came
        return Carry(MixtureState(None) if kept is None else kept, None, 0.0, 0, 0)

    def _learn(self, carry, X, y, w, order, rng, eta0=None):
        """``carry`` after the rows: online EM, or the warm-up while it lasts."""
        if order is not None:
            X, w = X[order], None if w is None else w[order]
        if carry.state.gaussians is not None and carry.state.kept is None:
            return em_pass(self, carry, X, w)
        return warm_up(self, carry, X, w, rng)

    def _committed(self, carry, start, converged):
        if not self.__sklearn_is_fitted__():
            return
        self.lower_bound_ = self.lower_bounds_[-1]
        self.converged_ = converged
        warn_lost(self, carry, start)

    @classmethod
    def _merged(cls, parts):
        return merge_mixtures(parts)

    @property
    def weights_(self):
        """ndarray of shape (n_components,): the mixing weights."""
        weights = self._fitted()[0].weights
        return weights / weights.sum()

    @property
    def means_(self):
        """ndarray of shape (n_components, n_features): the component means."""
        return self._fitted()[0].locations

    @property
    def covariances_(self):
        """ndarray: the component covariances, shaped by ``covariance_type``."""
        return self._fitted()[0].covariances.copy()

    @property
    def precisions_(self):
        """ndarray: the inverses of ``covariances_``, shaped likewise."""
        return self._structure().sklearn_precisions(self._fitted()[1], self.n_features_in_)

    @property
    def precisions_cholesky_(self):
        """ndarray: ``P`` with ``P @ P.T`` the precision (diag and spherical: its square root)."""
        return self._structure().sklearn_precisions_cholesky(self._fitted()[1])

    def _log_resp(self, X):
        state, factor, normalizers = self._fitted()
        return e_step(self._structure(), state, factor, self._check_X(X), normalizers)

    @read_of_rows
    def score_samples(self, X):
        """Log-density of each row under the mixture, shape (n_samples,)."""
        return self._log_resp(X)[1]

    def score(self, X, y=None):
        """Mean log-likelihood of ``X``."""
        return float(self.score_samples(X).mean())

    @read_of_rows
    def predict_proba(self, X):
        """Responsibility of each component for each row, shape (n_samples, n_components)."""
        log_resp = self._log_resp(X)[0]  # laid out component by component
        return np.exp(log_resp, out=np.empty(log_resp.shape))

    @read_of_rows
    def predict(self, X):
        """The most responsible component of each row, shape (n_samples,)."""
        return np.argmax(self._log_resp(X)[0], axis=1)

    def fit_predict(self, X, y=None):
        """``fit(X)``, then the component of each row of ``X``, shape (n_samples,)."""
        return self.fit(X).predict(X)

    def sample(self, n_samples=1):
        """Draw rows from the mixture: ``(X (n_samples, n_features), component of each)``."""
        state, factor, _ = self._fitted()
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        rng = check_random_state(self.random_state)
        return sample_mixture(self._structure(), state, factor, n_samples, rng)

    def bic(self, X):
        """Bayesian information criterion of ``X`` (lower is better; inf beyond float64)."""
        scores = self.score_samples(X)
        return -2 * scores.sum() + self._n_parameters() * math.log(len(scores))

    def aic(self, X):
        """Akaike information criterion of ``X`` (lower is better; inf beyond float64)."""
        return -2 * self.score_samples(X).sum() + 2 * self._n_parameters()

    def _n_parameters(self):
        return self._structure().n_parameters(self.n_components, self.n_features_in_)
