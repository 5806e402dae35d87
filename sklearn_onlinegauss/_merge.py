"""Combine estimators fitted on disjoint data into one."""

import numpy as np

from ._averaging import Averaged
from ._classifier import OnlineGaussianClassifier
from ._estimator import OnlineGaussian
from ._gaussians import Gaussians, pool
from ._outlier import OnlineEllipticEnvelope
from ._quantiles import DistanceHistogram
from ._shrinkage import FourthMoments, combine_fourth_moments
from ._solvers import EuclideanState, Natural, TrackedState, WarmupState
from ._streaming import Carry

__all__ = ["merge"]

# Settings that do not change what a fitted state means.
_FREE = {"random_state", "verbose", "warm_start", "max_iter", "tol", "n_iter_no_change", "shuffle"}


def merge(estimators):
    """Combine estimators fitted on disjoint data: Gaussians, their detectors, or classifiers.

    Returns a new fitted estimator; the inputs are left untouched.

    For ``solver='natural'`` the states are pooled exactly (Chan, Golub &
    LeVeque): with the default ``'optimal'`` schedule the result equals fitting
    all the data at once, to rounding, sample weights included. With other
    schedules it is the same pooled combination, each state weighted by the
    sample weight it has seen. For ``'sgd'`` and ``'adam'`` the parameters are
    averaged, weighted by sample weight seen (parallel SGD, Zinkevich et al.,
    2010), and the optimizer's state (Adam's moment estimates) starts afresh;
    estimators still warming up on their first ``5 * (n_features + 1)`` samples are
    pooled exactly. Averaged iterates (``average``) are averaged likewise,
    weighted by the weight each average holds; a part that has not started
    averaging yet enters with its current estimate, weighted by the weight
    it has seen.

    Parameters
    ----------
    estimators : iterable of OnlineGaussian, OnlineEllipticEnvelope or OnlineGaussianClassifier
        Fitted estimators of one kind with the same settings (``random_state`` and the
        settings of :meth:`~OnlineGaussian.fit`'s loop may differ), the same
        number of features and the same feature names.

    Returns
    -------
    estimator
        A fitted estimator of the inputs' kind with the first input's
        settings. Detectors (:class:`OnlineEllipticEnvelope`) also pool
        their thresholds' histograms, each weighted by the weight it has
        scored (each part scored its rows under its own Gaussian).

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
    if estimators and all(isinstance(e, OnlineGaussianClassifier) for e in estimators):
        return _merge_classifiers(estimators)
    _check_compatible(estimators)
    first = estimators[0]
    solver = first._make_solver()
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
    merged = type(first)(**first.get_params())
    carry = Carry(
        state,
        average,
        sum(est.t_ for est in estimators),
        sum(est.n_samples_seen_ for est in estimators),
        sum(est.n_steps_shrunk_ for est in estimators),
    )
    merged.n_features_in_ = first.n_features_in_
    if hasattr(first, "feature_names_in_"):
        merged.feature_names_in_ = first.feature_names_in_.copy()
    merged._commit(
        solver, carry, carry, max(est.n_iter_ for est in estimators), merged._param_values()
    )
    if isinstance(first, OnlineEllipticEnvelope):
        merged._histogram, merged._histogram_weight = _pool_histograms(estimators)
    return merged


def _pool_histograms(detectors):
    """The detectors' distance histograms, each weighted by the weight it has scored."""
    total = sum(d._histogram_weight for d in detectors)
    shares = [d._histogram_weight / total for d in detectors]
    mass = sum(share * d._histogram.mass for share, d in zip(shares, detectors, strict=True))
    squares = sum(
        share**2 * d._histogram.squares for share, d in zip(shares, detectors, strict=True)
    )
    return DistanceHistogram(mass, squares), total


