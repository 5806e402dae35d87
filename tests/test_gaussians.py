"""The core of K Gaussians, without any estimator: every structure against references."""

import numpy as np
import pytest
from _helpers import assert_covariances_close
from scipy.stats import multivariate_normal
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from sklearn_onlinegauss._gaussians import batch_moments, pool, step_toward
from sklearn_onlinegauss._structures import STRUCTURES

NAMES = sorted(STRUCTURES)
PER_COMPONENT = ["diag", "full", "spherical"]


def _labelled(n=400, d=4, K=5, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    means = rng.normal(scale=5, size=(K, d)) + offset
    X = means[y] + rng.normal(size=(n, d)) * [1, 10, 0.1, 1][:d]
    return X, y


def _stream(structure, X, weights, K, sizes):
    """Feed ``X`` in chunks of ``sizes`` rows with ``retain = 1`` (weights as counts)."""
    state = structure.empty(K, X.shape[1])
    bounds = np.cumsum([0, *sizes])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        state = structure.step(state, X[a:b], weights[a:b], 1.0)
    return state


def _sizes(n, size):
    return [size] * (n // size) + ([n % size] if n % size else [])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [1, 7, 100, 400])
def test_hard_weights_equal_separate_fits_of_the_partitioned_rows(name, size):
    structure = STRUCTURES[name]
    X, y = _labelled(offset=1e3)
    K = 5
    state = _stream(structure, X, np.eye(K)[y], K, _sizes(len(X), size))
    separate = []
    for k in range(K):
        Xk = X[y == k]
        separate.append(_stream(structure, Xk, np.ones(len(Xk)), 1, _sizes(len(Xk), 13)))
        assert state.weights[k] == np.sum(y == k)
        np.testing.assert_allclose(state.locations[k], separate[k].locations[0], rtol=1e-12)
    if name == "tied":  # the pooled within-group covariance of the K separate fits
        counts = np.bincount(y)
        expected = sum(c * s.covariances for c, s in zip(counts, separate, strict=True))
        assert_covariances_close(state.covariances, expected / len(X), rtol=1e-12)
    else:
        for k in range(K):
            assert_covariances_close(state.covariances[k], separate[k].covariances[0], 1e-12)


@pytest.mark.parametrize("size", [1, 7, 100, 400])
def test_tied_is_linear_discriminant_analysis_pooled_covariance(size):
    X, y = _labelled(seed=1)
    state = _stream(STRUCTURES["tied"], X, np.eye(5)[y], 5, _sizes(len(X), size))
    lda = LinearDiscriminantAnalysis(solver="lsqr", store_covariance=True).fit(X, y)
    np.testing.assert_allclose(state.covariances, lda.covariance_, rtol=1e-10)
    np.testing.assert_allclose(state.locations, lda.means_, rtol=1e-12)


def test_tied_step_wider_than_its_row_buffer_is_exact():
    # d = 600: the ~2 MB buffer of centred rows holds 436 of them, so one step of
    # 1500 rows in 7 classes (one of them larger than the buffer) adds it in turns.
    rng = np.random.default_rng(3)
    y = np.minimum(rng.integers(0, 9, 1500), 6)  # class 6 has 1/3 of the rows
    X = rng.normal(size=(7, 600))[y] + rng.normal(size=(1500, 600)) @ rng.normal(size=(600, 600))
    state = _stream(STRUCTURES["tied"], X, np.eye(7)[y], 7, [700, 800])
    lda = LinearDiscriminantAnalysis(solver="lsqr", store_covariance=True).fit(X, y)
    assert np.array_equal(state.covariances, state.covariances.T)
    np.testing.assert_allclose(state.covariances, lda.covariance_, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", PER_COMPONENT)
def test_soft_weights_give_each_component_its_weighted_moments(name):
    structure = STRUCTURES[name]
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3)) * [1, 100, 0.01] + 1e4  # up to 1e6 sd from 0
    R = rng.dirichlet(np.ones(3), size=300)  # responsibilities
    state = _stream(structure, X, R, 3, [1, 6, 93, 200])
    for k in range(3):
        cov = np.cov(X.T, aweights=R[:, k], bias=True)
        expected = structure.to_full(structure.from_full(np.zeros((1, 3)), cov[None]))[0]
        assert_covariances_close(structure.to_full(state)[k], expected, rtol=1e-9)
        np.testing.assert_allclose(state.locations[k], np.average(X, axis=0, weights=R[:, k]))
    np.testing.assert_allclose(state.weights, R.sum(axis=0))


@pytest.mark.parametrize("name", ["diag", "spherical"])
def test_diag_and_spherical_steps_are_the_projected_full_step(name):
    rng = np.random.default_rng(3)
    structure, full = STRUCTURES[name], STRUCTURES["full"]
    X = rng.normal(size=(50, 4)) + 10
    start = full.step(full.empty(2, 4), X[:10], rng.random((10, 2)), 1.0)
    weights = rng.random((40, 2))
    projected = structure.from_full(start.locations, start.covariances, start.weights)
    for retain in (1.0, 0.3, np.array([0.5, 0.9])):
        expected = full.step(start, X[10:], weights, retain)
        got = structure.step(projected, X[10:], weights, retain)
        np.testing.assert_allclose(got.locations, expected.locations, rtol=1e-13)
        projected_expected = structure.from_full(expected.locations, expected.covariances)
        np.testing.assert_allclose(got.covariances, projected_expected.covariances, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_combine_pools_exactly(name):
    structure = STRUCTURES[name]
    X, y = _labelled(seed=4)
    Y = np.eye(5)[y]
    whole = _stream(structure, X, Y, 5, [400])
    a = _stream(structure, X[:150], Y[:150], 5, [150])
    b = _stream(structure, X[150:], Y[150:], 5, [250])
    combined = structure.combine(a, b)
    for got, expected in zip(combined, whole, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-11)


@pytest.mark.parametrize("name", NAMES)
def test_a_step_leaves_the_old_state_and_untouched_components_unchanged(name):
    structure = STRUCTURES[name]
    X, y = _labelled(seed=5)
    state = _stream(structure, X, np.eye(5)[y], 5, [400])
    copy = [a.copy() for a in state]
    weights = np.zeros((10, 5))
    weights[:, 2] = 1.0
    new = structure.step(state, X[:10] + 3, weights, 1.0)
    for a, b in zip(state, copy, strict=True):
        np.testing.assert_array_equal(a, b)
    untouched = [0, 1, 3, 4]
    np.testing.assert_array_equal(new.locations[untouched], state.locations[untouched])
    if name != "tied":
        np.testing.assert_array_equal(new.covariances[untouched], state.covariances[untouched])
    assert new.weights[2] == state.weights[2] + 10


@pytest.mark.parametrize("name", NAMES)
def test_log_density_and_mahalanobis_of_every_component_match_scipy(name):
    structure = STRUCTURES[name]
    X, y = _labelled(seed=6)
    state = _stream(structure, X, np.eye(5)[y], 5, [100] * 4)
    factor = structure.factor(state)
    points = X[:20] * 1.5
    log_density = structure.log_density(state, factor, points)
    distances = structure.mahalanobis(state, factor, points)
    assert log_density.shape == distances.shape == (20, 5)
    for k, cov in enumerate(structure.to_full(state)):
        reference = multivariate_normal(state.locations[k], cov)
        np.testing.assert_allclose(log_density[:, k], reference.logpdf(points), rtol=1e-10)
        r = points - state.locations[k]
        expected = np.sum(r @ np.linalg.inv(cov) * r, axis=1)
        np.testing.assert_allclose(distances[:, k], expected, rtol=1e-9)
        np.testing.assert_allclose(
            structure.precisions(factor, 4)[min(k, len(factor) - 1)], np.linalg.inv(cov), rtol=1e-9
        )


@pytest.mark.parametrize("name", NAMES)
def test_log_density_stays_finite_far_from_the_mean(name):
    # exp of the log-density underflows to 0 here; its log must not be -inf.
    structure = STRUCTURES[name]
    state = structure.from_full(np.zeros((1, 1)), np.eye(1)[None])
    value = structure.log_density(state, structure.factor(state), np.array([[1e6]]))
    assert value[0, 0] == pytest.approx(-0.5 * (np.log(2 * np.pi) + 1e12))


@pytest.mark.parametrize("name", NAMES)
def test_samples_have_the_component_moments(name):
    structure = STRUCTURES[name]
    X, y = _labelled(seed=7, d=3)
    state = _stream(structure, X, np.eye(5)[y], 5, [400])
    factor = structure.factor(state)
    z = np.random.default_rng(0).standard_normal((200_000, 3))
    draws = structure.sample(state, factor, 2, z)
    cov = structure.to_full(state)[2]
    # Standard errors of a sample mean and covariance: sqrt(var / n) and
    # sqrt((var_i var_j + cov_ij^2) / n); 5 of them.
    se_mean = np.sqrt(np.diag(cov) / len(z))
    np.testing.assert_array_less(np.abs(draws.mean(0) - state.locations[2]), 5 * se_mean)
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / len(z))
    np.testing.assert_array_less(np.abs(np.cov(draws.T) - cov), 5 * se_cov + 1e-12)


def test_tied_refuses_a_retention_per_component():
    tied = STRUCTURES["tied"]
    state = tied.step(tied.empty(2, 2), np.eye(2), np.eye(2), 1.0)
    with pytest.raises(ValueError, match="one retention"):
        tied.step(state, np.eye(2), np.eye(2), np.array([0.5, 0.9]))


@pytest.mark.parametrize("name", PER_COMPONENT)
def test_structures_are_orthogonal_projections(name):
    project = STRUCTURES[name].project
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 4, 4))
    np.testing.assert_allclose(project(project(A)), project(A))  # idempotent
    assert np.sum((A - project(A)) * project(B)) == pytest.approx(0, abs=1e-12)  # orthogonal


