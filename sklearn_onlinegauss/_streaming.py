"""What every estimator that learns from a stream needs once.

:class:`StreamingMixin` holds the bookkeeping around the core that a second
estimator would otherwise copy: the validation shortcut for the streaming
case, the parameter snapshot that lets a fitted ``partial_fit`` skip
re-validation, undoing what ``validate_data`` recorded when a call fails,
and the pass of mini-batch steps (:func:`stream`), which returns a new
:class:`Carry` and touches nothing, so that a failed call changes no state.
"""

import functools
import math
import threading
import weakref
from contextlib import contextmanager
from functools import cache
from operator import attrgetter, is_
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from ._averaging import update_average
from ._compat import check_sample_weight, validate_data
from ._linalg import block_threads_for

__all__ = [
    "Carry",
    "NothingToLearn",
    "StreamingMixin",
    "cached_read",
    "call_lock",
    "check_fitted",
    "read_of_rows",
    "stream",
]


class Carry(NamedTuple):
    """Everything a pass of mini-batches reads and returns."""

    state: object
    average: object
    t: float
    n_seen: int
    n_shrunk: int


def stream(carry, X, w, batch_size, order, step, moments, average_from):
    """One pass of mini-batch steps over ``X``; returns the new :class:`Carry`.

    Parameters
    ----------
    carry : Carry
    X : ndarray of shape (n_samples, n_features)
    w : ndarray of shape (n_samples,) or None
        Sample weights (None: unit weights). Batches of zero weight are skipped.
    batch_size : int
    order : ndarray of shape (n_samples,) or None
        Row order of the pass (None: as given).
    step : callable
        ``step(state, X_batch, w_batch, t, rows) -> (state, shrunk)``, ``t`` the
        weight seen before the batch and ``rows`` its rows' positions in ``X``
        (for what the caller holds beside ``X``, such as labels).
    moments : callable
        ``moments(state) -> Gaussians``, the iterate to average.
    average_from : float or None
        Total weight from which the iterates are averaged; None: never.
    """
    state, average, t, n_seen, n_shrunk = carry
    for start in range(0, len(X), batch_size):
        if order is None and len(X) <= batch_size:  # the streaming case: one batch
            rows, Xb = slice(None), X
        else:
            batch = slice(start, start + batch_size)
            rows = batch if order is None else order[batch]
            Xb = X[rows]
        if w is None:
            wb, weight, n_rows = None, len(Xb), len(Xb)
        else:
            wb = w[rows]
            weight, n_rows = wb.sum(), np.count_nonzero(wb)
            if weight == 0:
                continue
        state, shrunk = step(state, Xb, wb, t, rows)
        n_seen += n_rows
        n_shrunk += shrunk
        t += weight
        if average_from is not None and t >= average_from:
            average = update_average(average, moments(state), weight)
    return Carry(state, average, t, n_seen, n_shrunk)


def read_of_rows(read):
    """Decorator of a read ``read(self, X, ...)``: the whole call (validation included) on
    the BLAS threads its blocks use (:func:`~._linalg.block_threads_for` of the rows' work),
    set once, so that a read never wakes a BLAS thread its blocks would not use."""

    @functools.wraps(read)
    def read_on_threads(self, X, *args, **kwargs):
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) != 2 or 0 in shape:  # validation will say
            return read(self, X, *args, **kwargs)
        rows, d = shape
        with block_threads_for(rows * d * d):
            return read(self, X, *args, **kwargs)

    return read_on_threads


#: Largest magnitude whose square float64 holds, with room for sums.
_SQUARABLE = 1e150


def _refuse_hidden_values(X):
    """Refuse inputs whose numbers are not what they seem: masked, or dates."""
    if isinstance(X, np.ma.MaskedArray) and np.ma.getmaskarray(X).any():
        raise ValueError(
            "X is a masked array with masked values, which would be fitted as the values "
            "behind the mask; fill them (X.filled(...)) or drop their rows first."
        )
    dtypes = list(getattr(X, "dtypes", []))  # a DataFrame's columns
    dtypes.append(getattr(X, "dtype", None))
    if any(isinstance(t, np.dtype) and t.kind in ("m", "M") for t in dtypes):
        raise ValueError(
            "X holds dates or durations (datetime64 / timedelta64): they are not "
            "measurements to fit a Gaussian to; convert them to numbers explicitly."
        )


