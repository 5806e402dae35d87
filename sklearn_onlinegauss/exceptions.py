"""Warnings of sklearn-onlinegauss, each its own class so that it can be filtered."""

import os
import sys
import warnings

__all__ = ["ShrunkStepWarning"]


class ShrunkStepWarning(UserWarning):
    """A Euclidean solver's steps were shrunk by its trust region.

    ``'sgd'`` and ``'adam'`` halve a step that would change the covariance by
    more than a factor 2 in some direction, move the mean by more than one
    standard deviation, or leave the positive-definite cone. It is issued at
    most once per ``fit`` or ``partial_fit`` call, with the same text each
    time (so Python's default filter shows it once); the estimator's
    ``n_steps_shrunk_`` counts the steps. It means the learning rate is too
    large for the scale of the data.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_onlinegauss.exceptions import ShrunkStepWarning
    >>> warnings.simplefilter("ignore", ShrunkStepWarning)
    """


#: Messages already shown under the default action, in this process.
_SHOWN = set()


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def outside_stacklevel():
    """The ``stacklevel`` that points a warning at the first caller outside this package.

    scikit-learn's ``_fit_context`` wrapper counts as inside: it wraps our methods.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = filename.startswith(_PACKAGE) or frame.f_code.co_name == "wrapper"
        if not inside:
            return level
        frame, level = frame.f_back, level + 1
    return level


def _warn(message, category, stacklevel):
    """``warnings.warn``, but shown once per process where the default action applies.

    Python shows a ``'default'`` warning once per place, but its memory of
    places is wiped whenever the filters change, and scikit-learn's parallel
    helpers change them around every fit: a grid search would repeat the same
    warning for every candidate and fold. Other actions are left to Python.
    """
    if _action(message, category) == "default":
        if message in _SHOWN:
            return
        _SHOWN.add(message)
    warnings.warn(message, category, stacklevel=stacklevel + 1)


def _action(message, category):
    """The action of the first filter matching ``category`` and ``message``."""
    for action, text, filtered, _, _ in warnings.filters:
        if issubclass(category, filtered) and (text is None or text.match(message)):
            return action
    return warnings.defaultaction
