"""Exact streaming Ledoit-Wolf, OAS and fixed shrinkage, against scikit-learn on all the data."""

import numpy as np
import pytest
from sklearn.covariance import OAS, LedoitWolf, ShrunkCovariance
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score

from sklearn_onlinegauss import OnlineGaussian, merge
from sklearn_onlinegauss._compat import InvalidParameterError

REFERENCES = {
    "ledoit-wolf": LedoitWolf,
    "oas": OAS,
    0.3: lambda: ShrunkCovariance(shrinkage=0.3),
}
SIZES = [(2, 60), (10, 7), (40, 400), (500, 300)]


def _data(d, n, seed=0, offset_in_sd=0.0):
    """Correlated data, and the same shifted by ``offset_in_sd`` standard deviations.

    The reference is fitted on the shifted data minus its first row, which is
    exact in float64 (and shrinkage does not depend on the offset), so that
    it is accurate where scikit-learn's own centring would not be.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * rng.uniform(0.1, 10, d)
    X += offset_in_sd * np.sqrt(np.mean(X**2, axis=0))
    return X, X - X[0]


def _assert_same(est, ref):
    intensity = getattr(ref, "shrinkage_", getattr(ref, "shrinkage", None))
    assert est.shrinkage_ == pytest.approx(intensity, rel=1e-10, abs=1e-300)
    scale = np.abs(ref.covariance_).max()
    np.testing.assert_allclose(est.covariance_, ref.covariance_, rtol=0, atol=1e-10 * scale)


@pytest.mark.parametrize("shrinkage", list(REFERENCES), ids=str)
@pytest.mark.parametrize("d, n", SIZES)
@pytest.mark.parametrize("offset_in_sd", [0.0, 1e6])
def test_any_chunking_gives_scikit_learns_estimate_on_all_the_data(shrinkage, d, n, offset_in_sd):
    X, exact = _data(d, n, offset_in_sd=offset_in_sd)
    ref = REFERENCES[shrinkage]().fit(exact)
    for size in (1, 7, 100, n):
        est = OnlineGaussian(shrinkage=shrinkage, batch_size=size)
        for start in range(0, n, size):
            est.partial_fit(X[start : start + size])
        _assert_same(est, ref)
    _assert_same(OnlineGaussian(shrinkage=shrinkage).fit(X), ref)


@pytest.mark.parametrize("shrinkage", list(REFERENCES), ids=str)
@pytest.mark.parametrize("n_parts", [2, 5, 10])
def test_merged_parts_give_the_estimate_on_all_the_data(shrinkage, n_parts):
    X, exact = _data(30, 200, seed=1, offset_in_sd=1e6)
    parts = [OnlineGaussian(shrinkage=shrinkage).fit(p) for p in np.array_split(X, n_parts)]
    _assert_same(merge(parts), REFERENCES[shrinkage]().fit(exact))


@pytest.mark.parametrize("shrinkage", ["ledoit-wolf", "oas"])
def test_integer_weights_count_as_repeated_rows(shrinkage):
    X, _ = _data(8, 50, seed=2)
    counts = np.random.default_rng(3).integers(0, 4, len(X))
    repeated = np.repeat(X, counts, axis=0)
    ref = REFERENCES[shrinkage]().fit(repeated - repeated[0])
    for size in (1, 7, 50):
        est = OnlineGaussian(shrinkage=shrinkage, batch_size=size)
        _assert_same(est.partial_fit(X, sample_weight=counts), ref)


def test_cross_validated_ledoit_wolf_equals_scikit_learns_fold_by_fold():
    X = load_digits().data
    ours = cross_val_score(OnlineGaussian(shrinkage="ledoit-wolf"), X, cv=5)
    theirs = cross_val_score(LedoitWolf(), X, cv=5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)


def test_a_float_shrinks_variances_toward_their_mean_for_diag():
    X, _ = _data(5, 100, seed=4)
    est = OnlineGaussian(covariance_type="diag", shrinkage=0.25).fit(X)
    v = X.var(axis=0)
    np.testing.assert_allclose(np.diag(est.covariance_), 0.75 * v + 0.25 * v.mean())
    assert est.shrinkage_ == 0.25
    assert OnlineGaussian().fit(X).shrinkage_ == 0.0


@pytest.mark.parametrize("shrinkage", ["ledoit-wolf", "oas"])
@pytest.mark.parametrize(
    "setting",
    [
        dict(learning_rate="constant"),
        dict(learning_rate="invscaling"),
        dict(average=True),
        dict(solver="sgd"),
        dict(covariance_type="diag"),
    ],
    ids=str,
)
def test_data_driven_shrinkage_refuses_settings_where_it_means_nothing(shrinkage, setting):
    est = OnlineGaussian(shrinkage=shrinkage, **setting)
    with pytest.raises(InvalidParameterError, match="all the data seen"):
        est.partial_fit(np.eye(3))
    assert not hasattr(est, "n_features_in_")


def test_oas_can_be_chosen_after_fitting_but_ledoit_wolf_must_be_set_before():
    X, exact = _data(6, 40, seed=5)
    est = OnlineGaussian().fit(X)
    _assert_same(est.set_params(shrinkage="oas"), OAS().fit(exact))
    est.set_params(shrinkage="ledoit-wolf")
    with pytest.raises(ValueError, match="shrinkage='ledoit-wolf'.*False -> True"):
        _ = est.covariance_  # a read of sums never gathered
    with pytest.raises(ValueError, match="Call fit .*to start afresh"):
        est.partial_fit(X)
    _assert_same(est.fit(X), LedoitWolf().fit(exact))


@pytest.mark.parametrize("kind", ["gaussian", "classifier"])
@pytest.mark.parametrize("scale, far", [(1e-5, 1e100), (1.0, 1e78), (1e60, 1e140)])
def test_ledoit_wolf_refuses_rows_whose_fourth_powers_overflow(kind, scale, far):
    # Squares of 1e100 fit in float64, fourth powers do not: the row is refused
    # by the call, which changes nothing, instead of an inf / NaN intensity.
    import pickle

    from sklearn_onlinegauss import OnlineGaussianClassifier

    X = np.random.default_rng(0).normal(size=(200, 3)) * scale
    y = np.arange(200) % 2
    est = (
        OnlineGaussian(shrinkage="ledoit-wolf").fit(X)
        if kind == "gaussian"
        else OnlineGaussianClassifier(shrinkage="ledoit-wolf").fit(X, y)
    )
    before = pickle.dumps(est.__dict__)
    row = np.full((1, 3), far)
    with pytest.raises(ValueError, match="fourth powers"):
        est.partial_fit(row) if kind == "gaussian" else est.partial_fit(row, [0])
    assert pickle.dumps(est.__dict__) == before
    other = type(est)(shrinkage="ledoit-wolf")
    moved = X + far
    other.fit(moved) if kind == "gaussian" else other.fit(moved, y)
    with pytest.raises(ValueError, match="fourth powers"):
        merge([est, other])


@pytest.mark.parametrize("scale", [1e-140, 1e-100, 1e100, 1e140])
def test_oas_is_finite_and_scale_free_where_the_covariances_squares_are_not(scale):
    # State machine F4: the squares of covariance entries beyond about 1e154
    # overflow (the intensity was NaN), and below about 1e-162 they underflow
    # (it was 1). OAS's intensity does not depend on the scale: it is that of
    # the same data in units of ``scale``.
    X, exact = _data(5, 60)
    est = OnlineGaussian(shrinkage="oas").fit(X * scale)
    assert est.shrinkage_ == pytest.approx(OAS().fit(exact).shrinkage_, rel=1e-12)


def test_oas_of_a_far_finite_row_is_finite():
    # State machine F4: one row of 1e149 (accepted) made shrinkage_ NaN.
    X = np.random.default_rng(0).normal(size=(22, 3))
    X[0] = [1e149, -1e149, 1e149]
    est = OnlineGaussian(shrinkage="oas").partial_fit(X)
    # Dividing by 1e149 rounds each entry once: the intensity to a few eps.
    assert est.shrinkage_ == pytest.approx(OAS().fit(X / 1e149).shrinkage_, rel=1e-12)
    assert np.isfinite(est.covariance_).all()


@pytest.mark.parametrize("scale", [1e-100, 1e-80])
def test_ledoit_wolf_refuses_data_whose_fourth_powers_underflow(scale):
    # At these scales ||y||^4 is subnormal or 0: the intensity would read 0.0 (scale
    # 1e-100) where LedoitWolf on the rescaled data gives about 0.23.
    X = np.random.default_rng(0).normal(size=(40, 5)) * scale
    with pytest.raises(ValueError, match="underflow"):
        OnlineGaussian(shrinkage="ledoit-wolf").fit(X)
    est = OnlineGaussian(shrinkage="ledoit-wolf").partial_fit(X)
    with pytest.raises(ValueError, match="underflow"):
        _ = est.covariance_


def test_ledoit_wolf_is_exact_at_the_smallest_scale_it_takes():
    X = np.random.default_rng(0).normal(size=(40, 5))
    scale = 1e-68  # total variance about 5e-136, above SMALLEST_FOURTH_TRACE
    est = OnlineGaussian(shrinkage="ledoit-wolf").fit(X * scale)
    np.testing.assert_allclose(est.shrinkage_, LedoitWolf().fit(X).shrinkage_, rtol=1e-10)
