"""The mixture's E-step and the initial mixtures its warm-up starts batch EM from."""

import math
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans, kmeans_plusplus

from ._merge import merged_like
from ._streaming import Carry
from ._structures._base import checked_shape

__all__ = [
    "MixtureState",
    "e_step",
    "initial_state",
    "joined_weights",
    "lost_components",
    "merge_mixtures",
    "responsibilities",
    "warm_up",
]


class MixtureState(NamedTuple):
    """The mixture's Gaussians (None before a row per component) and its warm-up rows."""

    gaussians: object
    kept: np.ndarray = None  # the rows seen while warming up; None once online EM took over
    kept_weights: np.ndarray = None  # their sample weights (None: unit weights)
    fitted: int = 0  # how many of them the last warm-up fit had


_LOG_EPS = math.log(np.finfo(float).eps)


def e_step(structure, state, factor, X, normalizers=None):
    """``(log responsibilities (n, K), log-density (n,))`` of the rows ``X``."""
    shares = state.weights / state.weights.sum()
    log_weights = np.log(shares, out=np.full(len(shares), -np.inf), where=shares > 0)
    weighted = structure.log_density(state, factor, X, normalizers) + log_weights
    top = weighted.max(axis=1)  # scipy's logsumexp costs more than the sum on small arrays
    log_norm = np.log(np.exp(weighted - top[:, None]).sum(axis=1)) + top
    weighted -= log_norm[:, None]
    return weighted, log_norm


def responsibilities(log_resp):
    """Responsibilities from their logs, in place; those below float64 rounding are 0.

    A share below 2**-52 of a row is below the rounding of the row's other
    shares; kept, such shares over many steps would give a component moments
    of the size of underflow in features its rows never had.
    """
    log_resp[log_resp < _LOG_EPS] = -np.inf
    return np.exp(log_resp, out=log_resp)


def initial_state(estimator, structure, X, w, rng):
    """The Gaussians batch EM starts from: centres, nearest-centre groups, overrides.

    ``estimator`` gives ``n_components``, ``init_params``, ``means_init``,
    ``weights_init`` and ``precisions_init`` (GaussianMixture's meanings);
    ``w``: the rows' sample weights (None: unit weights).
    """
    K, (n, d) = estimator.n_components, X.shape
    means = _optional(estimator.means_init, (K, d), "means_init")
    if means is not None:
        labels = _nearest(X, means)
    elif estimator.init_params == "kmeans":
        labels = KMeans(K, n_init=1, random_state=rng).fit(X, sample_weight=w).labels_
    else:
        if estimator.init_params == "k-means++":
            centres, _ = kmeans_plusplus(X, K, random_state=rng, sample_weight=w)
        else:
            candidates = np.arange(n) if w is None else np.flatnonzero(w > 0)
            centres = X[rng.choice(candidates, size=K, replace=False)]
        labels = _nearest(X, centres)
    hard = np.zeros((n, K))
    hard[np.arange(n), labels] = 1.0 if w is None else w
    state = structure.step(structure.empty(K, d), X, hard, 1.0)
    weights = _optional(estimator.weights_init, (K,), "weights_init")
    if weights is not None:
        if np.any(weights < 0) or not math.isclose(weights.sum(), 1.0, abs_tol=1e-6):
            raise ValueError(
                f"weights_init must be non-negative and sum to 1, got sum {weights.sum()}."
            )
        state = state._replace(weights=weights * state.weights.sum())
    if means is not None:
        state = state._replace(origins=means.astype(float), means=np.zeros((K, d)))
    if estimator.precisions_init is not None:
        covariances = structure.covariances_from_precisions(estimator.precisions_init, K, d)
        state = state._replace(covariances=covariances)
    return state


def _nearest(X, centres):
    """The index of each row's nearest centre (squared Euclidean distance)."""
    distances = (centres**2).sum(axis=1) - 2.0 * (X @ centres.T)
    return np.argmin(distances, axis=1)


def _optional(value, shape, name):
    return None if value is None else checked_shape(value, shape, name)


