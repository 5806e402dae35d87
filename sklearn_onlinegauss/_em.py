"""The mixture's E-step and the initial mixtures its warm-up starts batch EM from."""

import math
import warnings
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.base import clone
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning

from ._averaging import averaging_start
from ._merge import merged_like
from ._streaming import Carry, stream
from ._structures._base import checked_shape
from ._threads import blas_threads_for
from .exceptions import outside_stacklevel

__all__ = [
    "MixtureState",
    "batch_em_curve",
    "check_init",
    "e_step",
    "fit_in_memory",
    "em_pass",
    "initial_state",
    "joined_weights",
    "lost_components",
    "merge_mixtures",
    "responsibilities",
    "sample_mixture",
    "warm_up",
    "warn_lost",
]


class MixtureState(NamedTuple):
    """The mixture's Gaussians (None before a row per component) and its warm-up rows."""

    gaussians: object
    kept: np.ndarray = None  # the rows seen while warming up; None once online EM took over
    kept_weights: np.ndarray = None  # their sample weights (None: unit weights)
    fitted: int = 0  # how many of them the last warm-up fit had


_LOG_EPS = math.log(np.finfo(float).eps)


def e_step(structure, state, factor, X, normalizers=None):
    """``(log responsibilities (n, K), log-density (n,))`` of the rows ``X``.

    Log-sum-exp that never subtracts infinities, with the responsibilities
    taken relative to each row's largest term (exact where the log-density
    is so large that its rounding exceeds the log-weights). A row whose
    log-density under every component is below float64 (-inf) has
    log-density -inf and the responsibilities of :func:`_beyond_float64`,
    never NaN.
    """
    shares = state.weights / state.weights.sum()
    log_weights = np.log(shares, out=np.full(len(shares), -np.inf), where=shares > 0)
    if normalizers is None:
        normalizers = structure.normalizers(factor, X.shape[1])
    weighted = structure.log_density(state, factor, X, normalizers) + log_weights
    top = weighted.max(axis=1)  # scipy's logsumexp costs more than the sum on small arrays
    beyond = np.flatnonzero(top == -np.inf)
    for i in beyond:
        weighted[i] = _beyond_float64(structure, state, factor, X[i], log_weights, normalizers)
        top[i] = weighted[i].max()
    weighted -= top[:, None]  # relative to the row's largest: top + log(2) may round to top
    spread = np.log(np.exp(weighted).sum(axis=1))
    weighted -= spread[:, None]
    log_norm = top + spread
    log_norm[beyond] = -np.inf
    return weighted, log_norm


def _beyond_float64(structure, state, factor, x, log_weights, normalizers):
    """Unnormalized log responsibilities of a row whose every log-density is -inf.

    Its squared Mahalanobis distances are all beyond float64, so they differ
    by far more than the weights and normalizers do: in the limit the row
    belongs to the component(s) of weight > 0 nearest to it in the metric
    (ties shared as the weights and normalizers say). The distances are
    computed with the row and the means scaled by a power of 2, exactly.
    """
    scale = np.ldexp(1.0, -np.frexp(np.abs(x - state.locations).max())[1])
    scaled = state._replace(origins=state.origins * scale, means=state.means * scale)
    distances = structure.mahalanobis(scaled, factor, (x * scale)[None])[0]
    distances[np.isnan(distances) | (log_weights == -np.inf)] = np.inf
    log_prior = log_weights - 0.5 * normalizers
    return np.where(distances == distances.min(), log_prior, -np.inf)


def responsibilities(log_resp):
    """Responsibilities from their logs, in place; those below float64 rounding are 0.

    A share below 2**-52 of a row is below the rounding of the row's other
    shares; kept, such shares over many steps would give a component moments
    of the size of underflow in features its rows never had.
    """
    log_resp[log_resp < _LOG_EPS] = -np.inf
    return np.exp(log_resp, out=log_resp)


def check_init(estimator, n_features):
    """The initialization's overrides, validated: ``(weights, means, covariances)`` or Nones.

    Called by the call that receives them, before anything is drawn, so that
    a refused call changes nothing (its random state included).
    """
    K, structure = estimator.n_components, estimator._structure()
    weights = _optional(estimator.weights_init, (K,), "weights_init")
    if weights is not None and (
        np.any(weights < 0) or not math.isclose(weights.sum(), 1.0, abs_tol=1e-6)
    ):
        raise ValueError(
            f"weights_init must be non-negative and sum to 1, got {weights.tolist()} "
            f"(sum {weights.sum():.6g})."
        )
    means = _optional(estimator.means_init, (K, n_features), "means_init")
    covariances = estimator.precisions_init
    if covariances is not None:
        covariances = structure.covariances_from_precisions(covariances, K, n_features)
    return weights, means, covariances


