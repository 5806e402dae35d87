"""OnlineGaussian: one Gaussian, the K=1 face of the streaming base."""

from numbers import Integral

import numpy as np
from sklearn.base import DensityMixin
from sklearn.utils import check_random_state

from ._base import StreamingEstimator
from ._density import (
    DENSITY_CONSTRAINTS,
    SHRUNK_MESSAGE,
    check_shrinkage,
    data_driven_intensity,
    warn_deprecated,
)
from ._gaussians import batch_moments
from ._merge import combine_densities, merged_like
from ._solvers import make_solver
from ._streaming import Carry, check_fitted, read_of_rows
from ._structures import STRUCTURES
from .exceptions import ShrunkStepWarning, _warn, outside_stacklevel

__all__ = ["OnlineGaussian"]


class OnlineGaussian(DensityMixin, StreamingEstimator):
    """Multivariate Gaussian fitted online by stochastic gradient ascent on the log-likelihood.

    The default (``solver='natural'``, ``learning_rate='optimal'``) is exactly
    the running maximum-likelihood estimate: any chunking of the stream through
    :meth:`partial_fit` gives what :class:`~sklearn.covariance.EmpiricalCovariance`
    gives on all the data, in one pass and ``O(n_features**2)`` memory
    (:ref:`theory-pooling`). The user guide compares the solvers, schedules and
    batch sizes and gives the figures.

    Parameters
    ----------
    solver : {'natural', 'riemannian', 'sgd', 'adam'}, default='natural'
        The natural gradient on ``(mu, Sigma)`` (positive definite by
        construction), geodesic steps, or Euclidean steps in `parametrization`
        held to a trust region (counted in `n_steps_shrunk_`).
    parametrization : {'cholesky', 'precision', 'covariance'}, default='cholesky'
        Coordinates of ``'sgd'`` and ``'adam'``.
    preconditioner : {None, 'whiten'}, default=None
        ``'whiten'``: ``'sgd'`` / ``'adam'`` step on data whitened by a running pilot.
    covariance_type : {'full', 'diag', 'spherical'}, default='full'
        Structure of the covariance (`covariance_` is always a full matrix).
    learning_rate : {'optimal', 'constant', 'invscaling', 'adaptive'}, default='optimal'
        Step size after total weight ``t``: ``1 / t`` (the running MLE),
        ``eta0`` (forgetting: a memory of about ``1 / eta0`` rows),
        ``eta0 / t**power_t``, or ``eta0`` divided by 5 when :meth:`fit` stalls.
    eta0 : float, default=0.01
        Rate of ``'constant'``, ``'invscaling'`` and ``'adaptive'``.
    power_t : float, default=0.6
        Exponent of ``'invscaling'``.
    average : bool or int, default=False
        Polyak-Ruppert averaging of the iterates (an int: from that weight on).
    batch_size : int or 'auto', default='auto'
        Rows per step (user guide: "Mini-batches and weights").
    max_iter : int, default=1000
        Most epochs of :meth:`fit` (the exact default needs one).
    tol : float or None, default=1e-3
        :meth:`fit` of a schedule that is not exact stops when the distance
        its estimate still has to go is below the estimate's own noise or a
        KL cost of `tol` (user guide, "When fit stops"); None runs `max_iter`
        epochs.
    n_iter_no_change : int, default="deprecated"
        No longer used: :meth:`fit` stops when the estimate has settled.

        .. deprecated:: 0.2
           It has no effect, and will be removed in 0.4.
    shuffle : bool, default=True
        Whether :meth:`fit` shuffles the rows at each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of :meth:`fit`.
    warm_start : bool, default=False
        :meth:`fit` continues from the learned state.
    reg_covar : float, default=1e-6
        What the estimate gets, when read, where the data do not determine it
        (user guide: "Regularization and shrinkage").
    shrinkage : {'ledoit-wolf', 'oas'} or float, default=None
        Toward `shrinkage_target`: a fixed intensity, or LedoitWolf's / OAS's of
        all the data seen, for any chunking (with the default solver and
        schedule).
    shrinkage_target : {'spherical', 'diag'}, default='spherical'
        What `shrinkage` pulls toward: ``mu I`` (``mu`` the mean variance, as
        :class:`~sklearn.covariance.LedoitWolf`), or the diagonal of the
        estimate (each variance kept, the correlations shrunk; ``'oas'`` is
        for ``mu I`` only). ``mu I`` hurts when the variances differ, as raw
        features' do (:ref:`shrinkage-target`).
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's constants.
    verbose : int, default=0
        Print the loss after each epoch of :meth:`fit`.

    Attributes
    ----------
    location_ : ndarray of shape (n_features,)
    covariance_, precision_ : ndarray of shape (n_features, n_features)
        After `reg_covar` and `shrinkage`.
    shrinkage_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    n_samples_seen_ : int
        Rows of positive weight seen, each once however many epochs ran.
    t_ : float
        Total weight processed, every epoch counted: the schedules' ``t``.
    n_iter_ : int
    loss_curve_ : list of float
        Mean negative log-likelihood after each epoch of :meth:`fit`.
    n_steps_shrunk_ : int

    See Also
    --------
    sklearn.covariance.EmpiricalCovariance : Batch maximum-likelihood estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_onlinegauss import OnlineGaussian
    >>> X = np.random.default_rng(0).multivariate_normal([1, -2], [[2, 0.5], [0.5, 1]], 10_000)
    >>> est = OnlineGaussian()
    >>> for chunk in np.array_split(X, 10):
    ...     est = est.partial_fit(chunk)
    >>> np.allclose(est.covariance_, np.cov(X.T, bias=True))
    True
    """

    _parameter_constraints = DENSITY_CONSTRAINTS
    _structural_params = ("solver", "parametrization", "preconditioner", "covariance_type")
    _fitted_names = (*StreamingEstimator._fitted_names, "n_steps_shrunk_", "loss_curve_")

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
        n_iter_no_change="deprecated",
        shuffle=True,
        random_state=None,
        warm_start=False,
        reg_covar=1e-6,
        shrinkage=None,
        shrinkage_target="spherical",
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
        self.shrinkage_target = shrinkage_target
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.verbose = verbose

    # -- the hooks -----------------------------------------------------------------

    def _structure_values(self):
        own = self.solver in ("natural", "riemannian")  # steps in the moments themselves
        return (
            ("solver", self.solver),
            ("parametrization", None if own else self.parametrization),
            ("preconditioner", None if own else self.preconditioner),
            ("covariance_type", self.covariance_type),
            ("shrinkage='ledoit-wolf' (sums gathered)", self._gathers_fourth()),
        )

    def _gathers_fourth(self):
        return isinstance(self.shrinkage, str) and self.shrinkage == "ledoit-wolf"

    def _check_settings(self):
        """Refuse settings that mean nothing together; build the solver of the valid ones."""
        warn_deprecated(self)
        if self.solver == "natural":
            super()._check_settings()
        check_shrinkage(self)
        self._solver = make_solver(
            *(self.solver, self.parametrization, self.covariance_type, self.reg_covar),
            *(self.beta_1, self.beta_2, self.epsilon),
            fourth_moments=self._gathers_fourth(),
            preconditioner=self.preconditioner,
        )

    def _structure(self):
        return STRUCTURES[self.covariance_type]

    def _moments(self, state):
        return self._solver.moments(state)

    def _pooled(self):
        return self.solver == "natural" and super()._pooled()

    def _one_pass_is_exact(self):
        return self.learning_rate == "optimal" and self._pooled()

    def _batch_work(self, n_samples, n_features):
        if self.solver == "natural":
            return super()._batch_work(n_samples, n_features)
        rows = min(self._batch_size(n_samples, n_features), n_samples)
        return rows * n_features**2 + n_features**3

    def _start(self, X, y, rng):
        return Carry(self._solver.start(X.shape[1]), None, 0.0, 0, 0)

    def _step(self, rate, y):
        solver = self._solver
        return lambda state, Xb, wb, t, rows: solver.step(state, Xb, wb, t, rate)

    def _learn(self, carry, X, y, w, order, rng, eta0=None):
        if len(X) > 1 or not self._pooled():
            return super()._learn(carry, X, y, w, order, rng, eta0)
        # One row: the pass is one step, and the natural step of a row makes no BLAS call.
        state, _ = self._solver.step(carry.state, X, w, carry.t, self._rate(eta0))
        weight = 1.0 if w is None else float(w[0])
        return Carry(state, None, carry.t + weight, carry.n_seen + 1, carry.n_shrunk), None

    def _epoch_scorer(self, X, w, own):
        """The loss of each epoch: minus the mean log-density of ``X`` under its estimate,
        from ``X``'s moments (one pass, before the epochs) instead of a pass an epoch:
        ``-1/2 (d log 2 pi + log det Sigma + tr(Sigma^-1 C) + (m - mu)' Sigma^-1 (m - mu))``
        for ``X``'s mean ``m`` and covariance ``C``."""
        structure = self._structure()
        if own:  # the state is X's own moments
            data, mean = None, None
        else:
            _, mean, covariance = batch_moments(X, w)
            data = structure.from_full(mean[None], covariance[None])

        def loss(carry, score, read):
            state, factor = read()
            moments = self._moments(carry.state) if own else data
            spread = structure.expected_log_density(factor, moments)
            off = 0.0 if own else structure.mahalanobis(state, factor, mean[None])[0, 0]
            return float(0.5 * off - spread[0])

        return loss

    def _committed(self, carry, start, converged):
        self.n_steps_shrunk_ = carry.n_shrunk
        if carry.n_shrunk > start.n_shrunk:
            _warn(SHRUNK_MESSAGE.format(self.solver), ShrunkStepWarning, outside_stacklevel())

    def _intensities(self, carry):
        if not isinstance(self.shrinkage, str):
            return super()._intensities(carry)
        check_shrinkage(self)
        moments = self._moments(carry.state)
        target = self.shrinkage_target
        return data_driven_intensity(self.shrinkage, carry.state, moments, carry.t, target)

    @classmethod
    def _merged(cls, parts):
        return merged_like(parts[0], combine_densities(parts), max(p.n_iter_ for p in parts))

    # -- the fitted Gaussian ----------------------------------------------------------

    @property
    def location_(self):
        """ndarray of shape (n_features,): estimated mean."""
        return self._fitted()[0].locations[0]

    @property
    def covariance_(self):
        """ndarray of shape (n_features, n_features): estimated covariance."""
        return np.array(self._structure().to_full(self._fitted()[0])[0])

    @property
    def shrinkage_(self):
        """float: the shrinkage intensity used (0 without shrinkage)."""
        check_fitted(self)
        return float(self._intensities(self._learned()))

    @property
    def precision_(self):
        """ndarray of shape (n_features, n_features): inverse of `covariance_`."""
        return self._structure().precisions(self._fitted()[1], self.n_features_in_)[0]

    def get_precision(self):
        """The precision matrix, as :meth:`sklearn.covariance.EmpiricalCovariance.get_precision`.

        Returns
        -------
        ndarray of shape (n_features, n_features)
            `precision_`, the inverse of `covariance_`.
        """
        return np.array(self.precision_)

    def error_norm(self, comp_cov, norm="frobenius", scaling=True, squared=True):
        """The distance from `covariance_` to ``comp_cov``, as EmpiricalCovariance's.

        Parameters
        ----------
        comp_cov : array-like of shape (n_features, n_features)
            The covariance to compare with.
        norm : {'frobenius', 'spectral'}, default='frobenius'
            Of ``comp_cov - covariance_``: the square root of the sum of its
            squared entries, or its largest singular value.
        scaling : bool, default=True
            Divide the squared norm by ``n_features``.
        squared : bool, default=True
            The squared norm, or the norm.

        Returns
        -------
        float

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_onlinegauss import OnlineGaussian
        >>> X = np.random.default_rng(0).normal(size=(1000, 2))
        >>> est = OnlineGaussian().fit(X)
        >>> round(est.error_norm(np.eye(2)), 4)
        0.0019
        """
        covariance = self.covariance_
        comp_cov = np.asarray(comp_cov, dtype=float)
        if comp_cov.shape != covariance.shape:
            raise ValueError(
                f"comp_cov must have shape {covariance.shape} (n_features, n_features), "
                f"got {comp_cov.shape}."
            )
        error = comp_cov - covariance
        if norm == "frobenius":
            squared_norm = float(np.sum(error**2))
        elif norm == "spectral":
            squared_norm = float(np.max(np.linalg.svd(error.T @ error, compute_uv=False)))
        else:
            raise ValueError(f"norm must be 'frobenius' or 'spectral', got {norm!r}.")
        if scaling:
            squared_norm /= error.shape[0]
        return squared_norm if squared else float(np.sqrt(squared_norm))

    def _per_row(self, name, X):
        """``name`` (a structure's per-row read) of the rows ``X``, for the one component."""
        state, factor, normalizers = self._fitted()
        X = self._check_X(X)
        structure = self._structure()  # on the threads read_of_rows set for the call
        if name == "log_density":
            return structure.log_density(state, factor, X, normalizers)[:, 0]
        return getattr(structure, name)(state, factor, X)[:, 0]

    @read_of_rows
    def score_samples(self, X):
        """Log-density of each row under the fitted Gaussian, shape (n_samples,)."""
        return self._per_row("log_density", X)

    def score(self, X, y=None):
        """Mean log-likelihood of `X` (higher is better), for model selection."""
        return float(np.mean(self.score_samples(X)))

    @read_of_rows
    def mahalanobis(self, X):
        """Squared Mahalanobis distance of each row to `location_`, shape (n_samples,)."""
        return self._per_row("mahalanobis", X)

    def sample(self, n_samples=1, random_state=None):
        """Draw ``n_samples`` rows from the fitted Gaussian, shape (n_samples, n_features)."""
        state, factor, _ = self._fitted()
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        z = check_random_state(random_state).standard_normal((n_samples, self.n_features_in_))
        return self._structure().sample(state, factor, 0, z)
