"""Combine estimators fitted on disjoint data into one."""

import math

from sklearn.base import BaseEstimator, clone

from ._averaging import Averaged
from ._base import StreamingEstimator, _same
from ._gaussians import Gaussians, pool
from ._shrinkage import combine_fourth_moments
from ._solvers import EuclideanState, Natural, PreconditionedState, TrackedState, WarmupState
from ._streaming import Carry

__all__ = ["combine_densities", "merge", "merged_like"]

# Settings that do not change what a fitted state means.
_FREE = {"random_state", "verbose", "warm_start", "max_iter", "tol", "n_iter_no_change", "shuffle"}


def merge(estimators):
    """Combine estimators of one kind fitted on disjoint data into one.

    Returns a new fitted estimator with the first input's settings; the
    inputs are left untouched. The parts must have the same settings (those
    of :meth:`fit`'s loop, ``random_state`` and ``verbose`` may differ), the
    same number of features, the same feature names and, for classifiers,
    the same classes. How the learned states combine is each kind's:

    - :class:`OnlineGaussian` with ``solver='natural'``: the states are
      pooled exactly (Chan, Golub & LeVeque): with the ``'optimal'`` schedule
      the result equals fitting all the data at once, to rounding; with other
      schedules it is the same pooling, each part weighted by the weight it
      has seen. ``'sgd'`` / ``'adam'``: the parameters are averaged, weighted
      by the weight seen (parallel SGD, Zinkevich et al., 2010); averaged
      iterates are averaged likewise.
    - :class:`OnlineGaussianClassifier`: each class pooled as above.
    - :class:`OnlineEllipticEnvelope`: the densities pooled, and the
      threshold histograms pooled by the weight each has scored.
    - :class:`OnlineGaussianMixture`: each part's components are matched to
      the first part's (the assignment of highest total log-density of the
      part's means under the first part's components), then pooled
      component by component, each part weighted by the weight it has seen.

    Parameters
    ----------
    estimators : iterable of fitted estimators of one kind

    Returns
    -------
    estimator
        A new fitted estimator of the inputs' kind.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_onlinegauss import OnlineGaussian, merge
    >>> X = np.random.default_rng(0).normal(size=(1000, 3))
    >>> parts = [OnlineGaussian().fit(part) for part in np.array_split(X, 4)]
    >>> np.allclose(merge(parts).covariance_, np.cov(X.T, bias=True))
    True
    """
    estimators = list(estimators)
    _check_compatible(estimators)
    return type(estimators[0])._merged(estimators)


def _settings(estimator):
    """The parameters that must agree for two parts to merge (nested ones included)."""
    return {
        name: value
        for name, value in estimator.get_params(deep=True).items()
        if name.rsplit("__", 1)[-1] not in _FREE and not isinstance(value, BaseEstimator)
    }


def _check_compatible(estimators):
    if not estimators:
        raise ValueError("merge needs at least one estimator.")
    first = estimators[0]
    for i, est in enumerate(estimators):
        if not isinstance(est, StreamingEstimator):
            raise ValueError(
                f"estimators[{i}] is a {type(est).__name__}, not an estimator of "
                "sklearn-onlinegauss."
            )
        if type(est) is not type(first):
            raise ValueError(
                f"estimators[{i}] is a {type(est).__name__}, estimators[0] a "
                f"{type(first).__name__}: merge combines estimators of one kind."
            )
        if not est.__sklearn_is_fitted__():
            raise ValueError(f"estimators[{i}] is not a fitted {type(est).__name__}.")
    settings, names = _settings(first), getattr(first, "feature_names_in_", None)
    for i, est in enumerate(estimators[1:], start=1):
        if est.n_features_in_ != first.n_features_in_:
            raise ValueError(
                f"estimators[{i}] has {est.n_features_in_} features, estimators[0] has "
                f"{first.n_features_in_}."
            )
        other_names = getattr(est, "feature_names_in_", None)
        if (names is None) != (other_names is None) or (
            names is not None and list(names) != list(other_names)
        ):
            raise ValueError(f"estimators[{i}] has other feature names than estimators[0].")
        other = _settings(est)
        differ = sorted(k for k in settings if not _same(settings[k], other.get(k)))
        if differ:
            raise ValueError(
                f"estimators[{i}] has other settings than estimators[0]: {', '.join(differ)}."
            )
        problem = first._merge_problem(est)
        if problem:
            raise ValueError(f"estimators[{i}] {problem} than estimators[0].")