def initial_state(estimator, structure, X, w, rng):
    """The Gaussians batch EM starts from: centres, nearest-centre groups, overrides.

    ``estimator`` gives ``n_components``, ``init_params``, ``means_init``,
    ``weights_init`` and ``precisions_init`` (GaussianMixture's meanings);
    ``w``: the rows' sample weights (None: unit weights). Every component
    starts from at least one row of positive weight (:func:`_every_group_a_row`).
    """
    K, (n, d) = estimator.n_components, X.shape
    weights, means, covariances = check_init(estimator, d)
    if means is not None:
        centres = means
    elif estimator.init_params == "kmeans":
        centres = KMeans(K, n_init=1, random_state=rng).fit(X, sample_weight=w).cluster_centers_
    elif estimator.init_params == "k-means++":
        centres, _ = kmeans_plusplus(X, K, random_state=rng, sample_weight=w)
    else:
        candidates = np.arange(n) if w is None else np.flatnonzero(w > 0)
        centres = X[rng.choice(candidates, size=K, replace=False)]
    labels = _every_group_a_row(X, w, centres)
    hard = np.zeros((n, K))
    hard[np.arange(n), labels] = 1.0 if w is None else w
    state = structure.step(structure.empty(K, d), X, hard, 1.0)
    if weights is not None:
        state = state._replace(weights=weights * state.weights.sum())
    if means is not None:
        state = state._replace(origins=means.astype(float), means=np.zeros((K, d)))
    if covariances is not None:
        state = state._replace(covariances=covariances)
    return state


def _every_group_a_row(X, w, centres):
    """Each row's nearest centre, then each centre without a row takes its nearest row.

    The row is taken from a group that keeps another, so that no component
    starts from nothing (duplicated rows, a ``means_init`` far from the data).
    """
    distances = (centres**2).sum(axis=1) - 2.0 * (X @ centres.T)
    labels = np.argmin(distances, axis=1)
    positive = np.ones(len(X), bool) if w is None else w > 0
    counts = np.bincount(labels[positive], minlength=len(centres))
    for k in np.flatnonzero(counts == 0):
        spare = positive & (counts[labels] > 1)
        row = np.flatnonzero(spare)[np.argmin(distances[spare, k])]
        counts[labels[row]] -= 1
        labels[row], counts[k] = k, 1
    return labels


def _optional(value, shape, name):
    return None if value is None else checked_shape(value, shape, name)


def warm_up(mixture, carry, X, w, rng):
    """``carry`` after rows that come while warming up: ``(carry, mean log-likelihood)``.

    The rows join the kept ones; the first ``init_size`` of them are fitted
    afresh by batch EM each time they have doubled (online EM steps in
    between, so that rows arriving one at a time cost ``O(init_size)``
    refits in all), and the rows beyond them take online EM steps.
    """
    if w is not None:  # a row of weight 0 is absent
        X, w = X[w > 0], w[w > 0]
    state = carry.state
    kept = X if state.kept is None else np.concatenate([state.kept, X])
    kept_w = joined_weights(state, w, len(X))
    if len(kept) < mixture.n_components:  # not a row for each component yet
        return carry._replace(state=MixtureState(None, kept, kept_w)), None
    if len(kept) < mixture.init_size:
        if state.gaussians is not None and len(kept) < 2 * state.fitted:
            carry, score = em_pass(mixture, carry, X, w)
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
        carry, online = em_pass(
            mixture, carry, kept[rest], None if kept_w is None else kept_w[rest]
        )
        shares = weights[head].sum(), weights[rest].sum()
        score = (score * shares[0] + online * shares[1]) / sum(shares)
    return carry._replace(state=MixtureState(carry.state.gaussians)), score


def readable(mixture, gaussians):
    """``(state, factor)``: shrunk and regularized, as E-steps and reads use it."""
    state = mixture._structure().shrink(gaussians, mixture._intensities(None))
    return mixture._structure().regularized(state, mixture.reg_covar)


def em_pass(mixture, carry, X, w, model=None):
    """E-steps and natural steps over the rows: ``(carry, mean log-likelihood)``.

    ``model``: the mixture (regularized, with its factor) that gives every
    row its responsibilities; None: the mixture as it learns.
    """
    structure, rate, total = mixture._structure(), mixture._rate(), [0.0]

    def step(gaussians, Xb, wb, t, rows):
        reading = readable(mixture, gaussians) if model is None else model
        log_resp, log_norm = e_step(structure, *reading, Xb)
        total[0] += log_norm.sum() if wb is None else wb @ log_norm
        weights, retain = rate.pooling(t, wb, len(Xb))
        responsibilities(log_resp)
        log_resp *= weights if np.ndim(weights) == 0 else weights[:, None]
        return structure.step(gaussians, Xb, log_resp, retain), False

    inner = carry._replace(state=carry.state.gaussians)
    with blas_threads_for(mixture._batch_work(*X.shape)):
        inner = stream(
            inner,
            X,
            w,
            mixture.batch_size,
            None,
            step,
            _identity,
            averaging_start(mixture.average) if model is None else None,
        )
    weight = len(X) if w is None else w.sum()
    return inner._replace(state=carry.state._replace(gaussians=inner.state)), total[0] / weight