def warm_up(mixture, carry, X, w, rng):
    """``carry`` after rows that come while warming up: ``(carry, mean log-likelihood)``.

    The rows join the kept ones; the first ``init_size`` of them are fitted
    afresh by batch EM each time they have doubled (online EM steps in
    between, so that rows arriving one at a time cost ``O(init_size)``
    refits in all), and the rows beyond them take online EM steps.
    """
    state = carry.state
    kept = X if state.kept is None else np.concatenate([state.kept, X])
    kept_w = joined_weights(state, w, len(X))
    if len(kept) < mixture.n_components:  # not a row for each component yet
        return carry._replace(state=MixtureState(None, kept, kept_w)), None
    if len(kept) < mixture.init_size:
        if state.gaussians is not None and len(kept) < 2 * state.fitted:
            carry, score = mixture._em_pass(carry, X, w)
            fitted = state.fitted
        else:
            carry, score = batch_em(mixture, kept, kept_w, rng)
            fitted = len(kept)
        return carry._replace(
            state=MixtureState(carry.state.gaussians, kept, kept_w, fitted)
        ), score
    head, rest = slice(mixture.init_size), slice(mixture.init_size, None)
    weights = np.ones(len(kept)) if kept_w is None else kept_w
    carry, score = batch_em(mixture, kept[head], None if kept_w is None else kept_w[head], rng)
    if len(kept) > mixture.init_size:
        carry, online = mixture._em_pass(
            carry, kept[rest], None if kept_w is None else kept_w[rest]
        )
        shares = weights[head].sum(), weights[rest].sum()
        score = (score * shares[0] + online * shares[1]) / sum(shares)
    return carry._replace(state=MixtureState(carry.state.gaussians)), score


def batch_em(mixture, X, w, rng):
    """Batch EM on the rows from a fresh initialization: ``(carry, mean log-likelihood)``.

    Each iteration is a pass from nothing whose rows all take their
    responsibilities from the previous iteration's mixture; the best of
    ``n_init`` initializations is kept.
    """
    structure, best = mixture._structure(), None
    empty = Carry(MixtureState(structure.empty(mixture.n_components, X.shape[1])), None, 0.0, 0, 0)
    for _ in range(mixture.n_init):
        model = mixture._readable(initial_state(mixture, structure, X, w, rng))
        previous = -np.inf
        for _ in range(mixture.max_iter):
            fitted, score = mixture._em_pass(empty, X, w, model)
            if abs(score - previous) < mixture.tol:
                break
            model, previous = mixture._readable(fitted.state.gaussians), score
        if best is None or score > best[1]:
            best = fitted, score
    fitted, score = best
    # Averaging starts with online EM: the iterates of a batch EM pass are
    # partial sums of one iteration, not estimates to average.
    return fitted._replace(average=None), score


def merge_mixtures(parts):
    """Mixtures fitted on disjoint data, combined (see :func:`~sklearn_onlinegauss.merge`).

    Each finished part's components are matched to the first finished part's
    (the assignment of highest total log-density of the part's component
    means under the first part's components), then pooled one by one, each
    part weighted by the weight it has seen. Parts still in their warm-up
    bring their kept rows, which the merged mixture then learns; if no part
    has finished its warm-up, the merge is the warm-up of all their rows.
    """
    first = parts[0]
    finished = [p for p in parts if p._state.kept is None]
    warming = [p for p in parts if p._state.kept is not None]
    if not finished:
        merged = type(first)(**first.get_params())
    else:
        merged = _pooled(finished)
    for part in warming:
        merged.partial_fit(part._state.kept, sample_weight=part._state.kept_weights)
    return merged


def _pooled(parts):
    first = parts[0]
    structure, total = first._structure(), sum(p.t_ for p in parts)
    reference, factor = first._readable(first._state.gaussians)
    pooled = None
    for part in parts:
        gaussians = part._state.gaussians
        cost = -structure.log_density(reference, factor, gaussians.locations)  # (K, K first)
        gaussians = structure.take(gaussians, _matched(cost))
        share = part.t_ / total / gaussians.weights.sum()
        gaussians = gaussians._replace(weights=gaussians.weights * share)
        pooled = gaussians if pooled is None else structure.combine(pooled, gaussians)
    carry = Carry(
        MixtureState(pooled), None, float(total), sum(p.n_samples_seen_ for p in parts), 0
    )
    curve = [sum(p.lower_bound_ * p.t_ for p in parts) / total]
    return merged_like(first, carry, max(p.n_iter_ for p in parts), curve)


def _matched(cost):
    """For each of the first part's components, the part's component matched to it."""
    part, first = linear_sum_assignment(cost)
    order = np.empty(len(first), dtype=int)
    order[first] = part
    return order


def joined_weights(state, w, n_rows):
    """The kept rows' weights with those of ``n_rows`` more (None: all unit weights)."""
    if w is None and state.kept_weights is None:
        return None
    old = np.ones(0 if state.kept is None else len(state.kept))
    old = old if state.kept_weights is None else state.kept_weights
    return np.concatenate([old, np.ones(n_rows) if w is None else w])


def lost_components(estimator, carry):
    """Components that hold less than one row's responsibility in the stream's memory.

    The state's weights are shares of the stream's memory, in which one new
    row weighs the per-row rate; none while warming up (provisional).
    """
    if carry.state.kept is not None:
        return []
    weights = carry.state.gaussians.weights
    rate = estimator._rate().per_sample(carry.t)
    return np.flatnonzero(weights / weights.sum() < rate).tolist()
