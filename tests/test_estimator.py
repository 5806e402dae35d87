"""OnlineGaussian against reference implementations, and its bookkeeping."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.covariance import EmpiricalCovariance
from sklearn.exceptions import ConvergenceWarning

from sklearn_onlinegauss import OnlineGaussian
from sklearn_onlinegauss.exceptions import ShrunkStepWarning

ALL_SOLVERS = [
    {},
    *[
        dict(solver=s, parametrization=p)
        for s in ("sgd", "adam")
        for p in ("cholesky", "precision", "covariance")
    ],
]


def _data(n=500, d=4, seed=0, offset=3.0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    return rng.multivariate_normal(offset + rng.normal(size=d), A @ A.T + 0.1 * np.eye(d), n)


def _chunks(X, sizes):
    bounds = np.cumsum([0, *sizes])
    return [X[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@pytest.mark.parametrize("sizes", [[500], [1] * 500, [3, 1, 250, 6, 240], [100] * 5])
def test_default_equals_empirical_covariance_however_the_data_is_chunked(sizes):
    X = _data()
    est = OnlineGaussian()
    for chunk in _chunks(X, sizes):
        est.partial_fit(chunk)
    ref = EmpiricalCovariance().fit(X)
    # Rounding only: the pooled updates are exact and reg_covar does not act
    # on a well-determined covariance.
    np.testing.assert_allclose(est.location_, ref.location_, rtol=1e-12)
    np.testing.assert_allclose(est.covariance_, ref.covariance_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.precision_, ref.precision_, rtol=1e-8)
    assert est.n_samples_seen_ == 500 and est.t_ == 500.0


def test_fit_equals_chunked_partial_fit_and_fitting_twice_changes_nothing():
    X = _data()
    fitted = OnlineGaussian(random_state=0).fit(X)
    streamed = OnlineGaussian(batch_size=64)
    for chunk in np.array_split(X, 7):
        streamed.partial_fit(chunk)
    np.testing.assert_allclose(fitted.covariance_, streamed.covariance_, rtol=1e-10)
    refit = OnlineGaussian(random_state=0).fit(X).fit(X)
    np.testing.assert_array_equal(refit.covariance_, fitted.covariance_)
    np.testing.assert_array_equal(refit.location_, fitted.location_)


def test_integer_weights_equal_repeated_rows():
    X = _data(60)
    w = np.random.default_rng(1).integers(0, 4, len(X))
    weighted = OnlineGaussian(batch_size=7).partial_fit(X, sample_weight=w)
    repeated = OnlineGaussian(batch_size=7).partial_fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(weighted.location_, repeated.location_, rtol=1e-12)
    np.testing.assert_allclose(weighted.covariance_, repeated.covariance_, rtol=1e-10)
    assert weighted.t_ == w.sum() and weighted.n_samples_seen_ == np.count_nonzero(w)


def test_all_zero_weight_chunk_is_a_no_op_in_partial_fit_and_an_error_in_fit():
    X = _data()
    est = OnlineGaussian().partial_fit(X)
    before = est.covariance_.copy()
    est.partial_fit(X[:10] + 100, sample_weight=np.zeros(10))
    np.testing.assert_array_equal(est.covariance_, before)
    assert est.t_ == 500
    with pytest.raises(ValueError, match="weights are zero"):
        OnlineGaussian().fit(X, sample_weight=np.zeros(len(X)))


@pytest.mark.parametrize("params", ALL_SOLVERS + [dict(covariance_type="diag")])
def test_score_samples_and_mahalanobis_match_references(params):
    X = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShrunkStepWarning)
        est = OnlineGaussian(**params, max_iter=2, tol=None).fit(X)
    ref = multivariate_normal(est.location_, est.covariance_)
    np.testing.assert_allclose(est.score_samples(X), ref.logpdf(X), rtol=1e-10)
    assert est.score(X) == pytest.approx(ref.logpdf(X).mean(), rel=1e-10)
    emp = EmpiricalCovariance().fit(X)
    emp.location_, emp.precision_ = est.location_, est.precision_
    np.testing.assert_allclose(est.mahalanobis(X), emp.mahalanobis(X), rtol=1e-8)


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_structured_covariances_are_the_structured_mle(covariance_type):
    X = _data()
    est = OnlineGaussian(covariance_type=covariance_type)
    for chunk in np.array_split(X, 9):
        est.partial_fit(chunk)
    variances = X.var(axis=0)
    expected = np.diag(variances if covariance_type == "diag" else np.full(4, variances.mean()))
    np.testing.assert_allclose(est.covariance_, expected, rtol=1e-10)


def test_sample_has_the_fitted_moments():
    est = OnlineGaussian().fit(_data())
    draws = est.sample(200_000, random_state=0)
    assert draws.shape == (200_000, 4)
    # Standard errors of a mean and a covariance entry from 2e5 draws; 5 SE.
    se_mean = np.sqrt(np.diag(est.covariance_) / 200_000)
    np.testing.assert_array_less(np.abs(draws.mean(0) - est.location_), 5 * se_mean)
    var = np.diag(est.covariance_)
    se_cov = np.sqrt((np.outer(var, var) + est.covariance_**2) / 200_000)
    np.testing.assert_array_less(np.abs(np.cov(draws.T) - est.covariance_), 5 * se_cov)
    np.testing.assert_array_equal(est.sample(3, random_state=1), est.sample(3, random_state=1))
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
@pytest.mark.parametrize("weighted", [False, True])
def test_each_epochs_loss_is_the_mean_log_density_of_the_rows(covariance_type, weighted):
    # fit's loss comes from the rows' moments, not a pass an epoch: the same number
    # (docs/theory.rst: the mean log-density is a function of the mean and covariance).
    rng = np.random.default_rng(3)
    X = 1e3 + rng.normal(size=(300, 4)) * [1.0, 10.0, 100.0, 0.1]
    w = rng.uniform(0, 3, size=300) if weighted else None
    params = dict(covariance_type=covariance_type, random_state=0, tol=None)
    for max_iter in (1, 3):
        est = OnlineGaussian(learning_rate="constant", eta0=0.02, max_iter=max_iter, **params)
        est.fit(X, sample_weight=w)
        expected = -np.average(est.score_samples(X), weights=w)
        assert est.loss_curve_[-1] == pytest.approx(expected, rel=1e-12)


def test_fit_stops_once_settled_and_warns_when_max_iter_cannot_settle_it():
    # A small constant rate takes several epochs to settle (user guide, "When fit stops").
    X = _data()
    params = dict(learning_rate="constant", eta0=1e-3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = OnlineGaussian(**params).fit(X)
    assert 2 < est.n_iter_ < est.max_iter
    assert len(est.loss_curve_) == est.n_iter_
    assert est.loss_curve_[-1] == pytest.approx(-est.score(X))
    with pytest.warns(ConvergenceWarning, match="eta0"):
        OnlineGaussian(**params, max_iter=2).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert OnlineGaussian(**params, max_iter=2, tol=None).fit(X).n_iter_ == 2


def test_default_fit_is_one_exact_pass_that_partial_fit_continues():
    # A second pass of the exact solver would count the data twice: the
    # stream's later data would then weigh half as much as it should.
    X = _data()
    est = OnlineGaussian(max_iter=50).fit(X[:300])
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 1 and est.t_ == 300
    assert est.loss_curve_[0] == pytest.approx(-est.score(X[:300]))
    est.partial_fit(X[300:])
    reference = EmpiricalCovariance().fit(X)
    np.testing.assert_allclose(est.location_, reference.location_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(est.covariance_, reference.covariance_, rtol=1e-10)
    warm = OnlineGaussian(warm_start=True).fit(X[:300]).fit(X[300:])
    np.testing.assert_allclose(warm.covariance_, reference.covariance_, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_samples", [2, 500])  # 2 < n_features: reg_covar acts
def test_one_pass_training_loss_is_the_mean_negative_log_likelihood(
    covariance_type, weighted, n_samples
):
    X = _data(n=n_samples)
    w = np.random.default_rng(1).integers(1, 4, n_samples).astype(float) if weighted else None
    est = OnlineGaussian(covariance_type=covariance_type).fit(X, sample_weight=w)
    expected = -np.average(est.score_samples(X), weights=w)
    assert est.loss_curve_ == [pytest.approx(expected, rel=1e-10)]


def test_adaptive_rate_divides_eta0_while_its_noise_exceeds_tol(capsys):
    X = _data()
    OnlineGaussian(
        learning_rate="adaptive", eta0=0.05, max_iter=20, tol=1e-4, verbose=1, random_state=0
    ).fit(X)
    lines = capsys.readouterr().out.splitlines()
    rates = [float(line.rsplit("eta0: ", 1)[1]) for line in lines if "eta0: " in line]
    # Each line shows the rate of the next epoch: 0.05, then divided by 5 at a time.
    assert rates[0] == 0.05 and rates[-1] < 0.05
    assert all(
        a / b == pytest.approx(1) or a / b == pytest.approx(5)
        for a, b in zip(rates[:-1], rates[1:], strict=True)
    )


def test_warm_start_continues_the_stream():
    X = _data()
    est = OnlineGaussian(warm_start=True, max_iter=1, tol=None).fit(X[:200]).fit(X[200:])
    np.testing.assert_allclose(est.covariance_, np.cov(X.T, bias=True), rtol=1e-10)
    cold = OnlineGaussian(max_iter=1, tol=None).fit(X[:200]).fit(X[200:])
    np.testing.assert_allclose(cold.covariance_, np.cov(X[200:].T, bias=True), rtol=1e-10)


def test_averaging_starts_at_the_requested_weight():
    X = _data(400)
    est = OnlineGaussian(learning_rate="constant", eta0=0.05, average=300, batch_size=50)
    est.partial_fit(X[:250])
    assert est._average is None
    est.partial_fit(X[250:])
    assert est._average.weight == 150  # batches ending at t = 300, 350, 400


def test_more_features_than_samples_gives_a_valid_gaussian():
    X = np.random.default_rng(0).normal(size=(10, 50))
    est = OnlineGaussian().fit(X)
    np.linalg.cholesky(est.covariance_)
    assert np.all(np.isfinite(est.score_samples(X)))
    one = OnlineGaussian().partial_fit(X[:1])
    np.linalg.cholesky(one.covariance_)
    assert np.all(np.isfinite(one.score_samples(X)))


@pytest.mark.parametrize("off, on", [(False, True), (np.False_, np.True_)])
def test_average_given_as_a_numpy_bool_means_what_the_python_bool_means(off, on):
    X = _data()
    params = dict(learning_rate="constant", eta0=0.1)
    plain = OnlineGaussian(**params, average=False).partial_fit(X)
    averaged = OnlineGaussian(**params, average=True).partial_fit(X)
    np.testing.assert_array_equal(
        OnlineGaussian(**params, average=off).partial_fit(X).covariance_, plain.covariance_
    )
    np.testing.assert_array_equal(
        OnlineGaussian(**params, average=on).partial_fit(X).covariance_, averaged.covariance_
    )


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
@pytest.mark.parametrize("params", ALL_SOLVERS)
def test_pickle_round_trip_continues_bit_identically(params, covariance_type):
    X = _data()
    est = OnlineGaussian(**params, covariance_type=covariance_type).partial_fit(X[:300])
    copy = pickle.loads(pickle.dumps(est))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShrunkStepWarning)  # shrunk Euclidean steps
        est.partial_fit(X[300:])
        copy.partial_fit(X[300:])
    np.testing.assert_array_equal(copy.covariance_, est.covariance_)
    np.testing.assert_array_equal(copy.location_, est.location_)


def test_a_model_pickled_by_version_0_1_is_refused_with_a_clear_message():
    # tests/data/onlinegauss-0.1.0.pkl: [OnlineGaussian().fit(X),
    # OnlineGaussian(solver="adam", covariance_type="diag").fit(X)] saved by 0.1.0.
    # It refers to names this version no longer has: unpickling it fails.
    path = Path(__file__).parent / "data" / "onlinegauss-0.1.0.pkl"
    with pytest.raises((AttributeError, ValueError)):
        pickle.loads(path.read_bytes())


def test_n_samples_seen_counts_samples_and_t_counts_every_epoch():
    from sklearn.datasets import load_iris

    X = load_iris().data
    est = OnlineGaussian(learning_rate="constant", eta0=0.05, max_iter=6, tol=None)
    est.fit(X)
    assert est.n_iter_ == 6
    assert est.n_samples_seen_ == 150 and est.t_ == 900
    est.partial_fit(X[:10])
    assert est.n_samples_seen_ == 160 and est.t_ == 910
    weights = np.r_[np.zeros(50), np.ones(100)]
    assert (
        OnlineGaussian(max_iter=3, tol=None).fit(X, sample_weight=weights).n_samples_seen_ == 100
    )


def test_a_model_file_keeps_the_loss_curve(tmp_path):
    from sklearn_onlinegauss import load_model, save_model

    X = np.random.default_rng(4).normal(size=(300, 3))
    est = OnlineGaussian(learning_rate="constant", eta0=0.05, max_iter=3, tol=None).fit(X)
    save_model(est, tmp_path / "m.npz")
    assert load_model(tmp_path / "m.npz").loss_curve_ == est.loss_curve_


def test_n_iter_no_change_is_deprecated():
    X = _data()
    with pytest.warns(FutureWarning, match="n_iter_no_change has no effect"):
        OnlineGaussian(learning_rate="constant", eta0=0.05, n_iter_no_change=3).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        OnlineGaussian(learning_rate="constant", eta0=0.05).fit(X)


# -- EmpiricalCovariance's get_precision and error_norm ----------------------------------


def test_get_precision_and_error_norm_equal_empirical_covariances_on_the_same_data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4)) + 2.0
    est, sk = OnlineGaussian().fit(X), EmpiricalCovariance().fit(X)
    np.testing.assert_allclose(est.get_precision(), sk.get_precision(), rtol=1e-10)
    other = np.cov(rng.normal(size=(50, 4)).T)
    for norm in ("frobenius", "spectral"):
        for scaling in (True, False):
            for squared in (True, False):
                options = {"norm": norm, "scaling": scaling, "squared": squared}
                assert est.error_norm(other, **options) == pytest.approx(
                    sk.error_norm(other, **options), rel=1e-10
                ), options
    assert est.error_norm(est.covariance_) == 0.0


def test_get_precision_is_a_copy_and_error_norm_refuses_bad_input_in_words():
    est = OnlineGaussian().fit(np.random.default_rng(0).normal(size=(50, 3)))
    est.get_precision()[0, 0] = 1e9
    assert est.precision_[0, 0] < 1e9
    with pytest.raises(ValueError, match=r"comp_cov must have shape \(3, 3\)"):
        est.error_norm(np.eye(2))
    with pytest.raises(ValueError, match="norm must be 'frobenius' or 'spectral'"):
        est.error_norm(np.eye(3), norm="nuclear")
