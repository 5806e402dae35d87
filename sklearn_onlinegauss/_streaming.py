"""What every estimator that learns from a stream needs once.

:class:`StreamingMixin` holds the bookkeeping around the core that a second
estimator would otherwise copy: the validation shortcut for the streaming
case, the parameter snapshot that lets a fitted ``partial_fit`` skip
re-validation, undoing what ``validate_data`` recorded when a call fails,
and the pass of mini-batch steps (:func:`stream`), which returns a new
:class:`Carry` and touches nothing, so that a failed call changes no state.
"""

import math
from contextlib import contextmanager
from functools import cache
from operator import attrgetter
from typing import NamedTuple

import numpy as np

from ._averaging import update_average
from ._compat import check_sample_weight, validate_data

__all__ = ["Carry", "StreamingMixin", "stream"]

_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


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
        ``step(state, X_batch, w_batch, t) -> (state, shrunk)``, ``t`` the
        weight seen before the batch.
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
        state, shrunk = step(state, Xb, wb, t)
        n_seen += n_rows
        n_shrunk += shrunk
        t += weight
        if average_from is not None and t >= average_from:
            average = update_average(average, moments(state), weight)
    return Carry(state, average, t, n_seen, n_shrunk)


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
        return hasattr(self, "_state") and self._param_values() == self._validated_params

    def _validate_input(self, X, sample_weight, reset):
        """``(X, w)`` as float64 arrays, ``w`` None for unit weights."""
        if sample_weight is not None:
            # Check the weights against the raw X first, so that nothing
            # (not even n_features_in_) is set when they are invalid.
            check_sample_weight(sample_weight, X)
        X = self._check_X(X, reset)
        if sample_weight is None:
            return X, None  # unit weights, without materializing them
        return X, check_sample_weight(sample_weight, X)

    def _check_X(self, X, reset=False):
        """``validate_data``, with a shortcut for plain arrays when not resetting."""
        if not reset and self._is_plain_valid_array(X):
            return np.asarray(X, dtype=np.float64)
        return validate_data(self, X, reset=reset, dtype=np.float64)

    def _is_plain_valid_array(self, X):
        """Whether ``validate_data(reset=False)`` would accept ``X`` unchanged.

        A shortcut for the streaming case (many calls on small arrays), where
        ``validate_data`` costs more than the update itself: a 2-D real
        ndarray of the fitted width with finite values, for an estimator
        fitted without feature names. Anything else goes through
        ``validate_data`` and gets its errors and warnings.
        """
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and X.dtype.kind in "fiu"
            and not hasattr(self, "feature_names_in_")
            # One pass with no temporary; an overflowing sum of finite values
            # merely takes the slow path.
            and math.isfinite(X.sum())
        )

    @contextmanager
    def _input_attributes_kept_on_error(self, active=True):
        """Undo what validate_data recorded (width, names) if the call then fails.

        Everything else a call changes is assigned at its end, in one commit.
        """
        if not active:
            yield
            return
        before = {k: v for k, v in vars(self).items() if k in _INPUT_ATTRIBUTES}
        try:
            yield
        except BaseException:
            for name in _INPUT_ATTRIBUTES:
                if name in before:
                    setattr(self, name, before[name])
                else:
                    self.__dict__.pop(name, None)
            raise