def merged_like(first, carry, n_iter, curve=None):
    """A new estimator with ``first``'s settings and inputs, holding ``carry``.

    Its settings are copies (``clone``): a generator passed as
    ``random_state`` is not advanced by what the merged estimator draws.
    """
    merged = clone(first)
    merged._check_settings()
    merged.n_features_in_ = first.n_features_in_
    if hasattr(first, "feature_names_in_"):
        merged.feature_names_in_ = first.feature_names_in_.copy()
    merged._commit(carry, carry, n_iter, curve, False)
    return merged


def combine_densities(estimators):
    """The learned :class:`Carry` of density parts (:class:`OnlineGaussian`) pooled."""
    first = estimators[0]
    solver = first._solver
    states = [(est._state, est.t_) for est in estimators]
    if isinstance(solver, Natural):
        state = _combine_all(solver, states)
    else:
        state = _merge_euclidean(solver, states)
    average = None
    if any(est._average is not None for est in estimators):
        # A part that has not reached the averaging threshold still holds data:
        # its current estimate stands for it, weighted by the weight it has seen.
        average = _average_all(
            [
                est._average
                if est._average is not None
                else Averaged(solver.moments(est._state), est.t_)
                for est in estimators
            ]
        )
    return Carry(
        state,
        average,
        sum(est.t_ for est in estimators),
        sum(est.n_samples_seen_ for est in estimators),
        sum(est.n_steps_shrunk_ for est in estimators),
    )


def _combine_all(solver, states):
    """The core's exact pooling of states given as ``(state, weight seen)``.

    With Ledoit-Wolf's sums, those are pooled at the same rates, moved to
    the first state's origin.
    """
    total = sum(weight for _, weight in states)
    combined = fourth = None
    for state, weight in states:
        gaussians = solver.moments(state)
        scaled = gaussians._replace(weights=gaussians.weights * (weight / total))
        if combined is None:
            combined, fourth = scaled, getattr(state, "fourth", None)
            continue
        if fourth is not None:
            eta = scaled.weights[0] / (combined.weights[0] + scaled.weights[0])
            fourth = combine_fourth_moments(fourth, combined, state.fourth, gaussians, eta)
        combined = solver.structure.combine(combined, scaled)
    return combined if fourth is None else TrackedState(combined, fourth)


def _pool_warmups(states):
    """Exact pooled moments of warm-up states given as ``(state, weight)``."""
    first, total = states[0]
    location, covariance = first.location, first.covariance
    for state, weight in states[1:]:
        total += weight
        location, covariance = pool(location, covariance, *state[:2], weight / total)
    return WarmupState(location, covariance, total, min(state.unit for state, _ in states))


def _smallest_weight(state):
    """The smallest positive weight a part pooled, where its state keeps it (else inf)."""
    if isinstance(state, PreconditionedState):
        return state.pilot.unit
    return state.unit if isinstance(state, WarmupState) else math.inf


def _merge_euclidean(solver, states):
    if all(isinstance(state, EuclideanState) for state, _ in states):
        total = sum(weight for _, weight in states)
        params = tuple(
            sum(weight / total * state.params[k] for state, weight in states)
            for k in range(len(states[0][0].params))
        )
        return EuclideanState(params, solver.optimizer.init(params))
    warmups = []
    for state, weight in states:
        moments = solver.moments(state)
        full = solver.structure.to_full(moments)[0]
        unit = _smallest_weight(state)
        warmups.append((WarmupState(moments.locations[0], full, weight, unit), weight))
    pooled = _pool_warmups(warmups)
    if all(isinstance(state, WarmupState) for state, _ in states):
        return solver.settle(pooled)
    return solver.begin(pooled)  # a part past its warm-up had the rows: so has the whole


def _average_all(averages):
    total = sum(a.weight for a in averages)
    fields = zip(*(a.state for a in averages), strict=True)
    mean = [sum(a.weight / total * x for a, x in zip(averages, xs, strict=True)) for xs in fields]
    return Averaged(Gaussians(*mean), total)
