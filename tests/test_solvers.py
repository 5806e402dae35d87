import numpy as np
import pytest

from sklearn_onlinegauss._optimizers import SGD, Adam
from sklearn_onlinegauss._parametrizations import PARAMETRIZATIONS
from sklearn_onlinegauss._schedules import Rate
from sklearn_onlinegauss._solvers import Euclidean, EuclideanState, Natural, WarmupState
from sklearn_onlinegauss._structures import STRUCTURES

FULL = STRUCTURES["full"]
OPTIMAL = Rate("optimal", 0.01, 0.5)


def _constant(eta):
    return Rate("constant", eta, 0.5)


def test_natural_steps_with_share_of_weight_pool_exactly():
    rng = np.random.default_rng(1)
    X, w = rng.normal(size=(100, 3)) * [1, 10, 0.1] - 50, rng.integers(1, 4, 100).astype(float)
    solver, bounds, t = Natural(FULL), [0, 7, 8, 40, 100], 0.0
    state = solver.start(3)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        state, shrunk = solver.step(state, X[a:b], w[a:b], t, OPTIMAL)
        t += w[a:b].sum()
        assert shrunk is False
    np.testing.assert_allclose(state.locations[0], np.average(X, axis=0, weights=w))
    np.testing.assert_allclose(
        state.covariances[0], np.cov(X.T, aweights=w, bias=True), rtol=1e-10
    )


def test_natural_constant_rate_one_row_at_a_time_by_hand():
    # The state starts at the first row, then each row replaces a fraction eta0.
    solver = Natural(FULL)
    state = solver.start(1)
    for t, x in enumerate([2.0, 4.0, 0.0]):
        state, _ = solver.step(state, np.array([[x]]), None, float(t), _constant(0.25))
    # mean: 2 -> 2.5 -> 1.875; variance: 0 -> 0.75 * 0.25 * 4 = 0.75
    # -> 0.75 * 0.75 + 0.25 * 0.75 * 2.5**2 = 1.734375
    np.testing.assert_allclose(state.locations[0], [1.875])
    np.testing.assert_allclose(state.covariances[0], [[1.734375]])


def _euclidean(name="covariance"):
    return Euclidean(FULL, PARAMETRIZATIONS[name](FULL), SGD(), reg_covar=1e-6)


def test_euclidean_warms_up_on_exact_moments_of_five_times_n_features_plus_one_rows():
    from sklearn_onlinegauss._solvers import WARM_UP_ROWS

    solver = _euclidean()
    X = np.random.default_rng(3).normal(size=(WARM_UP_ROWS * 3, 2))
    big = _constant(123.0)  # the rate is ignored while warming up
    state, _ = solver.step(solver.start(2), X[:1], np.ones(1), 0.0, big)
    assert isinstance(state, WarmupState)
    state, _ = solver.step(state, X[1:-1], np.ones(len(X) - 2), 1.0, big)
    assert isinstance(state, WarmupState) and state.weight == len(X) - 1
    state, _ = solver.step(state, X[-1:], np.ones(1), len(X) - 1.0, big)
    assert isinstance(state, EuclideanState)
    moments = solver.moments(state)
    np.testing.assert_allclose(moments.locations[0], X.mean(0))
    np.testing.assert_allclose(moments.covariances[0], np.cov(X.T, bias=True))


@pytest.mark.parametrize("scale", [1e-3, 1 / 300, 1.0, 7.0])
def test_the_warm_up_counts_rows_whatever_the_scale_of_the_weights(scale):
    # Issue 29: weights are relative. The smallest positive weight is one row, so
    # weights 1 and 2 (scaled) leave the warm-up at the rows their repeated rows
    # take, 5 (d + 1) = 15 in d = 2: sums of 1 / 300 round, and must still count.
    from sklearn_onlinegauss._solvers import WARM_UP_ROWS

    solver, big = _euclidean(), _constant(123.0)
    X = np.random.default_rng(3).normal(size=(WARM_UP_ROWS * 3, 2))
    w = scale * np.where(np.arange(len(X)) % 2 == 1, 2.0, 1.0)  # 1 2 1 2 ... 1
    rows = np.cumsum(w / scale)
    state, t, warming = solver.start(2), 0.0, []
    for i in range(len(X)):
        state, _ = solver.step(state, X[i : i + 1], w[i : i + 1], t, big)
        t += w[i]
        warming.append(isinstance(state, WarmupState))
    assert warming == list(rows < WARM_UP_ROWS * 3)  # 10 warm-up steps to 15 rows, then 5


def test_euclidean_step_that_would_leave_the_cone_is_shrunk_to_the_trust_region():
    # The textbook failure: variance 1e-4, step 0.5 on a sample at 0 pushes the
    # variance by a * G = 0.5 * (-1 / (2 * 1e-4)) = -2500: negative.
    solver = _euclidean()
    state = EuclideanState((np.zeros(1), np.array([[1e-4]])), ())
    new, shrunk = solver.step(state, np.zeros((1, 1)), np.ones(1), 5.0, _constant(0.5))
    assert shrunk
    (variance,) = new.params[1].ravel()
    assert 0.5e-4 <= variance < 1e-4  # shrunk, not reset, and not past the halving bound