def _squares_sum_finitely(X):
    """Whether ``sum(X**2)`` is finite: every value finite and squarable, in one BLAS pass.

    In ``X``'s own dtype (a float32 batch is not copied); ``vdot`` raises no
    floating-point warning on overflow.
    """
    flat = X.reshape(-1)
    return math.isfinite(np.vdot(flat, flat))


def _check_values(X, estimator):
    """Refuse NaN or infinity (scikit-learn's own error) and values too large to square.

    One pass when all is well: the sum of squares is finite exactly when
    every value is and squares without overflow.
    """
    if _squares_sum_finitely(X):
        return
    check_array(X, dtype=None, input_name="X", estimator=estimator)  # NaN or infinity
    largest = float(np.abs(X).max())
    if largest > _SQUARABLE:
        raise ValueError(
            f"X has values as large as {largest:.3g}: their squares overflow float64 "
            f"(the largest usable magnitude is about {_SQUARABLE:.0e}). Rescale the "
            "features, e.g. with sklearn.preprocessing.StandardScaler."
        )


#: Smallest positive sample weight: below it, ratios of weights lose their precision.
_SMALLEST_WEIGHT = 1e-150


def _check_weights(w):
    """Refuse weights whose sum overflows, or positive weights too small to count."""
    if not math.isfinite(w.sum()):
        raise ValueError(
            "sample_weight sums to more than float64 holds; only their ratios matter to the "
            "exact schedule, so divide them by a constant."
        )
    positive = w[w > 0]
    if len(positive) and positive.min() < _SMALLEST_WEIGHT:
        raise ValueError(
            f"sample_weight has positive weights as small as {positive.min():.3g}; below "
            f"{_SMALLEST_WEIGHT:.0e} float64 cannot weigh them against others. Multiply the "
            "weights by a constant, or set the negligible ones to 0."
        )


_LOCKS = weakref.WeakKeyDictionary()

#: The last read of each kind of each estimator, ``{name: ((learned,
#: params), value)}``, kept beside it like its lock, so that pickles, clones
#: and ``get_params`` never see it.
_READS = weakref.WeakKeyDictionary()


def check_fitted(estimator, attribute="_state"):
    """scikit-learn's ``check_is_fitted(estimator, attribute)``, without its cost when fitted.

    ``check_is_fitted`` reads the estimator's tags on every call, which costs
    more than a one-row read at small ``d`` does otherwise; a fitted estimator has
    the attribute in its ``__dict__``, and one without it gets scikit-learn's
    own error.
    """
    if attribute not in vars(estimator):
        check_is_fitted(estimator, attribute)


def cached_read(estimator, learned, compute, name="estimate"):
    """``compute()``, or what it gave for the same learned state and parameters.

    ``learned`` are the objects the read depends on, compared by identity:
    an update replaces them and none is changed in place. The
    hyperparameters are compared by value, so ``set_params`` of any of them
    reads afresh. ``name`` tells apart reads of different things, which do
    not evict each other. The value is shared by the reads that hit: callers
    return copies of its arrays or arrays computed from them.
    """
    key = (tuple(learned), estimator._param_values())
    entries = _READS.setdefault(estimator, {})
    entry = entries.get(name)
    if entry is not None and _same_key(entry[0], key):
        return entry[1]
    value = compute()
    entries[name] = (key, value)
    return value


def _same_key(old, new):
    """Whether two keys of :func:`cached_read` are the same.

    The learned objects are compared by identity, the parameters by value
    with :func:`_same_value`: a parameter may be an array, whose ``==`` is
    elementwise.
    """
    (old_learned, old_params), (new_learned, new_params) = old, new
    return (
        len(old_learned) == len(new_learned)
        and all(map(is_, old_learned, new_learned))
        and (_identical(old_params, new_params) or _same_value(old_params, new_params))
    )


def _identical(a, b):
    """Whether two tuples hold the same objects, or tuples of the same objects.

    The usual case of :func:`_same_key`'s parameters (``get_params`` gives the
    same objects, each in a new tuple), decided without :func:`_same_value`'s
    walk; False leaves it to that walk.
    """
    return type(a) is type(b) is tuple and len(a) == len(b) and all(map(_same_items, a, b))


def _same_items(a, b):
    return a is b or (type(a) is type(b) is tuple and len(a) == len(b) and all(map(is_, a, b)))


