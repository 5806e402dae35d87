"""OnlineGaussianMixture: online EM, the core's natural step with responsibilities as weights."""

import copy
import math
import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._averaging import averaging_start
from ._compat import Interval, StrOptions, _fit_context
from ._gaussians import STRUCTURES
from ._linalg import solve_lower
from ._schedules import Rate, check_pooling_rate
from ._shrinkage import shrink
from ._streaming import Carry, StreamingMixin, cached_read, call_lock, check_fitted, stream
from ._threads import blas_threads_for, natural_step_work
from .exceptions import outside_stacklevel

__all__ = ["OnlineGaussianMixture"]

#: What a fitting call sets, restored as it was if the call fails.
_FITTED = (
    "_state",
    "_warm_up_rows",
    "_layout",
    "_kept_rows",
    "_average",
    "t_",
    "n_samples_seen_",
    "n_iter_",
    "converged_",
    "lower_bound_",
    "lower_bounds_",
    "n_features_in_",
    "feature_names_in_",
    "_validated_params",
)


class OnlineGaussianMixture(DensityMixin, StreamingMixin, BaseEstimator):
    """A Gaussian mixture learned online: stochastic EM by natural-gradient steps.

    Each mini-batch takes one E-step (the responsibilities of its rows under
    the current mixture) and one natural-gradient step of every component,
    the library's step with the responsibilities as row weights: online EM
    (Cappe & Moulines, 2009), which is natural-gradient ascent on the
    mixture's log-likelihood (Sato, 2001). The step size is the schedule of
    :class:`OnlineGaussian`, per row and exact under any chunking, so
    ``partial_fit`` on chunks of any size learns the same mixture as long as
    the E-steps see the same parameters. With one component the
    responsibilities are all 1 and this is :class:`OnlineGaussian`, for
    every schedule (to rounding; with ``average``, which starts after the
    warm-up here, the averages differ).

    The API is :class:`~sklearn.mixture.GaussianMixture`'s: ``fit(X)`` runs
    epochs of mini-batches until the mean log-likelihood improves by less
    than ``tol``; ``partial_fit(X)`` is one pass over a chunk of a stream.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.

    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        As in :class:`~sklearn.mixture.GaussianMixture`.

    tol : float, default=1e-3
        ``fit`` stops when an epoch improves the mean log-likelihood of its
        rows (each scored before the step it takes part in) by less than
        this.

    reg_covar : float, default=1e-6
        What a component's covariance gets where its data do not determine
        it (see :class:`OnlineGaussian`): a determined covariance is left
        exactly as estimated. Components holding few rows for their features
        (a small first chunk, many features) need ``shrinkage`` as well.

    max_iter : int, default=100
        Most epochs ``fit`` runs.

    n_init : int, default=1
        Initializations the warm-up tries, keeping the mixture with the
        highest mean log-likelihood of its rows.

    init_params : {'kmeans', 'k-means++', 'random_from_data'}, default='kmeans'
        How the warm-up groups its rows into the initial components, whose
        moments are the mixture batch EM starts from: the clusters of
        :class:`~sklearn.cluster.KMeans` (as GaussianMixture's default), or
        each row to its nearest of ``n_components`` centres chosen by
        :func:`~sklearn.cluster.kmeans_plusplus` or drawn at random.

    init_size : int, default=1000
        Rows of the warm-up: until this many rows have been seen they are
        kept (``init_size * n_features`` floats at most) and the mixture is
        fitted to all of them by batch EM from a fresh initialization each
        time they have doubled (online EM steps in between), so that
        mini-batches of a few rows do not start the components from a
        handful of rows each; at ``init_size`` rows a last batch EM fit of
        them all, then online EM takes over and they are dropped. A
        component needs more rows than features for a full covariance:
        about ``10 * n_components * n_features`` rows are a comfortable
        warm-up for ``'full'``. Until ``n_components``
        rows have come, ``partial_fit`` only keeps them: the mixture is not
        fitted yet (``fit`` needs that many rows at once).

    weights_init : array-like of shape (n_components,), default=None
        Initial weights, replacing those of the initialization.

    means_init : array-like of shape (n_components, n_features), default=None
        Initial means, replacing the centres of ``init_params``.

    precisions_init : array-like, default=None
        Initial precisions, shaped as in
        :class:`~sklearn.mixture.GaussianMixture` for ``covariance_type``,
        replacing the covariances of the initialization.

    learning_rate : {'optimal', 'invscaling', 'constant'}, default='optimal'
        Step-size schedule, per row as in :class:`OnlineGaussian`.
        ``'optimal'``: rate ``1 / t``, every row weighs the same for ever
        (incremental EM); the most robust in ``benchmarks/mixture.py``.
        ``'invscaling'``: rate ``eta0 / t**power_t``, the
        stochastic-approximation step of online EM (``power_t`` in
        ``(0.5, 1]``), which forgets the responsibilities computed under
        early, worse mixtures; its memory, about ``t**power_t / eta0``
        rows, must hold many rows per component and feature, or the
        components it cannot estimate lose their rows to one that grows
        (measured: with ``eta0=1, power_t=0.6`` ten components on digits
        collapse into one). ``'constant'``: rate ``eta0`` per row, a memory
        of about ``1 / eta0`` rows, for drift (with ``average=False``).

    eta0 : float, default=0.01
        Scale of ``'invscaling'`` and rate of ``'constant'`` (below 1).

    power_t : float, default=0.6
        Exponent of ``'invscaling'``.

    average : bool or float, default=False
        Polyak-Ruppert averaging of the online iterates (``True``: from the
        end of the warm-up; a number: once that much sample weight has been
        seen). The E-steps use the current iterate; the fitted mixture is
        the average: with ``'invscaling'``, the stochastic approximation's
        efficient estimate (Polyak & Juditsky, 1992).

    batch_size : int, default=1000
        Rows per E-step and natural step. Each batch's responsibilities come
        from the mixture before it, so smaller batches follow the mixture
        more closely, at a higher cost per row: on a stream of 8 components
        in 20 dimensions, batches of 100 cost 8 times batches of 1000 per
        row, for the same held-out log-likelihood to 4 digits. It changes
        the warm-up's batch EM only in rounding.

    shrinkage : float in [0, 1], default=None
        Shrinkage of each covariance toward its mean variance,
        ``(1 - s) S + s mu I`` (:class:`~sklearn.covariance.ShrunkCovariance`),
        in the E-steps and in the fitted mixture: keeps components that hold
        few rows for their features from collapsing.

    random_state : int, RandomState instance or None, default=None
        Initialization and the row order of ``fit``'s epochs.

    warm_start : bool, default=False
        ``fit`` continues from the fitted mixture instead of initializing.

    verbose : int, default=0
        Print the mean log-likelihood of each epoch of ``fit``.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        Shaped as in :class:`~sklearn.mixture.GaussianMixture`.
    precisions_ : ndarray
    precisions_cholesky_ : ndarray
    converged_ : bool
        Whether ``fit`` stopped on ``tol`` (``partial_fit``: False).
    n_iter_ : int
        Epochs of the last ``fit``, or passes of ``partial_fit``.
    lower_bound_ : float
        Mean log-likelihood of the rows of the last epoch or pass, each
        scored by the mixture before the step it took part in.
    lower_bounds_ : list of float
        ``lower_bound_`` of each epoch of the last ``fit``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_samples_seen_ : int
    t_ : float
        Total sample weight of every pass.

    See Also
    --------
    sklearn.mixture.GaussianMixture
    OnlineGaussian

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

    # -- fitting ---------------------------------------------------------------

    def fit(self, X, y=None):
        """Fit by epochs of shuffled mini-batches until `tol` or `max_iter`.

        Each epoch is what ``partial_fit`` does with the rows, shuffled: the
        first starts with the warm-up (batch EM on the first ``init_size``
        rows), the others are passes of online EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        with call_lock(self):
            return self._fit(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X):
        check_pooling_rate(self.learning_rate, self.eta0)
        warm = self.warm_start and hasattr(self, "_state")
        if warm:
            self._check_layout()
        with self._kept_on_error(_FITTED):
            X = self._check_X(X, reset=not warm)
            if not warm and len(X) < self.n_components:
                raise ValueError(
                    f"Expected n_samples >= n_components: fit got {len(X)} rows for "
                    f"n_components={self.n_components}; each component starts from a row."
                )
            rng = copy.deepcopy(check_random_state(self.random_state))
            start = self._learned() if warm else _Learned(None, None)
            learned, curve, converged = self._epochs(X, rng, start)
            if isinstance(self.random_state, np.random.RandomState):
                self.random_state.set_state(rng.get_state())
            seen = self.n_samples_seen_ if warm else 0
            carry = learned.carry._replace(n_seen=seen + len(X))
            self._commit(learned._replace(carry=carry), len(curve), curve, converged)
        return self

    def _epochs(self, X, rng, learned):
        """Epochs until `tol` or `max_iter`: ``(learned, lower bounds, converged)``."""
        curve = []
        for epoch in range(1, self.max_iter + 1):
            learned, lower_bound = self._learn(X[rng.permutation(len(X))], learned, rng)
            curve.append(lower_bound)
            if self.verbose:
                print(f"-- Epoch {epoch}, mean log-likelihood: {lower_bound:.6g}")
            if epoch > 1 and abs(curve[-1] - curve[-2]) < self.tol:
                return learned, curve, True
        warnings.warn(
            f"fit did not converge in max_iter={self.max_iter} epochs: the mean "
            "log-likelihood still changed by more than tol. Increase max_iter or tol.",
            ConvergenceWarning,
            stacklevel=outside_stacklevel(),
        )
        return learned, curve, False

    def partial_fit(self, X, y=None):
        """Learn from one chunk of the stream.

        Until ``init_size`` rows have been seen, they are kept and the
        mixture is fitted to all of them by batch EM from a fresh
        initialization (``init_params``) each time they have doubled, with
        online EM steps in between; from then on, one pass of online EM per
        call, in mini-batches of ``batch_size``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        with call_lock(self):
            if self._params_unchanged():
                return self._partial_fit(X)
            return self._validated_partial_fit(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def _validated_partial_fit(self, X):
        check_pooling_rate(self.learning_rate, self.eta0)
        if hasattr(self, "_state"):
            self._check_layout()
        return self._partial_fit(X)

    def _check_layout(self):
        """Refuse to continue a mixture of another number of components or structure."""
        if self._layout != self._current_layout():
            raise ValueError(
                f"The mixture was learned with (n_components, covariance_type) = "
                f"{self._layout} and cannot continue as {self._current_layout()}. "
                "Call fit without warm_start to start afresh."
            )

    def _current_layout(self):
        return self.n_components, self.covariance_type

    def _partial_fit(self, X):
        with self._kept_on_error(_FITTED):
            X = self._check_X(X, reset=not hasattr(self, "n_features_in_"))
            learned = self._learned()
            warming_up = learned.carry is None or learned.kept is not None
            rng = check_random_state(self.random_state) if warming_up else None
            learned, lower_bound = self._learn(X, learned, rng)
            if learned.carry is None:  # fewer rows than components so far: keep them
                self._kept_rows, self._validated_params = learned.kept, self._param_values()
                return self
            self._commit(learned, getattr(self, "n_iter_", 0) + 1, [lower_bound], False)
        return self

    def _learn(self, X, learned, rng):
        """``learned`` after the rows ``X``: ``(learned, mean log-likelihood)``.

        While warming up, the rows join the kept ones and the first
        ``init_size`` of them are fitted afresh by batch EM; the rows beyond
        them, and every row afterwards, take online EM steps.
        """
        if learned.carry is not None and learned.kept is None:
            carry, lower_bound = self._pass(X, learned.carry, None)
            return _Learned(carry, None), lower_bound
        kept = X if learned.kept is None else np.concatenate([learned.kept, X])
        if len(kept) < self.n_components:  # not a row for each component yet
            return _Learned(None, kept), None
        if len(kept) < self.init_size:
            if learned.carry is not None and len(kept) < 2 * learned.fitted:
                # Online EM from the last warm-up fit until the rows have doubled:
                # rows arriving one at a time cost O(init_size) refits in all.
                carry, lower_bound = self._pass(X, learned.carry, None)
                return _Learned(carry, kept, learned.fitted), lower_bound
            carry, lower_bound = self._warm_up(kept, rng)
            return _Learned(carry, kept, len(kept)), lower_bound
        head, rest = kept[: self.init_size], kept[self.init_size :]
        carry, lower_bound = self._warm_up(head, rng)
        if len(rest):
            carry, online = self._pass(rest, carry, None)
            lower_bound = (lower_bound * len(head) + online * len(rest)) / len(kept)
        return _Learned(carry, None), lower_bound

    def _warm_up(self, X, rng):
        """Batch EM on the rows ``X`` from a fresh initialization: ``(carry, lower bound)``.

        Each iteration is a pass from nothing whose rows all take their
        responsibilities from the previous iteration's mixture, with the
        schedule's weights, so with one component it is exactly the online
        estimate of the rows.
        """
        empty = Carry(self._structure().empty(self.n_components, X.shape[1]), None, 0.0, 0, 0)
        best = None
        for _ in range(self.n_init):
            model, previous = self._initial_model(X, rng), -np.inf
            for _ in range(self.max_iter):
                carry, lower_bound = self._pass(X, empty, model)
                if abs(lower_bound - previous) < self.tol:
                    break
                model, previous = self._readable(carry.state), lower_bound
            if best is None or lower_bound > best[1]:
                best = carry, lower_bound
        carry, lower_bound = best
        # Averaging starts with online EM: the iterates of a batch EM pass are
        # partial sums of one iteration, not estimates to average.
        return carry._replace(average=None), lower_bound

    def _pass(self, X, carry, model):
        """One pass of E-steps and natural steps: ``(carry, mean log-likelihood)``.

        ``model``: the mixture (regularized, with its factor) that gives every
        row of the pass its responsibilities; None: the mixture as it learns.
        """
        structure = self._structure()
        rate = Rate(self.learning_rate, self.eta0, self.power_t)
        log_likelihood = [0.0]

        def step(state, Xb, wb, t, rows):
            reading = self._readable(state) if model is None else model
            log_resp, log_norm = _e_step(structure, *reading, Xb)
            log_likelihood[0] += log_norm.sum()
            weights, retain = rate.pooling(t, wb, len(Xb))
            _responsibilities(log_resp)
            log_resp *= weights if np.ndim(weights) == 0 else weights[:, None]
            return structure.step(state, Xb, log_resp, retain), False

        batch = min(self.batch_size, len(X))
        with blas_threads_for(natural_step_work(batch, X.shape[1])):
            carry = stream(
                carry,
                X,
                None,
                self.batch_size,
                None,
                step,
                _identity,
                averaging_start(self.average),
            )
        return carry, log_likelihood[0] / len(X)

    def _initial_model(self, X, rng):
        """The initial mixture and its factor: centres, nearest-centre groups, overrides."""
        K, (n, d) = self.n_components, X.shape
        structure = self._structure()
        means = _check_array(self.means_init, (K, d), "means_init")
        if means is not None:
            labels = _nearest(X, means)
        elif self.init_params == "kmeans":
            labels = KMeans(K, n_init=1, random_state=rng).fit(X).labels_
        else:
            if self.init_params == "k-means++":
                centres, _ = kmeans_plusplus(X, K, random_state=rng)
            else:
                centres = X[rng.choice(n, size=K, replace=False)]
            labels = _nearest(X, centres)
        hard = np.zeros((n, K))
        hard[np.arange(n), labels] = 1.0
        state = structure.step(structure.empty(K, d), X, hard, 1.0)
        weights = _check_array(self.weights_init, (K,), "weights_init")
        if weights is not None:
            if np.any(weights < 0) or not math.isclose(weights.sum(), 1.0, abs_tol=1e-6):
                raise ValueError(
                    f"weights_init must be non-negative and sum to 1, got sum {weights.sum()}."
                )
            state = state._replace(weights=weights * n)
        if self.means_init is not None:
            state = state._replace(origins=means.astype(float), means=np.zeros((K, d)))
        if self.precisions_init is not None:
            covariances = _covariances_of(self.precisions_init, self.covariance_type, K, d)
            state = state._replace(covariances=covariances)
        return self._readable(state)

    def _structure(self):
        return STRUCTURES[self.covariance_type]

    def _learned(self):
        """What has been learned: nothing, rows kept while warming up, or a mixture."""
        if not hasattr(self, "_state"):
            return _Learned(None, getattr(self, "_kept_rows", None))
        carry = Carry(self._state, self._average, self.t_, self.n_samples_seen_, 0)
        return _Learned(carry, self._kept_rows, self._warm_up_rows)

    def _commit(self, learned, n_iter, lower_bounds, converged):
        before = set(self._lost()) if hasattr(self, "_state") else set()
        carry, self._kept_rows, self._warm_up_rows = learned
        self._layout = self._current_layout()
        self._state, self._average, self.t_, self.n_samples_seen_, _ = carry
        self.n_iter_ = n_iter
        self.lower_bounds_ = list(lower_bounds)
        self.lower_bound_ = lower_bounds[-1]
        self.converged_ = converged
        self._validated_params = self._param_values()
        lost = sorted(set(self._lost()) - before)
        if lost:
            warnings.warn(
                f"Components {lost} hold less than one row's responsibility in the "
                "stream's memory: they keep their last means and covariances, with weights "
                "near 0 (they barely affect the scores). Fewer n_components, a larger "
                "init_size or means_init may fit the data better.",
                ConvergenceWarning,
                stacklevel=outside_stacklevel(),
            )

    def _lost(self):
        """Components that hold less than one row's responsibility (none while warming up).

        The state's weights are shares of the stream's memory, in which one
        new row weighs the per-row rate.
        """
        if self._kept_rows is not None:  # the warm-up's mixture is provisional
            return []
        share = self._state.weights / self._state.weights.sum()
        rate = Rate(self.learning_rate, self.eta0, self.power_t).per_sample(self.t_)
        return np.flatnonzero(share < rate).tolist()

    # -- reading ---------------------------------------------------------------

    def _readable(self, state):
        """``(state, factor)``: ``state`` shrunk and regularized, as E-steps and reads use it."""
        if self.shrinkage:
            tied = self.covariance_type == "tied"  # one (d, d) matrix, not K variances
            shrunk = shrink(state.covariances[None] if tied else state.covariances, self.shrinkage)
            state = state._replace(covariances=shrunk[0] if tied else shrunk)
        return self._structure().regularized(state, self.reg_covar)

    def _fitted(self):
        """The mixture and its factors, computed once per learned state and settings."""
        check_fitted(self)
        state = self._state if self._average is None else self._average.state
        return cached_read(self, (state,), lambda: self._readable(state))

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
        state, factor = self._fitted()
        if self.covariance_type in ("diag", "spherical"):
            return 1.0 / state.covariances
        precisions = self._structure().precisions(factor, state.means.shape[1])
        return precisions[0] if self.covariance_type == "tied" else precisions

    @property
    def precisions_cholesky_(self):
        """ndarray: ``P`` with ``P @ P.T`` the precision (diag and spherical: its square root)."""
        _, factor = self._fitted()
        if self.covariance_type in ("diag", "spherical"):
            return 1.0 / factor
        eye = np.eye(factor.shape[-1])
        cholesky = np.array([solve_lower(L, eye).T for L in factor])
        return cholesky[0] if self.covariance_type == "tied" else cholesky

    def _log_resp(self, X):
        state, factor = self._fitted()
        return _e_step(self._structure(), state, factor, self._check_X(X))

    def score_samples(self, X):
        """Log-density of each row under the mixture, shape (n_samples,)."""
        return self._log_resp(X)[1]

    def score(self, X, y=None):
        """Mean log-likelihood of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        float
        """
        return float(self.score_samples(X).mean())

    def predict_proba(self, X):
        """Responsibility of each component for each row, shape (n_samples, n_components)."""
        return np.exp(self._log_resp(X)[0])

    def predict(self, X):
        """The most responsible component of each row, shape (n_samples,)."""
        return np.argmax(self._log_resp(X)[0], axis=1)

    def fit_predict(self, X, y=None):
        """``fit(X)``, then the component of each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.fit(X).predict(X)

    def sample(self, n_samples=1):
        """Draw rows from the mixture, with the component of each.

        Parameters
        ----------
        n_samples : int, default=1

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
        """
        state, factor = self._fitted()
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        structure, d = self._structure(), state.means.shape[1]
        X = np.concatenate(
            [
                structure.sample(state, factor, k, rng.standard_normal((count, d)))
                for k, count in enumerate(counts)
            ]
        )
        return X, np.repeat(np.arange(len(counts)), counts)

    def _n_parameters(self):
        K, d = self.n_components, self.n_features_in_
        covariance = {
            "full": K * d * (d + 1) / 2,
            "tied": d * (d + 1) / 2,
            "diag": K * d,
            "spherical": K,
        }[self.covariance_type]
        return int(covariance + K * d + K - 1)

    def bic(self, X):
        """Bayesian information criterion of ``X`` (lower is better)."""
        scores = self.score_samples(X)
        return -2 * scores.sum() + self._n_parameters() * math.log(len(scores))

    def aic(self, X):
        """Akaike information criterion of ``X`` (lower is better)."""
        return -2 * self.score_samples(X).sum() + 2 * self._n_parameters()