def _one(name, location, covariance):
    return STRUCTURES[name].from_full(location[None], covariance[None])


@pytest.mark.parametrize("condition", [1e6, 1e10, 1e12])
def test_regularize_leaves_a_determined_covariance_untouched(condition):
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    state = _one("full", np.zeros(6) + 1e6, (Q * np.logspace(0, np.log10(condition), 6)) @ Q.T)
    assert STRUCTURES["full"].regularized(state, 1e-6)[0] is state


def test_regularize_fills_in_only_missing_directions_and_is_unit_free():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, 5))  # fewer samples than features: rank 2
    cov = np.cov(X.T, bias=True)
    full = STRUCTURES["full"]
    reg = full.regularized(_one("full", X.mean(0), cov), 1e-6)[0].covariances[0]
    eig = np.linalg.eigvalsh(reg)
    assert eig[0] > 0
    # The directions the data determine keep their variance: in correlation
    # units, the fill-in is reg_covar times the projector on the rest.
    scale = np.sqrt(np.diag(cov))
    R = cov / np.outer(scale, scale)
    w, V = np.linalg.eigh(R)
    null = V[:, w < 1e-12]
    expected = (R + 1e-6 * null @ null.T) * np.outer(scale, scale)
    np.testing.assert_allclose(reg, expected, rtol=1e-9, atol=1e-15)
    # Rescaling and shifting every feature commutes with the regularization.
    c, b = np.array([1e-4, 1.0, 1e3, 1e6, 7.0]), 1e3
    scaled = full.regularized(_one("full", X.mean(0) * c + b, cov * np.outer(c, c)), 1e-6)[0]
    np.testing.assert_allclose(scaled.covariances[0], reg * np.outer(c, c), rtol=1e-9)


