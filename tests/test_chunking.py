"""The natural solver is exact under any chunking, for every schedule and structure.

A sequence of natural steps is a weighted pooling of the old state with the
rows (docs/theory.rst, "Any schedule, any chunking"), so rows one at a time,
batches of any size, the whole array and integer weights in place of repeated
rows must agree to rounding.
"""

import numpy as np
import pandas as pd
import pytest
from _helpers import assert_covariances_close
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV

from sklearn_onlinegauss import OnlineGaussian

SCHEDULES = [
    dict(learning_rate="optimal"),
    dict(learning_rate="constant", eta0=0.001),
    dict(learning_rate="constant", eta0=0.05),
    dict(learning_rate="constant", eta0=0.5),
    dict(learning_rate="invscaling", eta0=0.5, power_t=0.6),
    dict(learning_rate="invscaling", eta0=2.0, power_t=1.0),
]


def _data(offset_in_sd, n=300, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.array([1.0, 1e3, 1e-3])
    A = rng.normal(size=(3, 3)) + 2 * np.eye(3)
    return (rng.normal(size=(n, 3)) @ A.T + offset_in_sd * 3) * scales


def _assert_locations_close(actual, desired, sd):
    """Within 1e-10 standard deviations, or a few ulps of a location far from 0."""
    tolerance = np.maximum(1e-10 * sd, 1e-13 * np.abs(desired))
    np.testing.assert_array_less(np.abs(actual - desired), tolerance)


def _stream(params, X, size, sample_weight=None):
    est = OnlineGaussian(**params, batch_size=size)
    est.partial_fit(X, sample_weight=sample_weight)
    return est


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
@pytest.mark.parametrize("params", SCHEDULES, ids=lambda p: "-".join(map(str, p.values())))
@pytest.mark.parametrize("offset_in_sd", [0, 1e6])
def test_any_chunking_and_integer_weights_give_the_same_estimate(
    params, covariance_type, offset_in_sd
):
    params = dict(params, covariance_type=covariance_type)
    X = _data(offset_in_sd)
    reference = _stream(params, X, 1)
    counts = np.random.default_rng(1).integers(0, 4, len(X))
    others = [_stream(params, X, size) for size in (7, 100, len(X))]
    others.append(
        OnlineGaussian(**params).fit(X) if params["learning_rate"] == "optimal" else None
    )
    weighted = [_stream(params, X, size, sample_weight=counts) for size in (1, 7, len(X))]
    repeated = _stream(params, np.repeat(X, counts, axis=0), 1)
    sd = np.sqrt(np.diag(reference.covariance_))
    for est in [e for e in others if e is not None]:
        assert_covariances_close(est.covariance_, reference.covariance_, rtol=1e-10)
        _assert_locations_close(est.location_, reference.location_, sd)
    sd = np.sqrt(np.diag(repeated.covariance_))
    for est in weighted:
        assert_covariances_close(est.covariance_, repeated.covariance_, rtol=1e-10)
        _assert_locations_close(est.location_, repeated.location_, sd)


@pytest.mark.parametrize("eta0", [0.01, 0.1, 0.5])
@pytest.mark.parametrize("size", [1, 7, 1000])
def test_constant_rate_is_pandas_exponentially_weighted_moments(eta0, size):
    """Row by row, ``ewm(alpha=eta0, adjust=False)`` mean and ``cov(bias=True)``."""
    X = _data(0, n=200, seed=2)
    frame = pd.DataFrame(X)
    mean = frame.ewm(alpha=eta0, adjust=False).mean().to_numpy()
    cov = frame.ewm(alpha=eta0, adjust=False).cov(bias=True).to_numpy().reshape(-1, 3, 3)
    est = OnlineGaussian(learning_rate="constant", eta0=eta0, batch_size=size, reg_covar=0)
    for i, row in enumerate(X):
        est.partial_fit(row[None])
        if i >= 3:  # a covariance of rank >= d is readable without reg_covar
            np.testing.assert_allclose(est.location_, mean[i], rtol=1e-12)
            assert_covariances_close(est.covariance_, cov[i], rtol=1e-10)
    # In batches of `size`: the estimate after a batch is that of its last row.
    batched = OnlineGaussian(learning_rate="constant", eta0=eta0, batch_size=size, reg_covar=0)
    batched.partial_fit(X)
    np.testing.assert_allclose(batched.location_, mean[-1], rtol=1e-12)
    assert_covariances_close(batched.covariance_, cov[-1], rtol=1e-10)


def test_grid_search_over_the_constant_rate_tells_the_rates_apart():
    # With the state starting at the first row, eta0 weights even a small
    # data set: every candidate is a different estimate.
    X = load_iris().data
    search = GridSearchCV(
        OnlineGaussian(learning_rate="constant"), {"eta0": [0.001, 0.01, 0.1, 0.5]}
    ).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    assert len(np.unique(np.round(scores, 6))) == 4


def test_eta0_of_one_or_more_is_refused_for_the_natural_constant_rate():
    est = OnlineGaussian(learning_rate="constant", eta0=1.0)
    with pytest.raises(ValueError, match="must be below 1"):
        est.fit(np.eye(3))
    assert not hasattr(est, "n_features_in_")
