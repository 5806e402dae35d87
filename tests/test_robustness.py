"""Bad input is refused without touching the state; every accepted state is a valid Gaussian."""

import copy
import pickle
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import assert_valid_gaussian
from sklearn.covariance import EmpiricalCovariance

from sklearn_onlinegauss import OnlineGaussian
from sklearn_onlinegauss.exceptions import ShrunkStepWarning

CONFIGS = [
    {},
    dict(learning_rate="constant", eta0=0.05, average=True),
    *[
        dict(solver=s, parametrization=p)
        for s in ("sgd", "adam")
        for p in ("cholesky", "precision", "covariance")
    ],
]
IDS = [
    "natural",
    "natural-avg",
    *[f"{s}-{p}" for s in ("sgd", "adam") for p in ("chol", "prec", "cov")],
]


def _data(n=200, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 5


def _fitted(params, X=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShrunkStepWarning)
        est = OnlineGaussian(**params, batch_size=20)
        return est.partial_fit(_data() if X is None else X)


def assert_same_state(a, b, path="estimator"):
    """Bit-for-bit equality of everything an estimator holds, recursively."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), path
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.tobytes() == b.tobytes(), path
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_state(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_same_state(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, np.random.RandomState):
        assert_same_state(a.get_state(legacy=False), b.get_state(legacy=False), path)
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert type(a) is type(b), path
        assert_same_state(vars(a), vars(b), path)
    else:
        assert type(a) is type(b) and (a == b or (a != a and b != b)), f"{path}: {a!r} != {b!r}"


X_OK = _data(10)
BAD_INPUTS = {
    "nan": (np.where(np.arange(30).reshape(10, 3) == 4, np.nan, X_OK), None, ValueError, "NaN"),
    "inf": (
        np.where(np.arange(30).reshape(10, 3) == 4, np.inf, X_OK),
        None,
        ValueError,
        "infinity",
    ),
    "n_features": (np.ones((10, 4)), None, ValueError, "4 features"),
    "1d": (np.ones(10), None, ValueError, "Expected 2D"),
    "sparse": (sp.csr_matrix(X_OK), None, TypeError, "[Ss]parse"),
    "complex": (X_OK + 1j, None, ValueError, "[Cc]omplex"),
    "strings": (np.array([["a", "b", "c"]] * 10, dtype=object), None, ValueError, "convert"),
    "empty": (np.ones((0, 3)), None, ValueError, "0 sample"),
    "negative weight": (X_OK, -np.ones(10), ValueError, "Negative values"),
    "nan weight": (X_OK, np.full(10, np.nan), ValueError, "NaN"),
    "weight length": (X_OK, np.ones(9), ValueError, r"sample_weight\.shape"),
}


# fit may change the number of features (it starts afresh): not bad input there.
CASES = [
    (bad, method)
    for bad in sorted(BAD_INPUTS)
    for method in ("partial_fit", "fit")
    if (bad, method) != ("n_features", "fit")
]


@pytest.mark.parametrize("bad, method", CASES)
@pytest.mark.parametrize("params", CONFIGS, ids=IDS)
def test_bad_input_is_refused_and_the_state_is_untouched(params, bad, method):
    X, w, error, message = BAD_INPUTS[bad]
    est = _fitted(params)
    before = copy.deepcopy(est)
    location, covariance, precision = est.location_, est.covariance_, est.precision_
    with pytest.raises(error, match=message):
        getattr(est, method)(X, sample_weight=w)
    assert_same_state(est, before)
    np.testing.assert_array_equal(est.location_, location)
    np.testing.assert_array_equal(est.covariance_, covariance)
    np.testing.assert_array_equal(est.precision_, precision)


@pytest.mark.parametrize("method", ["score_samples", "score", "mahalanobis"])
@pytest.mark.parametrize("bad", sorted(k for k, v in BAD_INPUTS.items() if v[1] is None))
def test_scoring_refuses_bad_input_like_validate_data(bad, method):
    # Plain arrays take a shortcut past validate_data; what is bad must not.
    X, _, error, message = BAD_INPUTS[bad]
    est = _fitted({})
    for rows in (X, X[1:2]):  # row 1 holds the NaN or infinity
        with pytest.raises(error, match=message):
            getattr(est, method)(rows)


@pytest.mark.parametrize("method, n_rows", [("partial_fit", 1), ("partial_fit", 10), ("fit", 10)])
@pytest.mark.parametrize("params", CONFIGS[:2], ids=IDS[:2])
def test_values_too_large_to_square_are_refused_and_the_state_is_untouched(params, method, n_rows):
    # Finite, so validate_data accepts them, but their squares overflow float64:
    # the natural step would store an infinite covariance.
    X = X_OK[:n_rows].copy()
    X[0, 1] = 1e200
    est = _fitted(params)
    before = copy.deepcopy(est)
    with pytest.raises(ValueError, match="overflow"):
        with np.errstate(over="ignore", invalid="ignore"):
            getattr(est, method)(X)
    assert_same_state(est, before)


@pytest.mark.parametrize("params", CONFIGS, ids=IDS)
def test_editing_a_returned_estimate_in_place_leaves_the_estimator_alone(params):
    est = _fitted(params)
    before = copy.deepcopy(est)
    est.location_[:] = np.nan
    est.covariance_[:] = -1.0
    est.precision_[:] = 0.0
    assert_same_state(est, before)


def test_failed_first_call_leaves_the_estimator_unfitted():
    est = OnlineGaussian()
    with pytest.raises(ValueError, match="NaN"):
        est.partial_fit(BAD_INPUTS["nan"][0])
    assert not hasattr(est, "n_features_in_")
    est.partial_fit(np.ones((3, 5)) + np.eye(3, 5))  # any width is still accepted


HARD_CASES = {
    "one sample": lambda rng: rng.normal(size=(1, 4)),
    "d > n": lambda rng: rng.normal(size=(10, 50)),
    "constant feature": lambda rng: np.c_[rng.normal(size=(100, 3)), np.full(100, 7.0)],
    "duplicated rows": lambda rng: np.repeat(rng.normal(size=(5, 4)), 40, axis=0),
    "1% outliers of 1e8": lambda rng: (
        rng.normal(size=(500, 4)) * np.where(rng.random((500, 1)) < 0.01, 1e8, 1.0)
    ),
}


@pytest.mark.parametrize("case", sorted(HARD_CASES))
@pytest.mark.parametrize("params", CONFIGS, ids=IDS)
def test_every_accepted_state_is_a_valid_gaussian(params, case):
    X = HARD_CASES[case](np.random.default_rng(0))
    est = OnlineGaussian(**params, batch_size=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShrunkStepWarning)
        for chunk in np.array_split(X, min(len(X), 4)):
            est.partial_fit(chunk)
            assert_valid_gaussian(est, X)


def test_a_step_far_too_large_is_shrunk_counted_and_reported():
    # The textbook coordinates with eta0 = 0.5 on data of variance 1e-4: an
    # unsafeguarded step would make the variance negative at once.
    X = np.random.default_rng(0).normal(scale=1e-2, size=(300, 2))
    est = OnlineGaussian(
        solver="sgd",
        parametrization="covariance",
        learning_rate="constant",
        eta0=0.5,
        batch_size=1,
    )
    with pytest.warns(ShrunkStepWarning, match=r"shrunk.*smaller eta0"):
        est.partial_fit(X)
    assert est.n_steps_shrunk_ > 0
    assert_valid_gaussian(est, X)


@pytest.mark.parametrize("c", [1e-8, 1e-3, 1.0, 1e3, 1e8])
@pytest.mark.parametrize("b", [0.0, -1e6, 1e6])
def test_scale_and_offset_equivariance(c, b):
    X = _data(300, 4)
    ref = OnlineGaussian(batch_size=32).partial_fit(X)
    est = OnlineGaussian(batch_size=32).partial_fit(c * X + b)
    # c * X + b is itself rounded to eps * |b|; in units of the smallest
    # standard deviation that is eps * |b| / (c * sigma).
    sigma = np.sqrt(np.diag(ref.covariance_))
    resolution = np.finfo(float).eps * (1 + abs(b) / (c * sigma.min()))
    tol = 1e-12 + 100 * resolution
    np.testing.assert_allclose(
        (est.location_ - b) / c, ref.location_, rtol=0, atol=tol * sigma.max()
    )
    np.testing.assert_allclose(
        est.covariance_ / c**2 / np.outer(sigma, sigma),
        ref.covariance_ / np.outer(sigma, sigma),
        rtol=0,
        atol=tol,
    )


@pytest.mark.parametrize("params", CONFIGS, ids=IDS)
def test_pickle_joblib_and_deepcopy_resume_bit_identically(params, tmp_path):
    X = _data(400)
    est = _fitted(params, X[:200])
    restored = [
        pickle.loads(pickle.dumps(est)),
        copy.deepcopy(est),
        joblib.load(joblib.dump(est, tmp_path / "est.joblib")[0]),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShrunkStepWarning)
        for other in [est, *restored]:
            other.partial_fit(X[200:])
    for other in restored:
        assert_same_state(other, est)


def test_warm_start_fit_resumes_the_shuffling_random_state():
    X = _data(300)
    kwargs = dict(
        solver="adam",
        learning_rate="constant",
        eta0=0.01,
        warm_start=True,
        max_iter=2,
        tol=None,
        batch_size=32,
    )
    a = OnlineGaussian(random_state=np.random.RandomState(0), **kwargs).fit(X)
    b = pickle.loads(pickle.dumps(a))
    a.fit(X)
    b.fit(X)
    assert_same_state(a, b)


@pytest.mark.parametrize("params", CONFIGS, ids=IDS)
def test_float32_input_is_computed_in_float64(params):
    X = _data(300)
    X32 = X.astype(np.float32)
    est32, est64 = _fitted(params, X32), _fitted(params, X32.astype(np.float64))
    # The cast to float64 is exact, so float32 input gives exactly the float64 result.
    assert est32.covariance_.dtype == np.float64
    np.testing.assert_array_equal(est32.covariance_, est64.covariance_)
    # Against the unrounded data only the float32 rounding of X remains (~6e-8).
    ref = EmpiricalCovariance().fit(X)
    if not params:
        np.testing.assert_allclose(est32.covariance_, ref.covariance_, rtol=1e-5)


def test_assert_same_state_detects_a_changed_state():
    est = _fitted({"solver": "adam"})
    other = copy.deepcopy(est)
    other.partial_fit(_data(5, seed=1))
    with pytest.raises(AssertionError, match="_state"):
        assert_same_state(est, other)


@pytest.mark.parametrize(
    "change", [dict(solver="sgd"), dict(covariance_type="diag"), dict(solver="adam")]
)
def test_changing_what_the_state_means_between_partial_fits_is_refused(change):
    est = _fitted({})
    before = copy.deepcopy(est)
    est.set_params(**change)
    with pytest.raises(ValueError, match="cannot continue.*Call fit"):
        est.partial_fit(_data(10))
    est.set_params(**before.get_params())
    assert_same_state(est, before)
    # Settings that do not change the meaning of the state can change freely.
    est.set_params(parametrization="precision", learning_rate="constant", eta0=0.2)
    est.partial_fit(_data(10))


def test_reg_covar_applies_when_read():
    est = OnlineGaussian(reg_covar=0.0).partial_fit(np.ones((5, 2)) * [1.0, 2.0])
    with pytest.raises(ValueError, match="Increase reg_covar"):
        _ = est.covariance_
    est.set_params(reg_covar=1e-6)
    np.linalg.cholesky(est.covariance_)


def test_a_numerical_failure_after_validation_changes_nothing():
    # With reg_covar=0, data in a subspace has no positive definite covariance:
    # the failure comes after X was validated, and must not leave its width behind.
    est = _fitted({})
    before = copy.deepcopy(est)
    flat = np.ones((20, 5))
    est.set_params(reg_covar=0.0)
    with pytest.raises(ValueError, match="reg_covar"):
        est.fit(flat)
    est.set_params(reg_covar=before.reg_covar)
    assert_same_state(est, before)
    first = OnlineGaussian(solver="sgd", reg_covar=0.0)
    with pytest.raises(ValueError, match="reg_covar"):
        first.partial_fit(np.ones((40, 5)))  # past the warm-up: gradient steps need a factor
    assert not hasattr(first, "n_features_in_")


def test_warm_start_fit_refuses_what_it_cannot_continue():
    X = _data(100)
    est = OnlineGaussian(warm_start=True, max_iter=1, tol=None).fit(X)
    before = copy.deepcopy(est)
    with pytest.raises(ValueError, match="cannot continue.*Call fit"):
        est.set_params(solver="sgd").fit(X)
    est.set_params(solver="natural")
    with pytest.raises(ValueError, match="5 features.*warm start.*3"):
        est.fit(np.c_[X, X[:, :2]])
    assert_same_state(est, before)
    # Without warm_start, fit starts afresh and both are fine.
    est.set_params(warm_start=False, solver="sgd").fit(np.c_[X, X[:, :2]])