def _same_value(a, b):
    """Whether two parameter values are equal, arrays and containers of them included.

    Arrays are equal when their shapes, dtypes and values are (a copy of an
    array is the same parameter, another dtype is not); tuples, lists and
    dicts elementwise, with the same type; anything else by ``==``, and an
    array-like whose ``==`` has no truth value (a pandas Series) by its
    ``numpy.asarray``.
    """
    if a is b:  # the usual case: get_params gives the same objects
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is tuple or kind is list or isinstance(a, (tuple, list)):
        return len(a) == len(b) and (all(map(is_, a, b)) or all(map(_same_value, a, b)))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return _same_array(a, b)
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # an elementwise ==
        return _same_array(np.asarray(a), np.asarray(b))


def _same_array(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))


_LOCKS_GUARD = threading.Lock()


def call_lock(estimator):
    """The lock that makes an estimator's fitting calls take turns across threads.

    Kept beside the estimator, not in it, so that pickles, copies and
    ``vars`` do not see it.
    """
    try:
        return _LOCKS[estimator]
    except KeyError:
        with _LOCKS_GUARD:
            return _LOCKS.setdefault(estimator, threading.Lock())


class NothingToLearn(Exception):
    """Raised inside a first call that brings no weight, to undo what validation recorded."""


@cache
def _param_getter(cls):
    return attrgetter(*cls._parameter_constraints)


class StreamingMixin:
    """Validation and bookkeeping shared by the ``partial_fit`` estimators.

    The learned state lives in ``_state``; ``_validated_params`` is the
    snapshot of the hyperparameters it was last validated with.
    """

    def __sklearn_is_fitted__(self):
        # sklearn's own test scans vars() on every partial_fit; this is O(1).
        return hasattr(self, "_state")

    def _param_values(self):
        """The hyperparameters with their types: ``10.0`` is not ``10``, ``0`` not ``False``."""
        values = _param_getter(type(self))(self)
        return values, tuple(map(type, values))

    def _params_unchanged(self):
        """Whether a fitted estimator may continue without validating its parameters.

        For a fitted estimator's ``partial_fit`` with unchanged
        hyperparameters, ``_fit_context`` validates nothing and only opens
        contexts for nested validation and callbacks, which an update does not
        use; they would cost more than a one-row update.
        """
        if not hasattr(self, "_state"):
            return False
        try:
            return self._param_values() == self._validated_params
        except ValueError:  # an array parameter replaced by another array: validate
            return False

    def _validate_input(self, X, sample_weight, reset):
        """``(X, w)`` as float64 arrays, ``w`` None for unit weights."""
        if sample_weight is not None:
            # Check the weights against the raw X first, so that nothing
            # (not even n_features_in_) is set when they are invalid.
            _check_weights(check_sample_weight(sample_weight, X))
        X = self._check_X(X, reset)
        if sample_weight is None:
            return X, None  # unit weights, without materializing them
        return X, check_sample_weight(sample_weight, X)

    #: The dtypes ``X`` is kept in (others are converted to the first).
    _input_dtypes = (np.float64,)

    def _check_X(self, X, reset=False):
        """``validate_data``, with a shortcut for plain arrays when not resetting."""
        if not reset and self._is_plain_valid_array(X):
            return X if X.dtype.type in self._input_dtypes else X.astype(np.float64)
        _refuse_hidden_values(X)
        with np.errstate(over="ignore"):  # values too large are refused below, in words
            # One pass over X for both checks: scikit-learn's finiteness test
            # (a sum) and ours; its own error for NaN or infinity.
            X = validate_data(
                self, X, reset=reset, dtype=self._input_dtypes, ensure_all_finite=False
            )
            _check_values(X, self)
        return X

    def _is_plain_valid_array(self, X):
        """Whether the checks of :meth:`_check_X` would accept ``X`` unchanged.

        A shortcut for the streaming case (many calls on small arrays), where
        ``validate_data`` costs more than the update itself: a 2-D real
        ndarray of the fitted width whose values are finite and small enough
        to square, for an estimator fitted without feature names. Anything
        else goes through ``validate_data`` and gets its errors and warnings.
        """
        if not (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and X.dtype.kind in "fiu"
            and not hasattr(self, "feature_names_in_")
        ):
            return False
        return _squares_sum_finitely(X)  # else the slow path, even if only the sum overflows

    @contextmanager
    def _kept_on_error(self):
        """Put every attribute back as it was, in its place, if the call fails.

        A shallow copy of ``vars``: an update replaces the learned arrays
        rather than changing them, so the copy is the state before the call,
        and a failed call leaves the estimator bit for bit (its pickle
        included) as it was.
        """
        before = dict(vars(self))
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