def _merge_classifiers(estimators):
    """Pool classifiers' per-class Gaussians, each part weighted by the weight it has seen."""
    first = estimators[0]
    for i, est in enumerate(estimators):
        if not hasattr(est, "_state"):
            raise ValueError(f"estimators[{i}] is not a fitted OnlineGaussianClassifier.")
        if est.get_params() != first.get_params():
            raise ValueError(f"estimators[{i}] has other settings than estimators[0].")
        if not np.array_equal(est.classes_, first.classes_):
            raise ValueError(f"estimators[{i}] has other classes than estimators[0].")
        if est.n_features_in_ != first.n_features_in_:
            raise ValueError(f"estimators[{i}] has another number of features.")
    structure = first._structure()
    total = sum(est.t_ for est in estimators)
    gathered = first.shrinkage == "ledoit-wolf"
    state = fourth = None
    for est in estimators:
        scaled = est._state._replace(weights=est._state.weights * (est.t_ / total))
        if state is None:
            state, fourth = scaled, gathered and est._gathered_fourth()
            continue
        if gathered:
            fourth = _combine_class_fourth(fourth, state, est._gathered_fourth(), scaled)
        state = structure.combine(state, scaled)
    merged = OnlineGaussianClassifier(**first.get_params())
    if gathered:
        merged._fourth = fourth
    merged.classes_ = first.classes_.copy()
    merged.n_features_in_ = first.n_features_in_
    if hasattr(first, "feature_names_in_"):
        merged.feature_names_in_ = first.feature_names_in_.copy()
    merged._state, merged.t_ = state, total
    merged.n_samples_seen_ = sum(est.n_samples_seen_ for est in estimators)
    merged.class_count_ = sum(est.class_count_ for est in estimators)
    merged._validated_params = merged._param_values()
    return merged


def _combine_class_fourth(a, a_state, b, b_state):
    """Ledoit-Wolf's per-class sums of two classifiers' states, pooled class by class."""
    m3, m4 = a.m3.copy(), a.m4.copy()
    for k in np.flatnonzero(b_state.weights > 0):
        if a_state.weights[k] == 0:
            m3[k], m4[k] = b.m3[k], b.m4[k]
            continue
        one = slice(k, k + 1)
        eta = b_state.weights[k] / (a_state.weights[k] + b_state.weights[k])
        m3[k], m4[k] = combine_fourth_moments(
            FourthMoments(a.m3[k], a.m4[k]),
            _component(a_state, one),
            FourthMoments(b.m3[k], b.m4[k]),
            _component(b_state, one),
            eta,
        )
    return FourthMoments(m3, m4)


def _component(state, one):
    return Gaussians(*(field[one] for field in state))


def _check_compatible(estimators):
    if not estimators:
        raise ValueError("merge needs at least one estimator.")
    for i, est in enumerate(estimators):
        if not isinstance(est, OnlineGaussian) or not hasattr(est, "_state"):
            raise ValueError(f"estimators[{i}] is not a fitted OnlineGaussian.")
    first = estimators[0]
    for i, est in enumerate(estimators[1:], start=1):
        if type(est) is not type(first):
            raise ValueError(
                f"estimators[{i}] is a {type(est).__name__}, estimators[0] a "
                f"{type(first).__name__}: merge combines estimators of one kind."
            )
    settings = {k: v for k, v in first.get_params().items() if k not in _FREE}
    names = getattr(first, "feature_names_in_", None)
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
        other = {k: v for k, v in est.get_params().items() if k not in _FREE}
        differ = sorted(k for k in settings if settings[k] != other[k])
        if differ:
            raise ValueError(
                f"estimators[{i}] has other settings than estimators[0]: {', '.join(differ)}."
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
    (location, covariance, total), _ = states[0]
    for state, weight in states[1:]:
        total += weight
        location, covariance = pool(location, covariance, *state[:2], weight / total)
    return WarmupState(location, covariance, total)


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
        warmups.append((WarmupState(moments.locations[0], full, weight), weight))
    return solver.settle(_pool_warmups(warmups))


def _average_all(averages):
    total = sum(a.weight for a in averages)
    fields = zip(*(a.state for a in averages), strict=True)
    mean = [sum(a.weight / total * x for a, x in zip(averages, xs, strict=True)) for xs in fields]
    return Averaged(Gaussians(*mean), total)
