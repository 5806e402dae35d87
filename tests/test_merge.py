import warnings

import numpy as np
import pytest
from sklearn.covariance import EmpiricalCovariance

from sklearn_onlinegauss import OnlineGaussian, merge
from sklearn_onlinegauss.exceptions import ShrunkStepWarning


def _data(n=2000, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 100


def _split(n, k, seed=1):
    cuts = np.sort(np.random.default_rng(seed).choice(np.arange(1, n), k - 1, replace=False))
    return np.split(np.arange(n), cuts)


def test_merge_of_natural_estimators_is_exact_with_weights():
    X = _data()
    w = np.random.default_rng(2).integers(0, 4, len(X)).astype(float)
    parts = [
        OnlineGaussian(batch_size=50).partial_fit(X[i], sample_weight=w[i])
        for i in _split(len(X), 5)
    ]
    before = [(p.location_.copy(), p.covariance_.copy(), p.t_) for p in parts]
    merged = merge(parts)
    ref = EmpiricalCovariance().fit(np.repeat(X, w.astype(int), axis=0))
    np.testing.assert_allclose(merged.location_, ref.location_, rtol=1e-12)
    np.testing.assert_allclose(merged.covariance_, ref.covariance_, rtol=1e-10)
    assert merged.t_ == w.sum() and merged.n_samples_seen_ == np.count_nonzero(w)
    for part, (location, covariance, t) in zip(parts, before, strict=True):  # untouched
        np.testing.assert_array_equal(part.location_, location)
        np.testing.assert_array_equal(part.covariance_, covariance)
        assert part.t_ == t
    # The merged estimator continues the stream like one that saw everything.
    more = _data(300, seed=5)
    whole = OnlineGaussian().partial_fit(np.repeat(X, w.astype(int), axis=0))
    np.testing.assert_allclose(
        merged.partial_fit(more).covariance_, whole.partial_fit(more).covariance_, rtol=1e-10
    )


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_merge_keeps_the_structure(covariance_type):
    X = _data()
    parts = [OnlineGaussian(covariance_type=covariance_type).fit(X[i]) for i in _split(2000, 3)]
    whole = OnlineGaussian(covariance_type=covariance_type).fit(X)
    np.testing.assert_allclose(merge(parts).covariance_, whole.covariance_, rtol=1e-10)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_merge_of_euclidean_estimators_averages_parameters(solver):
    X = _data(4000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShrunkStepWarning)
        parts = [
            OnlineGaussian(solver=solver, batch_size=20).partial_fit(X[i])
            for i in np.array_split(np.arange(4000), 4)
        ]
    merged = merge(parts)
    # The mean is a parameter of every parametrization: its weighted average.
    expected = np.average([p.location_ for p in parts], axis=0, weights=[p.t_ for p in parts])
    np.testing.assert_allclose(merged.location_, expected, rtol=1e-12)
    np.linalg.cholesky(merged.covariance_)
    assert merged.t_ == 4000
    merged.partial_fit(X[:100])  # and it can go on


def test_merge_pools_euclidean_estimators_still_warming_up():
    X = _data(8, d=4)
    parts = [
        OnlineGaussian(solver="sgd").partial_fit(X[:2]),
        OnlineGaussian(solver="sgd").partial_fit(X[2:4]),
    ]
    merged = merge(parts)  # 4 samples < n_features + 1: still exact moments
    np.testing.assert_allclose(merged._state.covariance, np.cov(X[:4].T, bias=True), atol=1e-9)
    merged = merge([merged, OnlineGaussian(solver="sgd").partial_fit(X[4:])])
    np.testing.assert_allclose(merged.location_, X.mean(0))


def test_merge_averages_averaged_iterates():
    X = _data()
    parts = [
        OnlineGaussian(learning_rate="constant", eta0=0.05, average=True).fit(X[i])
        for i in _split(2000, 2)
    ]
    merged = merge(parts)
    weights = [p._average.weight for p in parts]
    np.testing.assert_allclose(
        merged.location_, np.average([p.location_ for p in parts], axis=0, weights=weights)
    )


def test_merge_refuses_incompatible_estimators():
    X = _data()
    a = OnlineGaussian().fit(X)
    with pytest.raises(ValueError, match="3 features"):
        merge([a, OnlineGaussian().fit(X[:, :3])])
    with pytest.raises(ValueError, match="settings.*learning_rate"):
        merge([a, OnlineGaussian(learning_rate="constant").fit(X)])
    with pytest.raises(ValueError, match=r"estimators\[1\] is not a fitted"):
        merge([a, OnlineGaussian()])
    with pytest.raises(ValueError, match="at least one"):
        merge([])
    pd = pytest.importorskip("pandas")
    named = OnlineGaussian().fit(pd.DataFrame(X, columns=list("abcd")))
    with pytest.raises(ValueError, match="feature names"):
        merge([named, a])
    # random_state and the fit loop's settings may differ.
    merge([a, OnlineGaussian(random_state=3, max_iter=2).fit(X)])
