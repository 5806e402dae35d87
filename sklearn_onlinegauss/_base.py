"""The streaming estimator: the loop written once, the mathematics in each face.

scikit-learn's ``BaseMixture`` split, applied to a stream: :class:`StreamingEstimator`
owns ``fit``, ``partial_fit`` (a failed call changes nothing), the ``set_params`` rule,
the read pipeline (shrink, regularize, factor, cached) and the learned state as named
fields; a face supplies hooks: the state to start from (:meth:`_start`), the row
weights of a batch (:meth:`_step`), its reads, how two states combine (:meth:`_merged`).
"""

import copy
import functools
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._averaging import averaging_start
from ._compat import _fit_context
from ._schedules import Rate, check_pooling_rate
from ._stopping import Settled, rows_and_unit
from ._streaming import Carry, NothingToLearn, StreamingMixin, cached_read, call_lock, stream
from ._threads import blas_threads_for, natural_step_work
from .exceptions import outside_stacklevel

__all__ = ["StreamingEstimator"]

#: Version of the learned state's layout; a pickle of another layout is refused.
STATE_FORMAT = 3


class StreamingEstimator(StreamingMixin, BaseEstimator):
    """The streaming skeleton every estimator of the family shares.

    ``set_params`` between calls: the *structural* parameters (what the learned
    state means) are refused by the next ``partial_fit`` or warm ``fit``, naming
    them; every other takes effect from the next call or read (the user guide's
    "Changing parameters between calls").
    """

    #: Parameters that fix what the learned state means.
    _structural_params = ()
    #: What a fitting call sets besides ``validate_data``'s records: the
    #: learned state, saved by model files and restored when a call fails.
    _fitted_names = ("_state", "_average", "t_", "n_samples_seen_", "n_iter_", "_structure_")

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_state")

    # -- hooks with defaults -----------------------------------------------------

    def _check_settings(self):
        """Refuse combinations of valid parameters that mean nothing (InvalidParameterError)."""
        check_pooling_rate(self.learning_rate, self.eta0)

    def _structure_values(self):
        """The structural parameters' values, as a tuple of ``(name, value)``."""
        return tuple((name, getattr(self, name)) for name in self._structural_params)

    def _check_targets(self, X, y, first, **context):
        """The targets validated against ``X`` (None if unsupervised); ``context``:
        ``fit=True`` from :meth:`fit`, or what a face's ``partial_fit`` passes."""
        return None

    def _one_pass_is_exact(self):
        """Whether one pass is the exact estimate, so that ``fit`` makes one, in order."""
        return False

    def _moments(self, state):
        """The Gaussians of a learned state: what is averaged and read."""
        return state

    def _learned(self):
        """The learned state as a :class:`Carry`."""
        shrunk = getattr(self, "n_steps_shrunk_", 0)
        return Carry(self._state, self._average, self.t_, self.n_samples_seen_, shrunk)

    def _learn(self, carry, X, y, w, order, rng, eta0=None):
        """One pass over the rows: ``(carry, its score or None)``."""
        return self._pass(carry, X, w, order, self._step(self._rate(eta0), y)), None

    def _next_epoch(self, carry):
        """The carry a later epoch of ``fit`` starts from (the one before, by default)."""
        return carry

    def _call_rng(self):
        """A copy of the random state for a ``partial_fit`` that draws (None: it does not)."""
        return None

    # -- the schedule, the batches, the pass -----------------------------------------

    def _rate(self, eta0=None):
        """The schedule of the stream (``eta0``: in place of the parameter's)."""
        return Rate(self.learning_rate, self.eta0 if eta0 is None else eta0, self.power_t)

    def _pooled(self):
        """Whether every row takes its own step, so that the batching changes nothing."""
        return averaging_start(getattr(self, "average", False)) is None

    def _batch_size(self, n_samples, n_features):
        if self.batch_size != "auto":
            return self.batch_size
        if self._pooled():  # any batching gives the same estimate: about 2 MB of rows
            return max(1000, 2**18 // n_features, n_features)
        return min(200, n_samples)

    def _batch_work(self, n_samples, n_features):
        """Flops of one BLAS call of a step, which decides whether BLAS threads pay."""
        rows = min(self._batch_size(n_samples, n_features), n_samples)
        return natural_step_work(rows, n_features)

    def _threads_for(self, X):
        """The BLAS-thread context of a call on ``X``: that of its steps' work."""
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) != 2 or 0 in shape:  # validation will say
            return blas_threads_for(None)
        return blas_threads_for(self._batch_work(*shape))

    def _pass(self, carry, X, w, order, step):
        """One pass of ``step`` over mini-batches of ``X``; returns the new carry."""
        size, start = self._batch_size(*X.shape), averaging_start(getattr(self, "average", False))
        with blas_threads_for(self._batch_work(*X.shape)):
            return stream(carry, X, w, size, order, step, self._moments, start)

    # -- fit ------------------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None):
        """Fit afresh (or from the fitted state with ``warm_start``) until convergence.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or None
            Targets for the faces that have them, else ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight ``k`` counts like ``k`` copies of
            the row. Not all zero.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with call_lock(self), self._threads_for(X):
            return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, y, sample_weight):
        warm = getattr(self, "warm_start", False) and self.__sklearn_is_fitted__()
        if warm:
            self._check_structure()
        with self._kept_on_error():
            self._check_settings()
            if not warm:  # afresh: nothing learned before is read
                for name in self._fitted_names:
                    self.__dict__.pop(name, None)
            X, w = self._fit_input(X, sample_weight, warm)
            y = self._check_targets(X, y, first=not warm, fit=True)
            rng = copy.deepcopy(check_random_state(getattr(self, "random_state", None)))
            start = self._learned() if warm else self._start(X, y, rng)
            carry, curve, converged = self._epochs(start, X, y, w, rng, own=not warm)
            if isinstance(getattr(self, "random_state", None), np.random.RandomState):
                self.random_state.set_state(rng.get_state())  # advanced only on success
            n_rows = len(X) if w is None else int(np.count_nonzero(w))
            carry = carry._replace(n_seen=start.n_seen + n_rows)  # each row once
            self._commit(carry, start, len(curve), curve, converged)
        return self

    def _fit_input(self, X, sample_weight, warm):
        try:  # warm: the features must be the state's, the same count and names
            X, w = self._validate_input(X, sample_weight, reset=not warm)
        except ValueError as exc:
            if not warm:
                raise
            raise ValueError(
                f"{exc} A warm start continues the state learned on "
                f"{self.n_features_in_} features; set warm_start=False to fit afresh."
            ) from None
        if w is not None and not w.any():
            raise ValueError(
                "All sample weights are zero: fit needs at least one positive weight."
            )
        return X, w

    def _epochs(self, carry, X, y, w, rng, own):
        """Passes until the stopping rule or ``max_iter``: ``(carry, curve, converged)``."""
        exact = self._one_pass_is_exact()
        stop, curve = self._stopping_rule(*rows_and_unit(X, w)), []
        epoch_score = self._epoch_scorer(X, w, own and exact)
        for epoch in range(1, 2 if exact else self.max_iter + 1):
            carry = carry if epoch == 1 else self._next_epoch(carry)
            shuffle = getattr(self, "shuffle", True) and not exact
            order = rng.permutation(len(X)) if shuffle else None
            carry, score = self._learn(carry, X, y, w, order, rng, stop.eta0)
            read = functools.cache(functools.partial(self._read, carry))  # once an epoch
            curve.append(epoch_score(carry, score, read))
            if getattr(self, "verbose", 0):
                print(f"-- Epoch {epoch}, {self._curve_label}: {curve[-1]:.6g}{stop.note()}")
            if exact or stop(curve, carry, read):
                break
        else:  # max_iter epochs (all that tol=None asks for)
            stop.converged, stop.message = (
                False,
                stop.message
                or (
                    f"fit did not converge in max_iter={self.max_iter} epochs: the estimate "
                    "still moved by more than its noise or tol. Increase max_iter or tol."
                ),
            )
        if not (exact or stop.converged) and self.tol is not None:
            warnings.warn(stop.message, ConvergenceWarning, stacklevel=outside_stacklevel())
        return carry, curve, exact or stop.converged

    #: The fitted attribute holding the curve of ``fit``'s epochs, and what it is.
    _curve_name, _curve_label = "loss_curve_", "loss"

    def _epoch_scorer(self, X, w, own):
        """What each of ``fit``'s epochs over ``X`` adds to the curve, as a function of the
        epoch's carry, its pass's score and ``read()`` (``self._read(carry)``, computed
        once an epoch): the pass's score by default. ``own``: the carry's state will be
        the moments of ``X`` alone (one exact pass from nothing)."""
        return lambda carry, score, read: score

    def _stopping_rule(self, n_rows, unit):
        """The rule that ends ``fit``'s epochs: ``n_rows`` rows of weight ``unit`` each."""
        return Settled(self, n_rows, unit)

    # -- partial_fit ----------------------------------------------------------------

    def partial_fit(self, X, y=None, sample_weight=None):
        """Learn from one chunk of the stream, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of the stream.
        y : array-like of shape (n_samples,) or None
            Targets for the faces that have them, else ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights. A chunk whose weights are all zero changes
            nothing.

        Returns
        -------
        self : object
            The updated estimator.
        """
        # Calls from several threads take turns; a chunk too small for BLAS threads to pay
        # runs on one thread throughout (validation, step, the face's own reads).
        with call_lock(self), self._threads_for(X):
            if self._params_unchanged():  # the streaming case
                return self._update(X, y, sample_weight, self._validated_params)
            return self._validated_partial_fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def _validated_partial_fit(self, X, y, sample_weight, **context):
        """``partial_fit`` on a new estimator, or after ``set_params``: validate first."""
        if self.__sklearn_is_fitted__():
            self._check_structure()
        try:
            with self._kept_on_error():
                self._check_settings()
                return self._update(X, y, sample_weight, self._param_values(), **context)
        except NothingToLearn:  # a first call of zero weight: nothing recorded
            return self

    def _update(self, X, y, sample_weight, params, **context):
        first = not self.__sklearn_is_fitted__()
        X, w = self._validate_input(X, sample_weight, reset="n_features_in_" not in vars(self))
        y = self._check_targets(X, y, first, **context)
        if w is not None and not w.any():
            if first:
                raise NothingToLearn
            return self
        rng = self._call_rng()
        start = self._start(X, y, rng) if first else self._learned()
        carry, score = self._learn(start, X, y, w, None, rng)
        curve = None if score is None else [score]
        self._commit(carry, start, getattr(self, "n_iter_", 0) + 1, curve, False, params)
        if rng is not None and isinstance(self.random_state, np.random.RandomState):
            self.random_state.set_state(rng.get_state())  # advanced only on success
        return self

    def _commit(self, carry, start, n_iter, curve, converged, params=None):
        """Set the learned state of a call that succeeded, all at once."""
        self._state, self._average, self.t_, self.n_samples_seen_ = carry[:4]
        self.n_iter_ = n_iter
        if curve is not None and None not in curve:  # a face without a loss keeps none
            setattr(self, self._curve_name, list(curve))
        if params is None or params is not getattr(self, "_validated_params", None):
            # Validated settings (the fast path of unchanged ones keeps what it had).
            self._structure_ = self._structure_values()
            self._validated_params = self._param_values() if params is None else params
            self._format = STATE_FORMAT
        self._committed(carry, start, converged)

    def _committed(self, carry, start, converged):
        """What a face records or says after a commit."""

    def _check_loaded(self):
        """Read the learned state once, so that a model file that cannot be read fails now."""
        self._fitted()

    def _merge_problem(self, other):
        """How ``other`` cannot merge with this estimator beyond settings and features, or None."""
        return None

    def _check_structure(self, settings=None, owner=None, prefix=""):
        """Refuse to continue the learned state with other structural ``settings`` (by
        default the estimator's), named by ``owner`` and ``prefix`` (``estimator__``)."""
        learned = dict(self._structure_)
        now = dict(self._structure_values() if settings is None else settings)
        names = learned.keys() | now.keys()
        changed = sorted(n for n in names if not _same(learned.get(n), now.get(n)))
        if changed:
            what = ", ".join(f"{prefix}{n}={learned.get(n)!r} -> {now.get(n)!r}" for n in changed)
            raise ValueError(
                f"{type(owner or self).__name__} was fitted with other structural parameters "
                f"({what}): they fix what the learned state means, so it cannot continue "
                "with them. Call fit (without warm_start) to start afresh, or set them back."
            )

    def __setstate__(self, state):
        if "_state" in state and state.get("_format") != STATE_FORMAT:
            raise ValueError(
                f"This {type(self).__name__} was saved by another version of sklearn-onlinegauss, "
                "whose learned state this version stores differently and cannot read. Refit "
                "it with this version, or load it with the version that saved it."
            )
        super().__setstate__(state)
        # A pickle of an earlier version lacks the parameters added since: their
        # defaults do what that version did (as load_model gives them to its files).
        if any(name not in state for name in self._parameter_constraints):
            import inspect

            for name, param in inspect.signature(type(self)).parameters.items():
                if name not in vars(self) and param.default is not param.empty:
                    setattr(self, name, param.default)

    # -- the read pipeline -------------------------------------------------------------

    def _intensities(self, carry):
        """Shrinkage intensity of each component, or a float for all (0: none)."""
        return 0.0 if self.shrinkage is None else float(self.shrinkage)

    def _read(self, carry):
        """``(Gaussians, factor)``: the carry's estimate shrunk and regularized."""
        state = self._moments(carry.state) if carry.average is None else carry.average.state
        target = getattr(self, "shrinkage_target", "spherical")  # the mixture has only mu I
        state = self._structure().shrink(state, self._intensities(carry), target)
        return self._structure().regularized(state, self.reg_covar)

    def _fitted(self):
        """``(Gaussians, factor, normalizers)``, once per learned state and settings."""
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)  # scikit-learn's own NotFittedError

        def read():
            self._check_structure()  # settings changed since: the state means something else
            with blas_threads_for(self.n_features_in_**3):
                state, factor = self._read(self._learned())
            return state, factor, self._structure().normalizers(factor, self.n_features_in_)

        return cached_read(self, (self._state, self._average), read)


def _same(a, b):
    """Equality of parameter values that may be arrays."""
    if isinstance(a, np.ndarray | list | tuple) or isinstance(b, np.ndarray | list | tuple):
        try:
            return np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
        except ValueError:
            return False
    return type(a) is type(b) and a == b
