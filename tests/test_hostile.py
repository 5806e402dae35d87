"""What a hostile tester found: each is refused with a clear error or handled correctly."""

import copy
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from _helpers import assert_valid_gaussian
from sklearn.covariance import EmpiricalCovariance
from test_robustness import assert_same_state

from sklearn_onlinegauss import OnlineGaussian, merge
from sklearn_onlinegauss._compat import InvalidParameterError
from sklearn_onlinegauss.exceptions import ShrunkStepWarning

X = np.random.default_rng(0).normal(size=(300, 3)) * [1, 10, 0.1] + [0, 5, -1]


def test_merge_keeps_a_part_that_has_not_started_averaging():
    params = dict(learning_rate="constant", eta0=0.05, average=150)
    a = OnlineGaussian(**params).partial_fit(X[:200])
    b = OnlineGaussian(**params).partial_fit(X[200:] + 100)
    assert a._average is not None and b._average is None
    merged = merge([a, b]).location_
    # a's average holds 200 of weight, b's estimate stands for its 100 rows.
    expected = (200 * a.location_ + 100 * b.location_) / 300
    np.testing.assert_allclose(merged, expected)


@pytest.mark.parametrize("columns", [["x", "y", "w"], ["c", "b", "a"]], ids=["other", "reordered"])
def test_warm_start_refuses_other_or_reordered_column_names(columns):
    est = OnlineGaussian(warm_start=True).fit(pd.DataFrame(X, columns=["a", "b", "c"]))
    before = copy.deepcopy(est)
    with pytest.raises(ValueError, match="feature names"):
        est.fit(pd.DataFrame(X, columns=columns))
    assert_same_state(est, before)