def _identity(state):
    return state


def batch_em(mixture, X, w, rng):
    """Batch EM on the rows from a fresh initialization: ``(carry, mean log-likelihood)``."""
    carry, curve, _ = batch_em_curve(mixture, X, w, rng)
    return carry, curve[-1]


def batch_em_curve(mixture, X, w, rng):
    """Batch EM as ``GaussianMixture.fit`` runs it: ``(carry, lower bounds, converged)``.

    Each iteration is an M-step, a pass from nothing whose rows all take
    their responsibilities from the previous iteration's mixture, until the
    mean log-likelihood changes by less than ``tol`` or ``max_iter``
    iterations; a component given no responsibility keeps the previous
    iteration's mean and covariance, with weight 0. The best of ``n_init``
    initializations (by its last lower bound) is kept.
    """
    structure, best = mixture._structure(), None
    for _ in range(mixture.n_init):
        gaussians = initial_state(mixture, structure, X, w, rng)
        curve, converged = [], False
        for _ in range(mixture.max_iter):
            start = MixtureState(gaussians._replace(weights=np.zeros_like(gaussians.weights)))
            model = readable(mixture, gaussians)
            fitted, score = em_pass(mixture, Carry(start, None, 0.0, 0, 0), X, w, model)
            curve.append(score)
            gaussians = fitted.state.gaussians
            if len(curve) > 1 and abs(curve[-1] - curve[-2]) < mixture.tol:
                converged = True
                break
        if best is None or curve[-1] > best[1][-1]:
            best = fitted, curve, converged
    return best


def fit_in_memory(mixture, X, w, rng):
    """``fit``'s batch EM on all the rows: ``(carry, lower bounds, converged)``, warning
    as ``GaussianMixture`` does when the best initialization did not converge."""
    carry, curve, converged = batch_em_curve(mixture, X, w, rng)
    if not converged:
        warnings.warn(
            f"fit did not converge in max_iter={mixture.max_iter} iterations of batch EM: "
            "the lower bound still changed by more than tol. Increase max_iter or tol, or "
            "try other init_params or n_init.",
            ConvergenceWarning,
            stacklevel=outside_stacklevel(),
        )
    return carry._replace(state=MixtureState(carry.state.gaussians)), curve, converged


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
        merged = clone(first)  # settings copied: its warm-up draws from no part's generator
    else:
        merged = _pooled(finished)
    for part in warming:
        merged.partial_fit(part._state.kept, sample_weight=part._state.kept_weights)
    return merged


def _pooled(parts):
    first = parts[0]
    structure, total = first._structure(), sum(p.t_ for p in parts)
    reference, factor = readable(first, first._state.gaussians)
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


def warn_lost(estimator, carry, start):
    """A ``ConvergenceWarning`` naming the components a call lost, if any."""
    before = set(lost_components(estimator, start)) if start.state.gaussians is not None else ()
    lost = sorted(set(lost_components(estimator, carry)) - set(before))
    if lost:
        warnings.warn(
            f"Components {lost} hold less than one row's responsibility in the "
            "stream's memory: they keep their last means and covariances, with weights "
            "near 0 (they barely affect the scores). Fewer n_components, a larger "
            "init_size or means_init may fit the data better.",
            ConvergenceWarning,
            stacklevel=outside_stacklevel(),
        )


def sample_mixture(structure, state, factor, n_samples, rng):
    """``n_samples`` rows drawn from the mixture, and the component of each."""
    counts = rng.multinomial(n_samples, state.weights / state.weights.sum())
    d = state.means.shape[1]
    X = np.concatenate(
        [
            structure.sample(state, factor, k, rng.standard_normal((n, d)))
            for k, n in enumerate(counts)
        ]
    )
    return X, np.repeat(np.arange(len(counts)), counts)


def lost_components(estimator, carry):
    """Components that hold less than one row's responsibility in the stream's memory.

    The state's weights are shares of the stream's memory, in which a new
    row of the stream's mean weight weighs the per-row rate times that
    weight (for ``'optimal'``: ``1 / n_samples_seen_``, whatever the units of
    the weights); none while warming up (provisional).
    """
    if carry.state.kept is not None or not carry.n_seen:
        return []
    weights = carry.state.gaussians.weights
    row = estimator._rate().per_sample(carry.t) * carry.t / carry.n_seen
    return np.flatnonzero(weights / weights.sum() < row).tolist()
