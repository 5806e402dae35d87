"""OnlineGaussian: one Gaussian, the K=1 case of the core, streamed by gradient ascent."""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._averaging import averaging_start
from ._compat import Interval, InvalidParameterError, StrOptions, _fit_context
from ._gaussians import scoring_rows
from ._parametrizations import PARAMETRIZATIONS
from ._schedules import SCHEDULES, Rate, check_pooling_rate
from ._shrinkage import centred_fourth_moment, ledoit_wolf_shrinkage, oas_shrinkage, shrink
from ._solvers import SOLVERS, TrackedState, make_solver
from ._streaming import (
    Carry,
    NothingToLearn,
    StreamingMixin,
    cached_read,
    call_lock,
    check_fitted,
    stream,
)
from ._threads import blas_threads_for, natural_step_work, scoring_threads_for
from .exceptions import ShrunkStepWarning, _warn, outside_stacklevel

#: Version of the learned state's layout; a pickle of another layout is refused.
_FORMAT = 2

#: The same text at every call, so that Python's default filter shows it once.
_SHRUNK_MESSAGE = (
    "Some {!r} steps would have changed the covariance by more than a factor 2 or left "
    "the positive-definite cone, and were shrunk (n_steps_shrunk_ counts them). The step "
    "size is too large for the scale of the data: use a smaller learning rate "
    "(learning_rate='constant' or 'invscaling' with a smaller eta0), standardize the "
    "features, or use solver='natural'."
)

__all__ = ["OnlineGaussian"]


