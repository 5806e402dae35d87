import numpy as np
import pytest
from scipy.stats import multivariate_normal

from sklearn_onlinegauss._covariance import (
    COVARIANCE_TYPES,
    cholesky_or_raise,
    kl_divergence,
    log_density,
    mahalanobis,
    regularize,
)


@pytest.mark.parametrize("name", sorted(COVARIANCE_TYPES))
def test_structures_are_orthogonal_projections(name):
    project = COVARIANCE_TYPES[name]
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 4, 4))
    np.testing.assert_allclose(project(project(A)), project(A))  # idempotent
    assert np.sum((A - project(A)) * project(B)) == pytest.approx(0, abs=1e-12)  # orthogonal


def test_regularize_leaves_a_well_determined_covariance_untouched():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    cov = (Q * np.logspace(0, 6, 6)) @ Q.T  # condition number 1e6, rotated
    assert regularize(np.zeros(6), cov, 1e-6) is cov


def test_regularize_fills_in_missing_directions_and_is_unit_free():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, 5))  # fewer samples than features: rank 2
    cov = np.cov(X.T, bias=True)
    reg = regularize(X.mean(0), cov, 1e-6)
    eig = np.linalg.eigvalsh(reg)
    assert eig[0] > 0
    # Directions the data determine keep their variance.
    assert eig[-1] == pytest.approx(np.linalg.eigvalsh(cov)[-1], rel=1e-5)
    # Rescaling and shifting every feature commutes with the regularization.
    c, b = np.array([1e-4, 1.0, 1e3, 1e6, 7.0]), 1e3
    reg_scaled = regularize(X.mean(0) * c + b, cov * np.outer(c, c), 1e-6)
    np.testing.assert_allclose(reg_scaled, reg * np.outer(c, c), rtol=1e-9)


def test_regularize_gives_a_constant_feature_a_small_positive_variance():
    cov = np.diag([4.0, 0.0, 1.0])
    reg = regularize(np.zeros(3), cov, 1e-6)
    assert reg[1, 1] == pytest.approx(1e-6 * 2.5)  # reg_covar * mean of the other variances
    assert reg[0, 0] == 4.0 and reg[2, 2] == 1.0
    allzero = regularize(np.array([3.0, 4.0]), np.zeros((2, 2)), 1e-6)
    np.testing.assert_allclose(allzero, 1e-6 * 12.5 * np.eye(2))  # mean square of the location


def test_cholesky_or_raise_says_what_to_do():
    with pytest.raises(ValueError, match="reg_covar"):
        cholesky_or_raise(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="not numerically positive definite"):
        cholesky_or_raise(np.array([[np.nan]]))


def test_log_density_and_mahalanobis_match_scipy():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(3, 3))
    cov, mu = A @ A.T + 0.1 * np.eye(3), rng.normal(size=3)
    X = rng.normal(size=(20, 3)) * 5
    L = np.linalg.cholesky(cov)
    np.testing.assert_allclose(log_density(X, mu, L), multivariate_normal(mu, cov).logpdf(X))
    d = X - mu
    np.testing.assert_allclose(mahalanobis(X, mu, L), np.sum(d @ np.linalg.inv(cov) * d, 1))


def test_log_density_stays_finite_far_from_the_mean():
    # exp of the log-density underflows to 0 here; its log must not be -inf.
    value = log_density(np.array([[1e6]]), np.zeros(1), np.eye(1))
    assert np.isfinite(value[0]) and value[0] == pytest.approx(-0.5 * (np.log(2 * np.pi) + 1e12))


def test_kl_divergence_of_a_known_pair():
    # KL(N(0, 1) || N(1, 4)) = log 2 + (1 + 1) / 8 - 1/2
    kl = kl_divergence(np.zeros(1), np.eye(1), np.ones(1), 4 * np.eye(1))
    assert kl == pytest.approx(np.log(2) + 2 / 8 - 0.5)
    assert kl_divergence(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2)) == 0
