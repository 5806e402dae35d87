"""The mixture's E-step and the initial mixtures its warm-up starts batch EM from."""

import math

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from ._gaussians import _checked_shape

__all__ = ["e_step", "initial_state", "responsibilities"]

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
    return None if value is None else _checked_shape(value, shape, name)
