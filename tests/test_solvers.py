import numpy as np
import pytest

from sklearn_onlinegauss._covariance import COVARIANCE_TYPES
from sklearn_onlinegauss._optimizers import SGD, Adam
from sklearn_onlinegauss._parametrizations import PARAMETRIZATIONS
from sklearn_onlinegauss._solvers import (
    Euclidean,
    EuclideanState,
    Natural,
    NaturalState,
    WarmupState,
    batch_moments,
    pool,
    step_toward,
)

FULL = COVARIANCE_TYPES["full"]


def test_batch_moments_are_numpy_weighted_moments():
    rng = np.random.default_rng(0)
    X, w = rng.normal(size=(30, 3)) + 1e6, rng.random(30)
    W, m, C = batch_moments(X, w)
    assert W == pytest.approx(w.sum())
    np.testing.assert_allclose(m, np.average(X, axis=0, weights=w))
    np.testing.assert_allclose(C, np.cov(X.T, aweights=w, bias=True), rtol=1e-9)


def test_natural_step_by_hand():
    state = NaturalState(np.array([0.0, 0.0]), np.eye(2))
    X = np.array([[2.0, 0.0], [4.0, 2.0]])  # m = (3, 1), C = [[1, 1], [1, 1]]
    new, shrunk = Natural(FULL).step(state, X, np.ones(2), 0.25)
    np.testing.assert_allclose(new.location, [0.75, 0.25])
    # 0.75 I + 0.25 C + 0.25 * 0.75 * delta delta', delta = (3, 1)
    expected = 0.75 * np.eye(2) + 0.25 * np.ones((2, 2)) + 0.1875 * np.array([[9, 3], [3, 1]])
    np.testing.assert_allclose(new.covariance, expected)
    assert shrunk is False


@pytest.mark.parametrize("w", [None, np.array([3.0])])
def test_natural_one_row_step_by_hand(w):
    # One row has no scatter: 0.75 I + 0.25 * 0.75 * delta delta', delta = (2, 0).
    state = NaturalState(np.array([0.0, 0.0]), np.eye(2))
    new, _ = Natural(FULL).step(state, np.array([[2.0, 0.0]]), w, 0.25)
    np.testing.assert_allclose(new.location, [0.5, 0.0], rtol=1e-15)
    np.testing.assert_allclose(new.covariance, [[0.75 + 0.75, 0.0], [0.0, 0.75]], rtol=1e-15)


@pytest.mark.parametrize("n_rows", [1, 2, 50])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eta", [0.01, 0.7, 1.0])
def test_step_toward_a_batch_is_pool_toward_its_moments(n_rows, weighted, eta):
    # The fused product must give the textbook form to rounding (a few ulps of
    # the largest entry per row summed), and be exactly symmetric.
    rng = np.random.default_rng(n_rows)
    X = rng.normal(size=(n_rows, 4)) * [1, 10, 0.1, 1] + 100
    w = rng.random(n_rows) + 0.5 if weighted else None
    A = rng.normal(size=(4, 4))
    location, covariance = rng.normal(size=4) + 100, A @ A.T
    _, m, C = batch_moments(X, w)
    expected = pool(location, covariance, m, C, eta, FULL)
    new_location, new_covariance = step_toward(location, covariance, X, w, eta, FULL)
    np.testing.assert_allclose(new_location, expected[0], rtol=1e-14)
    scale = np.abs(expected[1]).max()
    np.testing.assert_allclose(new_covariance, expected[1], rtol=0, atol=1e-14 * n_rows * scale)
    np.testing.assert_array_equal(new_covariance, new_covariance.T)


