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


@pytest.mark.parametrize("scale", [1e-3, 1.0])
def test_merged_warm_ups_count_their_rows_whatever_the_scale_of_the_weights(scale):
    # Issue 29: two parts of 13 rows each in d = 4 are still warming up (25 rows
    # start the gradient ascent); merged, their 26 rows are enough, in any units.
    X = _data(26, d=4)
    w = np.full(13, scale)
    parts = [
        OnlineGaussian(solver="sgd").partial_fit(X[r], sample_weight=w)
        for r in (slice(13), slice(13, None))
    ]
    assert all(type(p._state).__name__ == "WarmupState" for p in parts)
    merged = merge(parts)
    assert type(merged._state).__name__ == "EuclideanState"
    np.testing.assert_allclose(merged.location_, X.mean(0), rtol=1e-12)


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


# -- the family: every kind merges through one compatibility check -------------------


def _frame(X, columns):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(X, columns=list(columns))


def test_merge_refuses_parts_whose_feature_names_differ_for_every_kind():
    from sklearn_onlinegauss import OnlineGaussianClassifier, OnlineGaussianMixture

    X = _data(600, 3)
    y = np.arange(600) % 2
    kinds = [
        (OnlineGaussian(), ()),
        (OnlineGaussianClassifier(), (y[:300],)),
        (OnlineGaussianMixture(2, random_state=0), ()),
    ]
    for est, target in kinds:
        a = est.fit(_frame(X[:300], "abc"), *target)
        b = type(est)(**est.get_params()).fit(_frame(X[300:], "cba"), *target)
        with pytest.raises(ValueError, match="other feature names"):
            merge([a, b])


def test_classifiers_with_equal_array_priors_merge():
    from sklearn_onlinegauss import OnlineGaussianClassifier

    X, y = _data(600, 3), np.arange(600) % 3
    parts = [
        OnlineGaussianClassifier(priors=np.array([0.2, 0.3, 0.5])).fit(X[rows], y[rows])
        for rows in (slice(0, 300), slice(300, None))
    ]
    whole = OnlineGaussianClassifier(priors=np.array([0.2, 0.3, 0.5])).fit(X, y)
    np.testing.assert_allclose(merge(parts).predict_proba(X), whole.predict_proba(X), atol=1e-10)
    other = OnlineGaussianClassifier(priors=np.array([0.5, 0.3, 0.2])).fit(X, y)
    with pytest.raises(ValueError, match="other settings than estimators\\[0\\]: priors"):
        merge([parts[0], other])


def test_a_one_component_mixture_merges_to_the_fit_of_all_its_rows():
    # One component: the responsibilities are 1, so each part is the exact MLE of
    # its rows and their pooling is that of all of them.
    from sklearn_onlinegauss import OnlineGaussianMixture

    X = _data(3000, 3)
    parts = [OnlineGaussianMixture(1, init_size=200).partial_fit(X[i]) for i in _split(3000, 4)]
    merged = merge(parts)
    ref = EmpiricalCovariance().fit(X)
    np.testing.assert_allclose(merged.means_[0], ref.location_, rtol=1e-12)
    np.testing.assert_allclose(merged.covariances_[0], ref.covariance_, rtol=1e-10)
    assert merged.n_samples_seen_ == 3000


def test_mixture_parts_are_matched_before_they_are_pooled():
    # Parts fitted on disjoint halves find the same three clusters in different
    # orders; pooled component by component after matching, the means are those of
    # a fit of all the rows to the sampling error of a cluster's mean (1 / sqrt(1000)
    # per feature: 5 of them is 0.16).
    from sklearn_onlinegauss import OnlineGaussianMixture

    rng = np.random.default_rng(3)
    centres = np.array([[-20.0, 0.0], [0.0, 20.0], [20.0, 0.0]])
    X = np.concatenate([c + rng.normal(size=(1000, 2)) for c in centres])
    X = X[rng.permutation(len(X))]
    parts = [
        OnlineGaussianMixture(3, random_state=seed).fit(half)
        for seed, half in enumerate(np.array_split(X, 2))
    ]
    merged = merge(parts)
    order = np.argsort(merged.means_[:, 0] * 10 + merged.means_[:, 1])
    np.testing.assert_allclose(merged.means_[order], centres[[0, 1, 2]], atol=0.16)
    np.testing.assert_allclose(merged.weights_, 1 / 3, atol=0.02)
    assert merged.n_samples_seen_ == len(X)


def test_a_mixture_still_warming_up_brings_its_rows():
    from sklearn_onlinegauss import OnlineGaussianMixture

    X = _data(1500, 2)
    finished = OnlineGaussianMixture(1, init_size=500).partial_fit(X[:1000])
    warming = OnlineGaussianMixture(1, init_size=500).partial_fit(X[1000:1200])
    assert warming._state.kept is not None
    merged = merge([finished, warming])
    ref = EmpiricalCovariance().fit(X[:1200])
    np.testing.assert_allclose(merged.covariances_[0], ref.covariance_, rtol=1e-10)
    both_warming = merge([warming, OnlineGaussianMixture(1, init_size=500).partial_fit(X[:100])])
    np.testing.assert_allclose(
        both_warming.means_[0], np.concatenate([X[1000:1200], X[:100]]).mean(0), rtol=1e-12
    )


@pytest.mark.parametrize("a_finished", [False, True])
def test_merge_leaves_a_parts_random_state_untouched(a_finished):
    # State machine F2: the merged mixture was built with the first part's
    # generator object itself, and its warm-up of the kept rows drew from it.
    import pickle

    from sklearn_onlinegauss import OnlineGaussianMixture

    rng, rs = np.random.default_rng(0), np.random.RandomState(0)
    n_a = 40 if a_finished else 18
    X = rng.normal(size=(n_a + 18, 3))
    a = OnlineGaussianMixture(2, init_size=20, random_state=rs).partial_fit(X[:n_a])
    b = OnlineGaussianMixture(2, init_size=20, random_state=0).partial_fit(X[n_a:])
    before = pickle.dumps((a, b))
    merged = merge([a, b])
    assert pickle.dumps((a, b)) == before
    assert merged.random_state is not rs
    assert merged.n_samples_seen_ == n_a + 18


def test_detectors_merge_after_a_density_setting_changed():
    # State machine F5: after set_params(estimator__reg_covar=...), which the
    # reads apply at once, the first part's fitted density kept the old value,
    # and merge refused a part fitted later with the same settings.
    from sklearn.base import clone

    from sklearn_onlinegauss import OnlineEllipticEnvelope

    X = np.random.default_rng(0).normal(size=(100, 3))
    a = OnlineEllipticEnvelope(estimator=OnlineGaussian()).partial_fit(X[:50])
    a.set_params(estimator__reg_covar=1e-3)
    b = clone(a).partial_fit(X[50:])
    merged = merge([a, b])
    assert merged.estimator_.reg_covar == 1e-3
    assert a.estimator_.reg_covar == 1e-6  # the part is left as it was
    assert merged.estimator is not a.estimator  # and shares no settings with it
    np.testing.assert_allclose(merged.covariance_, np.cov(X.T, bias=True), rtol=1e-12)