class _Learned(NamedTuple):
    """What the mixture has learned: the pass's carry, the rows kept while warming up,
    and how many of them the last warm-up fit had."""

    carry: Carry
    kept: np.ndarray
    fitted: int = 0


def _identity(state):
    return state


def _e_step(structure, state, factor, X):
    """``(log responsibilities (n, K), log-density (n,))`` of the rows ``X``."""
    shares = state.weights / state.weights.sum()
    log_weights = np.log(shares, out=np.full(len(shares), -np.inf), where=shares > 0)
    weighted = structure.log_density(state, factor, X) + log_weights
    log_norm = _logsumexp_rows(weighted)
    weighted -= log_norm[:, None]
    return weighted, log_norm


def _logsumexp_rows(a):
    """``log(sum(exp(a), axis=1))``, stable; scipy's costs more than the sum on small arrays."""
    top = a.max(axis=1)
    return np.log(np.exp(a - top[:, None]).sum(axis=1)) + top


def _responsibilities(log_resp):
    """Responsibilities from their logs, in place; those below float64 rounding are 0.

    A share below 2**-52 of a row is below the rounding of the row's other
    shares; kept, such shares over many steps would give a component moments
    of the size of underflow in features its rows never had.
    """
    log_resp[log_resp < _LOG_EPS] = -np.inf
    return np.exp(log_resp, out=log_resp)


