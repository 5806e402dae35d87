"""The one place that touches scikit-learn's semi-private helpers.

scikit-learn moves these between releases; importing them here keeps every
other module on public names and makes a version bump a one-file change.
"""

import inspect

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Hidden, Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = [
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_fit_context",
    "check_sample_weight",
    "validate_data",
]

_ALLOWS_ZERO = "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters


def check_sample_weight(sample_weight, X):
    """Validate ``sample_weight`` as non-negative, finite float64 of length ``len(X)``.

    All-zero weights are accepted here; the caller decides what they mean.
    """
    kwargs = {"allow_all_zero_weights": True} if _ALLOWS_ZERO else {}
    return _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True, **kwargs
    )