def test_euclidean_small_step_is_taken_unchanged():
    solver = _euclidean()
    state = EuclideanState((np.zeros(1), np.array([[1.0]])), ())
    new, shrunk = solver.step(state, np.array([[2.0]]), np.ones(1), 5.0, _constant(0.01))
    assert not shrunk
    # grad_mu = 2, grad_Sigma = (4 - 1) / 2 = 1.5
    np.testing.assert_allclose(new.params[0], [0.02])
    np.testing.assert_allclose(new.params[1], [[1.015]])


def test_euclidean_non_finite_gradient_rejects_the_step():
    solver = _euclidean()
    state = EuclideanState((np.zeros(1), np.array([[1e-300]])), ())
    new, shrunk = solver.step(state, np.array([[1e300]]), np.ones(1), 5.0, _constant(0.1))
    assert shrunk and new is state


def test_euclidean_step_no_halving_can_save_is_rejected_with_the_optimizer_state(monkeypatch):
    # Adam's moment estimates must not advance on a step that is not taken.
    solver = Euclidean(FULL, PARAMETRIZATIONS["cholesky"](FULL), Adam(), reg_covar=1e-6)
    X = np.random.default_rng(0).normal(size=(20, 2))
    state, _ = solver.step(solver.start(2), X, None, 0.0, OPTIMAL)
    assert isinstance(state, EuclideanState)
    monkeypatch.setattr(solver, "_acceptable", lambda *args: False)
    new, shrunk = solver.step(state, np.array([[1.0, -1.0]]), None, 10.0, _constant(0.1))
    assert shrunk and new is state


def test_trust_region_test_agrees_with_the_eigenvalues():
    from sklearn_onlinegauss._solvers import _eigenvalues_within

    rng = np.random.default_rng(0)
    decided = {True: 0, False: 0}
    for d in (1, 3, 30):
        for spread in (0.05, 0.3, 0.6, 1.0, 3.0):
            for _ in range(40):
                Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
                eigenvalues = np.exp(rng.normal(scale=spread, size=d))
                S = (Q * eigenvalues) @ Q.T
                S = 0.5 * (S + S.T)
                exact = np.linalg.eigvalsh(S)
                expected = bool(exact[0] >= 0.5 and exact[-1] <= 2.0)
                if min(abs(exact[0] - 0.5), abs(exact[-1] - 2.0)) < 1e-9:
                    continue  # on the boundary: either answer is rounding
                assert _eigenvalues_within(S, 0.5, 2.0) == expected
                decided[expected] += 1
    assert min(decided.values()) > 50  # both answers, through both tests


def test_riemannian_step_is_the_exponential_map_held_to_the_trust_region():
    from scipy.linalg import expm, sqrtm

    from sklearn_onlinegauss._solvers import Riemannian, _Moments  # noqa: F401

    rng = np.random.default_rng(1)
    solver = Riemannian(STRUCTURES["full"], 1e-6)
    A = rng.normal(size=(3, 3))
    location, covariance = rng.normal(size=3), A @ A.T + np.eye(3)
    state = EuclideanState((location, covariance), ())
    X = rng.multivariate_normal(location, covariance, size=50)
    new, shrunk = solver._gradient_step(state, X, None, 0.05)
    m, C = X.mean(axis=0), np.cov(X.T, bias=True)
    S = C + np.outer(m - location, m - location)
    root = np.real(sqrtm(covariance))
    inverse = np.linalg.inv(root)
    expected = root @ expm(0.05 * (inverse @ S @ inverse - np.eye(3))) @ root
    assert not shrunk
    np.testing.assert_allclose(new.params[0], location + 0.05 * (m - location), rtol=1e-12)
    np.testing.assert_allclose(new.params[1], expected, rtol=1e-10)
    assert np.array_equal(new.params[1], new.params[1].T)
    # A batch far away: the step is cut to the trust region's edge, where the
    # covariance doubles in one direction and the mean moves less than one sd.
    far, shrunk = solver._gradient_step(state, X + 100.0, None, 0.5)
    L = np.linalg.cholesky(covariance)
    moved = np.linalg.norm(np.linalg.solve(L, far.params[0] - location))
    ratio = np.linalg.eigvalsh(np.linalg.solve(L, np.linalg.solve(L, far.params[1]).T))
    assert shrunk and moved <= 1.0
    assert ratio.min() >= 0.5 and ratio.max() == pytest.approx(2.0, rel=1e-12)


def test_whitened_state_saves_loads_merges_and_refuses_another_layout(tmp_path):
    from sklearn_onlinegauss import OnlineGaussian, load_model, merge, save_model

    X = np.random.default_rng(2).normal(size=(3000, 3)) * [1, 10, 100]
    est = OnlineGaussian(solver="adam", preconditioner="whiten")
    for chunk in np.array_split(X, 30):
        est.partial_fit(chunk)
    save_model(est, tmp_path / "w.npz")
    loaded = load_model(tmp_path / "w.npz")
    for model in (est, loaded):
        model.partial_fit(X[:100])
    np.testing.assert_array_equal(loaded.covariance_, est.covariance_)
    parts = [
        OnlineGaussian(solver="sgd", preconditioner="whiten").fit(c) for c in X.reshape(3, -1, 3)
    ]
    merged = merge(parts).partial_fit(X[:100])
    np.testing.assert_allclose(np.sqrt(np.diag(merged.covariance_)), [1, 10, 100], rtol=0.1)
    with pytest.raises(ValueError, match="preconditioner"):
        OnlineGaussian(solver="sgd").fit(X).set_params(preconditioner="whiten").partial_fit(X)