@pytest.mark.parametrize("name", PER_COMPONENT)
@pytest.mark.parametrize("offset", [0.0, 1e7])
def test_a_feature_that_has_not_varied_gets_reg_covar_in_its_own_units(name, offset):
    structure = STRUCTURES[name]
    cov = np.diag([4.0, 0.0, 1.0]) if name != "spherical" else np.zeros((3, 3))
    reg = structure.to_full(structure.regularized(_one(name, np.zeros(3) + offset, cov), 1e-6)[0])[
        0
    ]
    if name == "spherical":
        np.testing.assert_array_equal(reg, 1e-6 * np.eye(3))
    else:
        np.testing.assert_array_equal(reg, np.diag([4.0, 1e-6, 1.0]))
    # A variance that is only the rounding of a value of 1e7 counts as none.
    rounding = structure.from_full(np.full((1, 3), 1e7), 1e-30 * np.eye(3)[None])
    filled = structure.to_full(structure.regularized(rounding, 1e-6)[0])[0]
    np.testing.assert_array_equal(filled, 1e-6 * np.eye(3))


def test_reg_covar_zero_leaves_a_singular_covariance_to_be_refused():
    full = STRUCTURES["full"]
    with pytest.raises(ValueError, match="reg_covar"):
        full.regularized(_one("full", np.zeros(2), np.zeros((2, 2))), 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_factor_says_what_to_do(name):
    structure = STRUCTURES[name]
    singular = _one(name, np.zeros(2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="reg_covar"):
        structure.factor(singular)
    with pytest.raises(ValueError, match="not numerically positive definite"):
        structure.factor(_one(name, np.zeros(1), np.array([[np.nan]])))


def test_batch_moments_are_numpy_weighted_moments():
    rng = np.random.default_rng(0)
    X, w = rng.normal(size=(30, 3)) + 1e6, rng.random(30)
    W, m, C = batch_moments(X, w)
    assert W == pytest.approx(w.sum())
    np.testing.assert_allclose(m, np.average(X, axis=0, weights=w))
    np.testing.assert_allclose(C, np.cov(X.T, aweights=w, bias=True), rtol=1e-9)


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
    expected = pool(location, covariance, m, C, eta)
    new_location, new_covariance = step_toward(location, covariance, X, w, eta)
    np.testing.assert_allclose(new_location, expected[0], rtol=1e-14)
    scale = np.abs(expected[1]).max()
    np.testing.assert_allclose(new_covariance, expected[1], rtol=0, atol=1e-14 * n_rows * scale)
    np.testing.assert_array_equal(new_covariance, new_covariance.T)


def test_natural_step_by_hand():
    full = STRUCTURES["full"]
    state = full.from_full(np.zeros((1, 2)), np.eye(2)[None])
    X = np.array([[2.0, 0.0], [4.0, 2.0]])  # m = (3, 1), C = [[1, 1], [1, 1]]
    # Weight 1 kept at 0.75, rows gaining 0.25 together: eta = 0.25.
    new = full.step(state, X, np.array([0.125, 0.125]), 0.75)
    np.testing.assert_allclose(new.locations[0], [0.75, 0.25])
    # 0.75 I + 0.25 C + 0.25 * 0.75 * delta delta', delta = (3, 1)
    expected = 0.75 * np.eye(2) + 0.25 * np.ones((2, 2)) + 0.1875 * np.array([[9, 3], [3, 1]])
    np.testing.assert_allclose(new.covariances[0], expected)
    np.testing.assert_allclose(new.weights, [1.0])


@pytest.mark.parametrize("magnitude", [1e-100, 0.1, 1e6, 1e100])
@pytest.mark.parametrize("weighted", [False, True])
def test_identical_rows_have_exactly_no_scatter_at_any_magnitude(magnitude, weighted):
    # The rows are taken relative to one of them (exact differences), so the
    # rounding of their mean leaves no spread (Theory page, "when a feature has
    # not varied"); centring about a directly computed mean left its rounding.
    X = np.tile(magnitude * (0.1 * np.arange(1, 6) + 1), (999, 1))
    w = np.random.default_rng(0).random(999) if weighted else None
    if weighted:
        w[0] = 0.0  # the pivot is a row of positive weight
    for origin in (None, X[0], 0.5 * X[0]):
        W, m, C = batch_moments(X, w, origin)
        np.testing.assert_array_equal(C, 0.0)
        expected = X[0] if origin is None else X[0] - origin
        np.testing.assert_array_equal(m, expected)
