"""Every gradient against central finite differences of the log-likelihood."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from sklearn_onlinegauss._parametrizations import PARAMETRIZATIONS
from sklearn_onlinegauss._structures import STRUCTURES


def _problem(covariance_type, seed=0, d=4, n=9):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1, 3, 0.5, 2][:d] + 1.5
    w = rng.random(n)
    A = rng.normal(size=(d, d))
    cov = STRUCTURES[covariance_type].project(A @ A.T + np.eye(d))
    return X, w / w.sum(), rng.normal(size=d), cov


def _mean_log_likelihood(parametrization, params, X, w):
    location, covariance = parametrization.to_moments(params)
    return w @ multivariate_normal(location, covariance).logpdf(X)


def _directions(name, covariance_type, shape):
    """Unit perturbations of the free matrix entries, as the structure allows them."""
    d = shape[0]
    if covariance_type == "spherical":
        yield np.eye(d)
        return
    for i in range(d):
        for j in range(i + 1 if covariance_type == "full" else i, i + 1):
            E = np.zeros(shape)
            E[i, j] = 1.0
            if name == "covariance":  # a symmetric perturbation of Sigma
                E = E + E.T - np.diag(np.diag(E))
            yield E


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical"])
@pytest.mark.parametrize("name", sorted(PARAMETRIZATIONS))
def test_gradient_matches_finite_differences(name, covariance_type):
    X, w, location, covariance = _problem(covariance_type)
    P = PARAMETRIZATIONS[name](STRUCTURES[covariance_type])
    params = P.from_moments(location, covariance)
    grad_mu, grad_matrix = P.gradient(params, X, w)
    h = 1e-6

    def f(mu, M):
        return _mean_log_likelihood(P, (mu, M), X, w)

    for i in range(len(location)):
        e = np.zeros_like(location)
        e[i] = h
        fd = (f(params[0] + e, params[1]) - f(params[0] - e, params[1])) / (2 * h)
        assert grad_mu[i] == pytest.approx(fd, rel=1e-6, abs=1e-8)
    for E in _directions(name, covariance_type, params[1].shape):
        fd = (f(params[0], params[1] + h * E) - f(params[0], params[1] - h * E)) / (2 * h)
        # The directional derivative is the Frobenius inner product with the
        # gradient; for 'spherical' the projected gradient is mean(diag) * I.
        assert np.sum(grad_matrix * E) == pytest.approx(fd, rel=1e-6, abs=1e-8)
    # The gradient stays in the structure's subspace.
    np.testing.assert_array_equal(grad_matrix, STRUCTURES[covariance_type].project(grad_matrix))


@pytest.mark.parametrize("name", sorted(PARAMETRIZATIONS))
def test_moments_round_trip(name):
    _, _, location, covariance = _problem("full")
    P = PARAMETRIZATIONS[name](STRUCTURES["full"])
    mu, cov = P.to_moments(P.from_moments(location, covariance))
    np.testing.assert_allclose(mu, location)
    np.testing.assert_allclose(cov, covariance, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(PARAMETRIZATIONS))
def test_gradient_vanishes_at_the_maximum_likelihood_estimate(name):
    X, w, _, _ = _problem("full", n=50)
    mean = w @ X
    cov = ((X - mean).T * w) @ (X - mean)
    P = PARAMETRIZATIONS[name](STRUCTURES["full"])
    for g in P.gradient(P.from_moments(mean, cov), X, w):
        np.testing.assert_allclose(g, 0, atol=1e-10)


def test_the_textbook_gradient_is_the_matrix_gradient_not_the_cookbook_one():
    # d/dSigma for a symmetric Sigma in the Frobenius metric is
    # G = 1/2 (Sigma^-1 r r' Sigma^-1 - Sigma^-1); the "free entries" derivative
    # 2G - diag(G) is a different vector and would double off-diagonal steps.
    P = PARAMETRIZATIONS["covariance"](STRUCTURES["full"])
    x, mu, cov = np.array([[1.0, 2.0]]), np.zeros(2), np.array([[2.0, 0.5], [0.5, 1.0]])
    inv = np.linalg.inv(cov)
    r = x[0] - mu
    expected = 0.5 * (inv @ np.outer(r, r) @ inv - inv)
    np.testing.assert_allclose(P.gradient((mu, cov), x, np.ones(1))[1], expected)


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical"])
@pytest.mark.parametrize("name", sorted(PARAMETRIZATIONS))
def test_row_squares_are_the_mean_of_each_rows_squared_gradient(name, covariance_type):
    # Adam's second moment: the weighted mean of every row's own gradient
    # squared, entry by entry, computed without one (d, d) matrix per row.
    X, w, location, covariance = _problem(covariance_type)
    P = PARAMETRIZATIONS[name](STRUCTURES[covariance_type])
    params = P.from_moments(location, covariance)
    grads, squares = P.gradient(params, X, w, squares=True)
    for g, expected in zip(grads, P.gradient(params, X, w), strict=True):
        np.testing.assert_array_equal(g, expected)
    rows = [P.gradient(params, x[None], np.ones(1)) for x in X]
    for k, s in enumerate(squares):
        brute = sum(wi * r[k] ** 2 for wi, r in zip(w, rows, strict=True))
        np.testing.assert_allclose(s, brute, rtol=1e-10, atol=1e-12 * np.abs(brute).max())