def test_natural_steps_with_share_of_weight_pool_exactly():
    rng = np.random.default_rng(1)
    X, w = rng.normal(size=(100, 3)) * [1, 10, 0.1] - 50, rng.integers(1, 4, 100).astype(float)
    solver, bounds = Natural(FULL), [0, 7, 8, 40, 100]
    state, t = solver.init(X[:7], w[:7]), w[:7].sum()
    for a, b in zip(bounds[1:-1], bounds[2:], strict=True):
        W = w[a:b].sum()
        t += W
        state, _ = solver.step(state, X[a:b], w[a:b], W / t)
    np.testing.assert_allclose(state.location, np.average(X, axis=0, weights=w))
    np.testing.assert_allclose(state.covariance, np.cov(X.T, aweights=w, bias=True), rtol=1e-10)


def test_natural_step_is_capped_at_one():
    state = NaturalState(np.zeros(1), np.eye(1))
    new, _ = Natural(FULL).step(state, np.array([[1.0], [3.0]]), np.ones(2), 5.0)
    np.testing.assert_allclose(new.location, [2.0])
    np.testing.assert_allclose(new.covariance, [[1.0]])


def _euclidean(name="covariance"):
    return Euclidean(PARAMETRIZATIONS[name](FULL), SGD(), reg_covar=1e-6)


def test_euclidean_warms_up_on_exact_moments_until_it_has_n_features_plus_one_samples():
    solver = _euclidean()
    X = np.array([[0.0, 1.0], [2.0, 1.0], [1.0, 4.0]])
    state = solver.init(X[:1], np.ones(1))
    assert isinstance(state, WarmupState)
    state, _ = solver.step(state, X[1:2], np.ones(1), 123.0)  # eta is ignored while warming up
    assert isinstance(state, WarmupState) and state.weight == 2
    state, _ = solver.step(state, X[2:], np.ones(1), 123.0)
    assert isinstance(state, EuclideanState)
    mu, cov = solver.moments(state)
    np.testing.assert_allclose(mu, X.mean(0))
    np.testing.assert_allclose(cov, np.cov(X.T, bias=True))


def test_euclidean_step_that_would_leave_the_cone_is_shrunk_to_the_trust_region():
    # The textbook failure: variance 1e-4, step 0.5 on a sample at 0 pushes the
    # variance by a * G = 0.5 * (-1 / (2 * 1e-4)) = -2500: negative.
    solver = _euclidean()
    state = EuclideanState((np.zeros(1), np.array([[1e-4]])), ())
    new, shrunk = solver.step(state, np.zeros((1, 1)), np.ones(1), 0.5)
    assert shrunk
    (variance,) = new.params[1].ravel()
    assert 0.5e-4 <= variance < 1e-4  # shrunk, not reset, and not past the halving bound


def test_euclidean_small_step_is_taken_unchanged():
    solver = _euclidean()
    state = EuclideanState((np.zeros(1), np.array([[1.0]])), ())
    new, shrunk = solver.step(state, np.array([[2.0]]), np.ones(1), 0.01)
    assert not shrunk
    # grad_mu = 2, grad_Sigma = (4 - 1) / 2 = 1.5
    np.testing.assert_allclose(new.params[0], [0.02])
    np.testing.assert_allclose(new.params[1], [[1.015]])


def test_euclidean_non_finite_gradient_rejects_the_step():
    solver = _euclidean()
    state = EuclideanState((np.zeros(1), np.array([[1e-300]])), ())
    new, shrunk = solver.step(state, np.array([[1e300]]), np.ones(1), 0.1)
    assert shrunk and new is state


def test_euclidean_step_no_halving_can_save_is_rejected_with_the_optimizer_state(monkeypatch):
    # Adam's moment estimates must not advance on a step that is not taken.
    solver = Euclidean(PARAMETRIZATIONS["cholesky"](FULL), Adam(), reg_covar=1e-6)
    state = solver.init(np.random.default_rng(0).normal(size=(10, 2)), None)
    monkeypatch.setattr(solver, "_acceptable", lambda *args: False)
    new, shrunk = solver.step(state, np.array([[1.0, -1.0]]), None, 0.1)
    assert shrunk and new is state