class OnlineGaussian(DensityMixin, StreamingMixin, BaseEstimator):
    """Multivariate Gaussian fitted online by stochastic gradient ascent on the log-likelihood.

    Each mini-batch moves the mean and covariance along the gradient of its
    log-likelihood.  The default natural-gradient solver with the
    ``'optimal'`` schedule is exactly the running maximum-likelihood estimate:
    any chunking of the stream through :meth:`partial_fit` gives the same
    result as :class:`~sklearn.covariance.EmpiricalCovariance` on all the data
    (``reg_covar`` acts only where the data do not determine it), in one pass
    and ``O(n_features**2)`` memory; with ``shrinkage='ledoit-wolf'`` or
    ``'oas'`` it is :class:`~sklearn.covariance.LedoitWolf` or
    :class:`~sklearn.covariance.OAS` on all the data.

    Parameters
    ----------
    solver : {'natural', 'riemannian', 'sgd', 'adam'}, default='natural'
        Update rule.

        - ``'natural'``: natural gradient (Fisher-preconditioned) on
          ``(mu, Sigma)``. Affine-invariant, so its behaviour does not depend
          on units, offsets or conditioning, and positive definite by
          construction.
        - ``'riemannian'``: gradient ascent on the positive-definite cone
          under the affine-invariant metric, along its geodesics (the
          exponential map): the natural gradient's direction, a curved step
          where ``'natural'`` takes a straight one, held to the trust region
          below. Measured (d=10, 3 seeds, ``'optimal'`` schedule): 0.98-1.01
          times the batch MLE's KL after 1e5 rows in batches of 100 at
          condition 10, 1e6 and 1e8 alike, 0.99-1.03 one row at a time
          after 2e4 rows.
        - ``'sgd'``: Euclidean gradient ascent in the coordinates given by
          `parametrization`.
        - ``'adam'``: Adam in those coordinates.

        The Euclidean solvers are here to be compared, not because they are
        competitive: their progress scales with the condition number squared.
        Measured by ``benchmarks/efficiency.py`` (d=10, 1e5 samples in batches
        of 100, default schedule), the KL divergence to the true distribution
        is 1.0 times the batch MLE's for ``'natural'`` at condition number 10
        and 1e6 alike, but 8.0-464 times it for ``'sgd'`` / ``'adam'`` at
        condition 10 and 440-1360 times at condition 1e6 (still decreasing
        with more data); with ``preconditioner='whiten'`` 1.00-1.11 times at
        condition 10, 1e6 and 1e8 alike (figures under `preconditioner`).
        Each Euclidean step is limited to a trust region (the
        covariance may change by at most a factor 2 in any direction, the mean
        by one standard deviation); shrunk steps are counted in
        `n_steps_shrunk_`. They start from the exact moments of the first
        ``5 * (n_features + 1)`` samples: a gradient step needs a
        nonsingular covariance, and one that is not nearly singular in some
        direction (from ``n_features + 1`` samples, runs one row at a time
        could stay stuck there for 1e5 rows).

    parametrization : {'cholesky', 'precision', 'covariance'}, default='cholesky'
        Coordinates of the ``'sgd'`` and ``'adam'`` steps: the log-diagonal
        Cholesky factor of the covariance, the log-diagonal Cholesky factor
        of the precision, or the covariance matrix itself (the textbook
        update). Ignored by ``solver='natural'`` and ``'riemannian'``.

    preconditioner : {None, 'whiten'}, default=None
        For ``'sgd'`` and ``'adam'``: ``'whiten'`` takes their steps in
        coordinates whitened by a running pilot estimate (the exact running
        mean and covariance of the data), in the parametrization's own
        coordinates of the whitened problem, with each coordinate's gradient
        divided by its Fisher information there (a constant of the
        parametrization), so that their progress no longer depends on the
        data's conditioning. Measured by ``benchmarks/efficiency.py``
        (section 3, d=10, median of 5 seeds, condition 10 / 1e6 / 1e8):
        whitened ``'sgd'`` is 1.004 / 1.004 / 1.005 times the batch MLE's KL
        after 1e5 rows in batches of 100 and 0.998 / 0.999 / 0.999 after 2e4
        rows one at a time (1.06 and 1.13 in the covariance coordinates);
        whitened ``'adam'`` 1.04 / 1.11 / 1.10 and 1.04 / 0.98 / 0.98. One
        row at a time at condition 10, no run of any parametrization ends
        above 1.5 times the MLE's KL after 1e5 rows (10 seeds,
        ``benchmarks/stuck_runs.py``). Ignored by the other solvers.

    covariance_type : {'full', 'diag', 'spherical'}, default='full'
        Structure of the covariance. The natural solver stores ``'diag'`` as
        ``n_features`` variances and ``'spherical'`` as one, and never forms
        a ``(n_features, n_features)`` array for them (``O(n_features)``
        time per row and memory); only reading `covariance_` or
        `precision_` builds the matrix. The Euclidean solvers step in full
        matrices projected onto the structure. `covariance_` is always the
        full ``(n_features, n_features)`` matrix.

    learning_rate : {'optimal', 'constant', 'invscaling', 'adaptive'}, default='optimal'
        Per-sample step size as a function of the total sample weight ``t``
        seen.

        - ``'optimal'``: ``1 / t``. With ``solver='natural'`` this is the exact
          streaming maximum-likelihood estimate.
        - ``'constant'``: ``eta0``. Exponential forgetting with an effective
          memory of about ``1 / eta0`` samples, for drifting streams. With
          ``solver='natural'`` each row replaces the fraction ``eta0`` of the
          estimate (so ``eta0 < 1``): pandas'
          ``ewm(alpha=eta0, adjust=False)`` mean and ``cov(bias=True)``.
        - ``'invscaling'``: ``eta0 / t ** power_t``. With ``solver='natural'``
          compounded continuously: a row of weight ``w`` arriving after ``t``
          keeps ``exp(-eta0 * integral_t^(t+w) s**-power_t ds)`` of the
          estimate (``power_t=1, eta0=1`` is exactly ``'optimal'``).
        - ``'adaptive'``: ``eta0`` while the training loss improves; in
          :meth:`fit`, divided by 5 each time it has not improved by `tol`
          for `n_iter_no_change` epochs (as in SGDRegressor). In
          :meth:`partial_fit` it is ``eta0``.

        With ``solver='natural'`` every row takes its own step, in one
        pooled update per batch: rows one at a time, any batching, and an
        integer weight ``k`` in place of ``k`` repeated rows give the same
        estimate, for every schedule. The estimate starts at the first row
        (as pandas' ``ewm(adjust=False)`` and river do), so with
        ``'constant'`` or ``'invscaling'`` even the first batch is weighted
        by the schedule, and `eta0` matters from the first row on. The
        Euclidean solvers take one step of ``w * rate(t)`` per batch of
        weight ``w``.

    eta0 : float, default=0.01
        Initial learning rate of the ``'constant'``, ``'invscaling'`` and
        ``'adaptive'`` schedules.

    power_t : float, default=0.6
        Exponent of ``'invscaling'``; ``1/2 < power_t <= 1`` satisfies the
        Robbins-Monro conditions.

    average : bool or int, default=False
        Polyak-Ruppert averaging: report the average of the iterates
        (weighted by batch weight) instead of the last one. ``True`` averages
        from the start; an int starts once that total sample weight is seen.

    batch_size : int or 'auto', default='auto'
        Mini-batch size. For ``solver='natural'`` without averaging the
        estimate is the same for any batch size, which only trades speed for
        memory: ``'auto'`` is ``max(1000, 2**18 // n_features, n_features)``
        rows there (about 2 MB, the fastest; at least ``n_features`` rows,
        because each step copies and mirrors its ``d x d`` result, which fewer
        rows do not amortize: at d=4096 batches of 1000 rows run at 0.74-0.83
        times ``X.T @ X``, of 5000 at 0.78-0.82). Otherwise (the Euclidean solvers, or
        averaging, which averages one iterate per batch) ``'auto'`` is
        ``min(200, n_samples)``.

    max_iter : int, default=1000
        Maximum number of epochs (passes over the data) of :meth:`fit`. The
        default solver and schedule need one (see :meth:`fit`).

    tol : float or None, default=1e-3
        :meth:`fit` stops when the training loss (mean negative
        log-likelihood) has not improved by `tol` for `n_iter_no_change`
        consecutive epochs. ``None`` runs `max_iter` epochs.

    n_iter_no_change : int, default=5
        Number of epochs without improvement before stopping.

    shuffle : bool, default=True
        Whether :meth:`fit` shuffles the samples at each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of :meth:`fit`.

    warm_start : bool, default=False
        If True, :meth:`fit` continues from the previous state and step
        counter, as :meth:`partial_fit` does, instead of starting afresh. The
        data must then have the same features, and `solver`,
        `parametrization` and `covariance_type` must be unchanged.

    reg_covar : float, default=1e-6
        What the estimate gets where the data do not determine it. Where
        they do (the correlation matrix, the covariance standardized by its
        diagonal, is numerically positive definite: every eigenvalue above
        ``n_features`` times 256 float64 epsilons)
        it has no effect at all, and `covariance_`, `precision_` and the
        scores are the exact maximum-likelihood ones, at any conditioning.
        With fewer samples than features, duplicated rows or collinear
        features, the directions of the correlation matrix whose eigenvalues
        are only rounding are raised to ``reg_covar``; a feature that has not
        varied gets the variance ``reg_covar`` in its own units (as
        :class:`~sklearn.mixture.GaussianMixture`'s ``reg_covar``). Scaling
        or shifting one feature never changes another feature's fill-in. It
        is applied when the estimate is read, so changing it takes effect
        without refitting. ``0`` leaves an undetermined estimate singular:
        reading it then raises an error.

    shrinkage : {'ledoit-wolf', 'oas'} or float, default=None
        Shrinkage of the covariance toward ``mu I`` (``mu`` its mean
        variance), for when ``n_samples`` is not much larger than
        ``n_features``: ``(1 - s) S + s mu I``. A float in ``[0, 1]`` is
        ``s`` itself (:class:`~sklearn.covariance.ShrunkCovariance`);
        ``'ledoit-wolf'`` and ``'oas'`` choose it from the data as
        :class:`~sklearn.covariance.LedoitWolf` and
        :class:`~sklearn.covariance.OAS` do, exactly (the same
        `covariance_` and `shrinkage_` as they give on all the data seen),
        in one pass and ``O(n_features**2)`` memory, for any chunking and
        after :func:`~sklearn_onlinegauss.merge`. Those two estimate the
        covariance of all the data seen, so they need the exact running
        estimate: ``solver='natural'``, ``learning_rate='optimal'``, no
        averaging and ``covariance_type='full'``; ``'ledoit-wolf'`` also
        gathers two more sums while fitting (``O(n_features)`` per row), so
        it must be set before fitting. A float works with every setting and,
        like ``'oas'``, can be changed after fitting. For ``'diag'`` a float
        shrinks each variance toward their mean; ``'spherical'`` is
        unchanged by it.

    beta_1 : float, default=0.9
        Adam's decay rate of the first-moment estimate.

    beta_2 : float, default=0.999
        Adam's decay rate of the second-moment estimate.

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    verbose : int, default=0
        Print the loss after each epoch of :meth:`fit`.

    Attributes
    ----------
    location_ : ndarray of shape (n_features,)
        Estimated mean.

    covariance_ : ndarray of shape (n_features, n_features)
        Estimated covariance, after `reg_covar`.

    precision_ : ndarray of shape (n_features, n_features)
        Inverse of `covariance_`.

    shrinkage_ : float
        The shrinkage intensity used: the one `shrinkage` gives, computed
        from the data for ``'ledoit-wolf'`` and ``'oas'``; 0 without
        shrinkage.

    n_features_in_ : int
        Number of features seen during the first call.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during the first call, when they are all
        strings.

    n_samples_seen_ : int
        Number of samples seen: rows of positive weight (a row of weight zero
        counts as absent), each counted once however many epochs :meth:`fit`
        ran over it, as in :class:`~sklearn.preprocessing.StandardScaler`.

    t_ : float
        Total sample weight processed, every epoch counted: the ``t`` of the
        schedules.

    n_iter_ : int
        Epochs run by the last :meth:`fit`; each :meth:`partial_fit` adds one.

    loss_curve_ : list of float
        Mean negative log-likelihood of the training data after each epoch
        of :meth:`fit` (not set by :meth:`partial_fit`).

    n_steps_shrunk_ : int
        Number of Euclidean steps that the trust region shrank or rejected
        (a call that shrinks any issues one
        :class:`~sklearn_onlinegauss.exceptions.ShrunkStepWarning`). Always
        0 for ``solver='natural'``.

    See Also
    --------
    sklearn.covariance.EmpiricalCovariance : Batch maximum-likelihood estimate.
    sklearn.linear_model.SGDRegressor : The schedules and stopping rule followed here.

    Notes
    -----
    The natural-gradient step on a batch with mean ``m``, covariance ``C``
    and ``delta = m - mu`` is::

        mu    <- mu + eta delta
        Sigma <- (1 - eta) Sigma + eta C + eta (1 - eta) delta delta'

    Computation is in float64 whatever the input dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_onlinegauss import OnlineGaussian
    >>> rng = np.random.default_rng(0)
    >>> X = rng.multivariate_normal([1, -2], [[2, 0.5], [0.5, 1]], size=10_000)
    >>> est = OnlineGaussian()
    >>> for chunk in np.array_split(X, 10):
    ...     est = est.partial_fit(chunk)
    >>> est.location_.round(1)
    array([ 1., -2.])
    >>> np.allclose(est.covariance_, np.cov(X.T, bias=True))
    True
    """

    _parameter_constraints = {
        "solver": [StrOptions(set(SOLVERS))],
        "parametrization": [StrOptions(set(PARAMETRIZATIONS))],
        "preconditioner": [None, StrOptions({"whiten"})],
        "covariance_type": [StrOptions({"full", "diag", "spherical"})],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "average": ["boolean", Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "shrinkage": [
            None,
            StrOptions({"ledoit-wolf", "oas"}),
            Interval(Real, 0, 1, closed="both"),
        ],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
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
        self.solver = solver
        self.parametrization = parametrization
        self.preconditioner = preconditioner
        self.covariance_type = covariance_type
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.average = average
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.reg_covar = reg_covar
        self.shrinkage = shrinkage
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.verbose = verbose

    # -- fitting ---------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None):
        """Fit by epochs of shuffled mini-batches until `tol` or `max_iter`.

        With ``solver='natural'``, ``learning_rate='optimal'`` and no
        averaging (the defaults) one pass is already the exact
        maximum-likelihood estimate, and another would only count the data
        twice, so ``fit`` makes one pass, in order (``n_iter_ == 1``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight ``k`` counts like ``k`` copies of
            the row. Not all zero.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with call_lock(self):
            return self._fit(X, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, sample_weight):
        warm = self.warm_start and hasattr(self, "_state")
        if warm:
            self._check_same_structure()
            width = self.n_features_in_
        solver = self._make_solver()
        with self._kept_on_error():
            if warm:  # the features must be the state's: same count, same names
                try:
                    X, w = self._validate_input(X, sample_weight, reset=False)
                except ValueError as exc:
                    raise ValueError(
                        f"{exc} A warm start continues the state learned on {width} "
                        "features; set warm_start=False to fit afresh."
                    ) from None
            else:
                X, w = self._validate_input(X, sample_weight, reset=True)
            if w is not None and not w.any():
                raise ValueError(
                    "All sample weights are zero: fit needs at least one positive weight."
                )
            carry = self._carry() if warm else self._empty_carry(solver, X.shape[1])
            start = carry
            # The caller's RandomState advances only if the fit succeeds.
            rng = copy.deepcopy(check_random_state(self.random_state))
            with blas_threads_for(self._batch_work(*X.shape)):
                carry, epoch, loss_curve = self._epochs(solver, X, w, rng, carry, warm)
            if isinstance(self.random_state, np.random.RandomState):
                self.random_state.set_state(rng.get_state())
            # Samples seen, each once however many epochs ran (t_ counts every pass).
            n_rows = len(X) if w is None else int(np.count_nonzero(w))
            carry = carry._replace(n_seen=start.n_seen + n_rows)
            self._commit(solver, start, carry, epoch, self._param_values())
            self.loss_curve_ = loss_curve
        return self

    def _epochs(self, solver, X, w, rng, carry, warm):
        """Epochs of mini-batch passes until `tol` or `max_iter`: ``(carry, epochs, losses)``."""
        eta0, best, no_improvement = self.eta0, np.inf, 0
        loss_curve = []
        exact = self._one_pass_is_exact()
        for epoch in range(1, self.max_iter + 1):
            order = rng.permutation(len(X)) if self.shuffle and not exact else None
            carry = self._pass(solver, X, w, order, eta0, carry)
            state, factor = self._read(solver, carry)
            structure = solver.structure
            if exact and not warm:  # the state is X's own moments: no pass over X
                raw = solver.moments(carry.state)
                loss = -structure.expected_log_density(factor, raw)[0]
            else:
                log_density = structure.log_density(state, factor, X)[:, 0]
                loss = -np.average(log_density, weights=w)
            loss_curve.append(loss)
            if self.verbose:
                print(f"-- Epoch {epoch}, loss: {loss:.6g}, eta0: {eta0:.3g}")
            if exact:
                break
            if self.tol is None:
                continue
            no_improvement = no_improvement + 1 if loss > best - self.tol else 0
            best = min(best, loss)
            if no_improvement >= self.n_iter_no_change:
                if self.learning_rate == "adaptive" and eta0 > 1e-6:
                    eta0, no_improvement = eta0 / 5, 0
                else:
                    break
        else:
            if self.tol is not None:
                warnings.warn(
                    f"Maximum number of epochs ({self.max_iter}) reached before the loss "
                    "stopped improving; increase max_iter or tol.",
                    ConvergenceWarning,
                    stacklevel=outside_stacklevel(),
                )
        return carry, epoch, loss_curve

    def _one_pass_is_exact(self):
        """Whether a pass of the data gives its exact maximum-likelihood estimate.

        Pooling with ``eta = w / t`` makes each step the running MLE, so the
        order of the rows does not matter and a second pass would only weight
        the data twice against a warm start's earlier data.
        """
        return (
            self.solver == "natural"
            and self.learning_rate == "optimal"
            and averaging_start(self.average) is None
        )

    def partial_fit(self, X, y=None, sample_weight=None):
        """Take one pass over `X` in mini-batches, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of the stream.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights. A chunk whose weights are all zero changes
            nothing.

        Returns
        -------
        self : object
            The updated estimator.
        """
        with call_lock(self):  # calls from several threads take turns
            if self._params_unchanged():  # the streaming case
                return self._update(X, sample_weight, self._solver, self._validated_params)
            return self._validated_partial_fit(X, sample_weight, self._param_values())

    @_fit_context(prefer_skip_nested_validation=True)
    def _validated_partial_fit(self, X, sample_weight, params):
        """partial_fit on a new estimator, or after set_params: validate first."""
        if hasattr(self, "_state"):
            self._check_same_structure()
        solver = self._make_solver()
        try:
            with self._kept_on_error(active=not hasattr(self, "n_features_in_")):
                return self._update(X, sample_weight, solver, params)
        except NothingToLearn:  # a first call of zero weight: nothing recorded
            return self

    def _update(self, X, sample_weight, solver, params):
        X, w = self._validate_input(X, sample_weight, reset=not hasattr(self, "n_features_in_"))
        if w is not None and not w.any():
            if not hasattr(self, "_state"):
                raise NothingToLearn
            return self
        if hasattr(self, "_state"):
            start = self._carry()
        else:
            start = self._empty_carry(solver, X.shape[1])
        one_step = self.solver == "natural" and averaging_start(self.average) is None
        if len(X) == 1 and one_step:  # the streaming case: the pass is one step
            carry = self._one_row_step(solver, X, w, start)
        else:
            with blas_threads_for(self._batch_work(*X.shape)):
                carry = self._pass(solver, X, w, None, self.eta0, start)
        self._commit(solver, start, carry, getattr(self, "n_iter_", 0) + 1, params)
        return self

    def _one_row_step(self, solver, X, w, start):
        """What :meth:`_pass` gives for one row (of positive weight), without its loop.

        The natural step of one row makes no BLAS call, so it needs no thread
        limit either.
        """
        state, _ = solver.step(
            start.state, X, w, start.t, Rate(self.learning_rate, self.eta0, self.power_t)
        )
        weight = 1.0 if w is None else float(w[0])
        return Carry(state, None, start.t + weight, start.n_seen + 1, start.n_shrunk)

    def _check_same_structure(self):
        if self._structure() != self._solver_structure:
            raise ValueError(
                f"The state was learned with {self._solver_structure} (solver, "
                "parametrization, preconditioner, covariance_type, shrinkage='ledoit-wolf') "
                "and cannot "
                f"continue as {self._structure()}. Call fit to start afresh."
            )

    def _structure(self):
        """The hyperparameters that fix what the learned state means."""
        own = self.solver in ("natural", "riemannian")  # steps in the moments themselves
        parametrization = None if own else self.parametrization
        preconditioner = None if own else self.preconditioner
        return (
            self.solver,
            parametrization,
            preconditioner,
            self.covariance_type,
            self._gathers_fourth(),
        )

    def _gathers_fourth(self):
        """Whether the state holds the sums of Ledoit-Wolf shrinkage."""
        return isinstance(self.shrinkage, str) and self.shrinkage == "ledoit-wolf"

    def _check_settings(self):
        """Refuse the combinations of valid hyperparameters that mean nothing."""
        if self.solver == "natural":
            check_pooling_rate(self.learning_rate, self.eta0)
        if isinstance(self.shrinkage, str):
            settings = {
                "solver": (self.solver, "natural"),
                "learning_rate": (self.learning_rate, "optimal"),
                "average": (averaging_start(self.average) is not None, False),
                "covariance_type": (self.covariance_type, "full"),
            }
            wrong = [f"{k}={v!r}" for k, (v, needed) in settings.items() if v != needed]
            if wrong:
                raise InvalidParameterError(
                    f"shrinkage={self.shrinkage!r} estimates the covariance of all the data "
                    "seen, which needs solver='natural', learning_rate='optimal', no "
                    "averaging and covariance_type='full'; got " + ", ".join(wrong) + ". "
                    "Use a float shrinkage with these settings."
                )

    def _make_solver(self):
        """The solver for the current hyperparameters, once they are known to be valid."""
        self._check_settings()
        return make_solver(
            self.solver,
            self.parametrization,
            self.covariance_type,
            self.reg_covar,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            fourth_moments=self._gathers_fourth(),
            preconditioner=self.preconditioner,
        )

    def _carry(self):
        return Carry(
            self._state, self._average, self.t_, self.n_samples_seen_, self.n_steps_shrunk_
        )

    @staticmethod
    def _empty_carry(solver, n_features):
        return Carry(solver.start(n_features), None, 0.0, 0, 0)

    def _batch_size(self, n_samples, n_features):
        if self.batch_size != "auto":
            return self.batch_size
        if self.solver == "natural" and averaging_start(self.average) is None:
            # Any batching gives the same estimate: about 2 MB of rows, at least d.
            return max(1000, 2**18 // n_features, n_features)
        return min(200, n_samples)

    def _batch_work(self, n_samples, n_features):
        """Flops of one BLAS call of a step, which decides whether BLAS threads pay.

        None where no BLAS call would use a second thread.
        """
        rows = min(self._batch_size(n_samples, n_features), n_samples)
        if self.solver == "natural":
            return natural_step_work(rows, n_features)
        return rows * n_features**2 + n_features**3

    def _pass(self, solver, X, w, order, eta0, carry):
        """One pass of mini-batch steps; returns the new carry, touches nothing."""
        rate = Rate(self.learning_rate, eta0, self.power_t)

        def step(state, Xb, wb, t, rows):
            return solver.step(state, Xb, wb, t, rate)

        batch_size = self._batch_size(*X.shape)
        return stream(
            carry, X, w, batch_size, order, step, solver.moments, averaging_start(self.average)
        )

    def _read(self, solver, carry):
        """The estimate of a carry, shrunk and regularized, and its factor."""
        state = solver.moments(carry.state) if carry.average is None else carry.average.state
        shrinkage = self._shrinkage_of(solver, carry)
        if shrinkage:
            state = state._replace(covariances=shrink(state.covariances, shrinkage))
        return solver.structure.regularized(state, self.reg_covar)

    def _shrinkage_of(self, solver, carry):
        """The shrinkage intensity for the learned state ``carry``."""
        if self.shrinkage is None:
            return 0.0
        if not isinstance(self.shrinkage, str):
            return float(self.shrinkage)
        self._check_settings()
        gaussians = solver.moments(carry.state)
        covariance = gaussians.covariances[0]
        if self.shrinkage == "oas":
            return oas_shrinkage(covariance, carry.t)
        if not isinstance(carry.state, TrackedState):
            raise ValueError(
                "shrinkage='ledoit-wolf' needs sums gathered while fitting, and this "
                "estimator was fitted without it: refit with shrinkage='ledoit-wolf' set."
            )
        fourth = centred_fourth_moment(carry.state.fourth, gaussians.means[0], covariance)
        return ledoit_wolf_shrinkage(covariance, carry.t, fourth)

    def _fitted(self):
        """The estimate, its factor and normalizer, once per learned state and settings."""
        check_fitted(self)

        def read():
            with blas_threads_for(self.n_features_in_**3):
                state, factor = self._read(self._solver, self._carry())
            return state, factor, self._solver.structure.normalizers(factor, self.n_features_in_)

        return cached_read(self, (self._state, self._average, self._solver), read)

    def _commit(self, solver, start, carry, n_iter, params):
        self._state, self._average, self.t_, self.n_samples_seen_, self.n_steps_shrunk_ = carry
        if solver is not getattr(self, "_solver", None):  # else: the same settings
            self._solver, self._solver_structure = solver, self._structure()
        self._validated_params = params
        self._format = _FORMAT
        self.n_iter_ = n_iter
        if carry.n_shrunk > start.n_shrunk:
            _warn(_SHRUNK_MESSAGE.format(self.solver), ShrunkStepWarning, outside_stacklevel())

    def __setstate__(self, state):
        if "_state" in state and state.get("_format") != _FORMAT:
            raise ValueError(
                "This OnlineGaussian was saved by sklearn-onlinegauss 0.1, whose learned "
                "state this version stores differently and cannot read. Refit it with "
                "this version, or load it with the version that saved it."
            )
        super().__setstate__(state)

    # -- using the fitted Gaussian ----------------------------------------------

    # Computed from the learned state when read, so that a streaming update
    # costs only the update (no Cholesky factorization per call). Copies: the
    # moments may be the learned state's own arrays, which a caller's
    # in-place edit would otherwise corrupt.

    @property
    def location_(self):
        """ndarray of shape (n_features,): estimated mean."""
        return self._fitted()[0].locations[0]

    @property
    def covariance_(self):
        """ndarray of shape (n_features, n_features): estimated covariance."""
        state = self._fitted()[0]
        return np.array(self._solver.structure.to_full(state)[0])

    @property
    def shrinkage_(self):
        """float: the shrinkage intensity used (0 without shrinkage)."""
        check_fitted(self)
        return self._shrinkage_of(self._solver, self._carry())

    @property
    def precision_(self):
        """ndarray of shape (n_features, n_features): inverse of `covariance_`."""
        factor = self._fitted()[1]
        return self._solver.structure.precisions(factor, self.n_features_in_)[0]

    def _per_row(self, name, X, checked=False):
        """``name`` (a structure's per-row read) of the rows ``X`` (``checked``: validated)."""
        state, factor, normalizers = self._fitted()
        X = X if checked else self._check_X(X)
        d = X.shape[1]
        rows = min(len(X), scoring_rows(d))  # the blocks the distances are computed in
        structure = self._solver.structure
        with scoring_threads_for(rows, d):
            if name == "log_density":
                return structure.log_density(state, factor, X, normalizers)[:, 0]
            return getattr(structure, name)(state, factor, X)[:, 0]

    def score_samples(self, X):
        """Log-density of each sample under the fitted Gaussian.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._per_row("log_density", X)

    def score(self, X, y=None):
        """Mean log-likelihood of `X`, so that model selection maximises it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        float
        """
        return float(np.mean(self.score_samples(X)))

    def mahalanobis(self, X):
        """Squared Mahalanobis distance of each sample to `location_`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._per_row("mahalanobis", X)

    def sample(self, n_samples=1, random_state=None):
        """Draw samples from the fitted Gaussian.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        state, factor, _ = self._fitted()
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        z = check_random_state(random_state).standard_normal((n_samples, self.n_features_in_))
        return self._solver.structure.sample(state, factor, 0, z)
