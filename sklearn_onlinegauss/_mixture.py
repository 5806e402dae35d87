"""OnlineGaussianMixture: online EM, the face whose row weights are responsibilities."""

import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._averaging import averaging_start
from ._base import StreamingEstimator
from ._compat import Interval, StrOptions
from ._em import (
    MixtureState,
    e_step,
    lost_components,
    merge_mixtures,
    responsibilities,
    warm_up,
)
from ._stopping import Steady
from ._streaming import Carry, stream
from ._structures import STRUCTURES
from ._threads import blas_threads_for
from .exceptions import outside_stacklevel

__all__ = ["OnlineGaussianMixture"]


class OnlineGaussianMixture(DensityMixin, StreamingEstimator):
    """A Gaussian mixture learned online: stochastic EM by natural-gradient steps.

    Each mini-batch takes one E-step (its rows' responsibilities under the
    current mixture) and one natural-gradient step of every component with
    the responsibilities as row weights: online EM (Cappe & Moulines, 2009;
    :ref:`theory-mixtures`). The API is
    :class:`~sklearn.mixture.GaussianMixture`'s; ``partial_fit`` is one pass
    over a chunk of a stream, after a warm-up of batch EM on the first
    ``init_size`` rows. With one component this is :class:`OnlineGaussian`.

    Parameters
    ----------
    n_components : int, default=1
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    tol : float, default=1e-3
        ``fit`` stops when an epoch changes the mean log-likelihood of its
        rows (each scored before the step it takes part in) by less.
    reg_covar : float, default=1e-6
        What a covariance gets where its data do not determine it.
    max_iter : int, default=100
        Most epochs of ``fit`` (and iterations of each warm-up batch EM).
    n_init : int, default=1
        Initializations the warm-up tries, keeping the best.
    init_params : {'kmeans', 'k-means++', 'random_from_data'}, default='kmeans'
        How the warm-up groups its rows into the initial components.
    init_size : int, default=1000
        Rows of the warm-up: they are kept and fitted afresh by batch EM each
        time they have doubled (online EM steps in between), until
        ``init_size`` rows; then online EM takes over and they are dropped.
        About ``10 * n_components * n_features`` rows suit ``'full'``.
    weights_init, means_init, precisions_init : array-like, default=None
        As in GaussianMixture, replacing the initialization's.
    learning_rate : {'optimal', 'invscaling', 'constant'}, default='optimal'
        Per-row schedule, as in :class:`OnlineGaussian`: ``1 / t``
        (incremental EM), ``eta0 / t**power_t`` (stochastic approximation)
        or ``eta0`` (a memory of about ``1 / eta0`` rows, for drift).
    eta0 : float, default=0.01
    power_t : float, default=0.6
    average : bool or float, default=False
        Polyak-Ruppert averaging of the online iterates (``True``: from the
        end of the warm-up; a number: from that weight on).
    batch_size : int, default=1000
        Rows per E-step and step.
    shrinkage : float in [0, 1], default=None
        Shrinkage of each covariance toward its mean variance, in the E-steps
        and the fitted mixture.
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
        Mean log-likelihood of the rows of the last epoch or pass, each
        scored by the mixture before the step it took part in.
    lower_bounds_ : list of float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_samples_seen_ : int
    t_ : float

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

    # -- the hooks -------------------------------------------------------------------

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_state") and self._state.gaussians is not None

    def _structure(self):
        return STRUCTURES[self.covariance_type]

    def _moments(self, state):
        return state.gaussians

    def _stopping_rule(self):
        return Steady(self.tol)

    def _next_epoch(self, carry):
        # fit's first epoch was the warm-up on all its rows; later epochs repeat
        # them, so they are online EM passes, not more rows to keep.
        state = carry.state
        return (
            carry._replace(state=MixtureState(state.gaussians))
            if state.gaussians is not None
            else carry
        )

    def _call_rng(self):
        warming_up = not self.__sklearn_is_fitted__() or self._state.kept is not None
        return copy.deepcopy(check_random_state(self.random_state)) if warming_up else None

    def _check_targets(self, X, y, first, fit=False, **context):
        if fit and len(X) < self.n_components:
            raise ValueError(
                f"Expected n_samples >= n_components: fit got {len(X)} rows for "
                f"n_components={self.n_components}; each component starts from a row."
            )

    def _start(self, X, y, rng):
        kept = getattr(self, "_state", None)  # rows kept before a row per component came
        return Carry(MixtureState(None) if kept is None else kept, None, 0.0, 0, 0)

    def _learn(self, carry, X, y, w, order, rng, eta0=None):
        """``carry`` after the rows: online EM, or the warm-up while it lasts."""
        if order is not None:
            X, w = X[order], None if w is None else w[order]
        state = carry.state
        if state.gaussians is not None and state.kept is None:  # online EM
            return self._em_pass(carry, X, w)
        return warm_up(self, carry, X, w, rng)

    def _em_pass(self, carry, X, w, model=None):
        """E-steps and natural steps over the rows: ``(carry, mean log-likelihood)``.

        ``model``: the mixture (regularized, with its factor) that gives every
        row its responsibilities; None: the mixture as it learns.
        """
        structure, rate, total = self._structure(), self._rate(), [0.0]

        def step(gaussians, Xb, wb, t, rows):
            reading = self._readable(gaussians) if model is None else model
            log_resp, log_norm = e_step(structure, *reading, Xb)
            total[0] += log_norm.sum() if wb is None else wb @ log_norm
            weights, retain = rate.pooling(t, wb, len(Xb))
            responsibilities(log_resp)
            log_resp *= weights if np.ndim(weights) == 0 else weights[:, None]
            return structure.step(gaussians, Xb, log_resp, retain), False

        inner = carry._replace(state=carry.state.gaussians)
        with blas_threads_for(self._batch_work(*X.shape)):
            inner = stream(
                inner, X, w, self.batch_size, None, step, _identity, self._average_from()
            )
        weight = len(X) if w is None else w.sum()
        return inner._replace(state=carry.state._replace(gaussians=inner.state)), total[0] / weight

    def _average_from(self):
        return averaging_start(self.average)

    def _readable(self, gaussians):
        """``(state, factor)``: shrunk and regularized, as E-steps and reads use it."""
        state = self._structure().shrink(gaussians, self._intensities(None))
        return self._structure().regularized(state, self.reg_covar)

    def _committed(self, carry, start, converged):
        if not self.__sklearn_is_fitted__():
            return
        self.lower_bound_ = self.lower_bounds_[-1]
        self.converged_ = converged
        before = set(lost_components(self, start)) if start.state.gaussians is not None else set()
        lost = sorted(set(lost_components(self, carry)) - before)
        if lost:
            warnings.warn(
                f"Components {lost} hold less than one row's responsibility in the "
                "stream's memory: they keep their last means and covariances, with weights "
                "near 0 (they barely affect the scores). Fewer n_components, a larger "
                "init_size or means_init may fit the data better.",
                ConvergenceWarning,
                stacklevel=outside_stacklevel(),
            )

    def _intensities(self, carry):
        return 0.0 if self.shrinkage is None else float(self.shrinkage)

    @classmethod
    def _merged(cls, parts):
        return merge_mixtures(parts)

    # -- reads ------------------------------------------------------------------------

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

    def score_samples(self, X):
        """Log-density of each row under the mixture, shape (n_samples,)."""
        return self._log_resp(X)[1]

    def score(self, X, y=None):
        """Mean log-likelihood of ``X``."""
        return float(self.score_samples(X).mean())

    def predict_proba(self, X):
        """Responsibility of each component for each row, shape (n_samples, n_components)."""
        return np.exp(self._log_resp(X)[0])

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
        counts = rng.multinomial(n_samples, self.weights_)
        d = self.n_features_in_
        X = np.concatenate(
            [
                self._structure().sample(state, factor, k, rng.standard_normal((count, d)))
                for k, count in enumerate(counts)
            ]
        )
        return X, np.repeat(np.arange(len(counts)), counts)

    def bic(self, X):
        """Bayesian information criterion of ``X`` (lower is better)."""
        scores = self.score_samples(X)
        n_parameters = self._structure().n_parameters(self.n_components, self.n_features_in_)
        return -2 * scores.sum() + n_parameters * math.log(len(scores))

    def aic(self, X):
        """Akaike information criterion of ``X`` (lower is better)."""
        n_parameters = self._structure().n_parameters(self.n_components, self.n_features_in_)
        return -2 * self.score_samples(X).sum() + 2 * n_parameters


def _identity(state):
    return state