def test_partial_fit_from_two_threads_loses_no_row():
    Y = np.random.default_rng(1).normal(size=(20_000, 3))
    est = OnlineGaussian()
    halves = [Y[::2], Y[1::2]]

    def feed(rows):
        for row in rows:
            est.partial_fit(row[None])

    threads = [threading.Thread(target=feed, args=(h,)) for h in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert est.n_samples_seen_ == 20_000
    np.testing.assert_allclose(est.covariance_, np.cov(Y.T, bias=True), rtol=1e-9)


def test_masked_values_and_dates_are_refused():
    masked = np.ma.masked_equal(np.where(X > 2, -999.0, X), -999.0)
    with pytest.raises(ValueError, match="masked"):
        OnlineGaussian().fit(masked)
    np.testing.assert_allclose(  # an array without masked values is just an array
        OnlineGaussian().fit(np.ma.asarray(X)).covariance_, np.cov(X.T, bias=True)
    )
    est = OnlineGaussian()
    for dates in (
        np.arange(6).astype("datetime64[D]").reshape(3, 2),
        np.arange(6).astype("timedelta64[s]").reshape(3, 2),
        pd.DataFrame({"when": pd.date_range("2020", periods=3), "x": [1.0, 2.0, 3.0]}),
    ):
        with pytest.raises(ValueError, match="dates or durations"):
            est.partial_fit(dates)
    assert not hasattr(est, "n_features_in_")


@pytest.mark.parametrize("scale", [1e-160, 1e-152])
def test_data_too_small_to_square_are_refused_not_floored(scale):
    with pytest.raises(ValueError, match="cannot square"):
        OnlineGaussian().fit(X * scale)
    est = OnlineGaussian().partial_fit(X * scale)
    with pytest.raises(ValueError, match="cannot square"):
        _ = est.precision_


def test_one_feature_too_small_to_square_is_named():
    Y = X.copy()
    Y[:, 1] *= 1e-170
    with pytest.raises(ValueError, match="Feature 1 varies on a scale"):
        OnlineGaussian().fit(Y)


@pytest.mark.parametrize("stuck", [1000, 6400, 7000])
def test_a_feature_stuck_at_zero_under_forgetting_stays_readable(stuck):
    # A sensor reads 1, then exactly 0: under a constant rate its variance decays
    # toward underflow (0.9 ** 6400 ~ 1e-293), which is rounding of its values,
    # not data too small to square: it is filled like a constant feature.
    Y = np.random.default_rng(0).normal(size=(stuck + 10, 2))
    Y[:, 1] = 0.0
    Y[:10, 1] = 1.0
    est = OnlineGaussian(learning_rate="constant", eta0=0.1).partial_fit(Y)
    assert est.covariance_[1, 1] == est.reg_covar
    assert_valid_gaussian(est, Y)


def test_small_but_squarable_data_are_fitted_exactly():
    est = OnlineGaussian().fit(X * 1e-100)
    np.testing.assert_allclose(est.covariance_, np.cov(X.T, bias=True) * 1e-200, rtol=1e-10)
    assert_valid_gaussian(est, X * 1e-100)


@pytest.mark.parametrize("first", [[1e200, 1.0, 1.0], [1e160, 1.0, 1.0]])
def test_a_huge_first_row_is_refused_and_leaves_the_estimator_unfitted(first):
    est = OnlineGaussian()
    with pytest.raises(ValueError, match="too large|overflow"):
        est.partial_fit(np.array([first]))
    assert not hasattr(est, "n_features_in_")
    est.partial_fit(X)  # and it can still learn
    assert_valid_gaussian(est, X)


def test_weights_that_overflow_or_are_too_small_to_count_are_refused():
    est = OnlineGaussian().partial_fit(X)
    before = copy.deepcopy(est)
    with pytest.raises(ValueError, match="sums to more than"):
        est.partial_fit(X[:3], sample_weight=[1e308, 1e308, 1.0])
    for solver in ("natural", "sgd"):
        with pytest.raises(ValueError, match="too small|as small as"):
            OnlineGaussian(solver=solver).fit(X, sample_weight=np.full(len(X), 5e-324))
    assert_same_state(est, before)
    # Weights that are merely small give what unit weights give.
    small = OnlineGaussian().fit(X, sample_weight=np.full(len(X), 1e-100))
    np.testing.assert_allclose(small.covariance_, np.cov(X.T, bias=True), rtol=1e-10)


def test_a_first_call_of_zero_weight_records_nothing():
    est = OnlineGaussian()
    est.partial_fit(X[:5], sample_weight=np.zeros(5))
    assert not hasattr(est, "n_features_in_")
    est.partial_fit(X[:, :2])  # any width is still welcome
    assert est.n_features_in_ == 2


@pytest.mark.parametrize("change", [dict(batch_size=10.0), dict(average=0)], ids=str)
def test_set_params_after_fitting_is_validated_even_when_equal_in_value(change):
    est = OnlineGaussian(batch_size=10, average=False).partial_fit(X)
    before = copy.deepcopy(est)
    est.set_params(**change)
    with pytest.raises(InvalidParameterError):
        est.partial_fit(X)
    est.set_params(**before.get_params())
    assert_same_state(est, before)


@pytest.mark.parametrize("solver", ["natural", "sgd"])
def test_a_huge_power_t_is_a_schedule_not_an_overflow(solver):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShrunkStepWarning)
        est = OnlineGaussian(solver=solver, learning_rate="invscaling", power_t=500).fit(X)
    assert_valid_gaussian(est, X)


def test_a_failed_fit_leaves_the_callers_random_state_alone():
    rng = np.random.RandomState(0)
    est = OnlineGaussian(learning_rate="constant", random_state=rng)
    state = rng.get_state()[1].copy()
    bad = X.copy()
    bad[150, 0] = 1e200
    with pytest.raises(ValueError):
        est.fit(bad)
    np.testing.assert_array_equal(rng.get_state()[1], state)
    est.fit(X)  # a fit that succeeds advances it, as scikit-learn's estimators do
    assert not np.array_equal(rng.get_state()[1], state)


@pytest.mark.parametrize("parametrization", ["cholesky", "precision", "covariance"])
def test_a_merged_adam_estimator_continues(parametrization):
    params = dict(solver="adam", parametrization=parametrization)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShrunkStepWarning)
        parts = [OnlineGaussian(**params).fit(part) for part in np.array_split(X, 3)]
        merged = merge(parts).partial_fit(X[:50])
    assert_valid_gaussian(merged, X)
    ref = EmpiricalCovariance().fit(X)
    assert np.all(np.abs(merged.location_ - ref.location_) < 3 * np.sqrt(np.diag(ref.covariance_)))