_LOG_EPS = math.log(np.finfo(float).eps)


def _nearest(X, centres):
    """The index of each row's nearest centre (squared Euclidean distance)."""
    distances = (centres**2).sum(axis=1) - 2.0 * (X @ centres.T)
    return np.argmin(distances, axis=1)


def _check_array(value, shape, name):
    if value is None:
        return None
    array = np.asarray(value, dtype=float)
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite with shape {shape}, got shape {array.shape}.")
    return array


def _covariances_of(precisions, covariance_type, K, d):
    """The covariances (in the structure's shape) of GaussianMixture-shaped precisions."""
    shape = {"full": (K, d, d), "tied": (d, d), "diag": (K, d), "spherical": (K,)}[covariance_type]
    precisions = _check_array(precisions, shape, "precisions_init")
    if covariance_type in ("diag", "spherical"):
        if np.any(precisions <= 0):
            raise ValueError("precisions_init must be positive.")
        return 1.0 / precisions
    matrices = precisions[None] if covariance_type == "tied" else precisions
    try:
        covariances = np.array([np.linalg.inv(_checked_spd(p)) for p in matrices])
    except np.linalg.LinAlgError:
        raise ValueError("precisions_init must be symmetric positive definite.") from None
    return covariances[0] if covariance_type == "tied" else covariances


def _checked_spd(matrix):
    if not np.allclose(matrix, matrix.T):
        raise np.linalg.LinAlgError
    np.linalg.cholesky(matrix)
    return matrix
