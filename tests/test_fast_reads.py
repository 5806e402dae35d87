"""The reads' fast paths give what the plain computations give.

A matrix product with the inverse factor in place of the triangular solve,
the classes' scores laid out class by class, the first largest score found
column by column: each is compared here with the computation it replaces.
"""

import gc

import numpy as np
import pytest

from sklearn_onlinegauss._structures import STRUCTURES
from sklearn_onlinegauss._structures import full as full_module
from sklearn_onlinegauss._structures.full import _matrix_mahalanobis, whitenings


def _factor(d, condition, rng):
    """A lower Cholesky factor of a random covariance of the given condition number."""
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    covariance = (Q * np.geomspace(1.0, condition, d)) @ Q.T
    return np.linalg.cholesky(covariance)[None]


@pytest.mark.parametrize("d", [1, 3, 10, 64])
@pytest.mark.parametrize("condition", [1.0, 1e6])
def test_whitened_distances_equal_the_solved_ones(d, condition):
    rng = np.random.default_rng(d)
    factor = _factor(d, condition, rng)
    X = rng.normal(size=(3000, d)) * 10.0
    origin, mean = rng.normal(size=d), rng.normal(size=d)
    solved = _matrix_mahalanobis(X, origin, mean, factor[0], np.empty(len(X)))
    W = whitenings(factor, len(X))[0]
    whitened = _matrix_mahalanobis(X, origin, mean, factor[0], np.empty(len(X)), W)
    # Both are backward stable: each distance within a few eps times the condition.
    np.testing.assert_allclose(whitened, solved, rtol=64 * d * condition * 2.0**-52)


def test_whitenings_are_computed_once_per_factor_and_dropped_with_it():
    rng = np.random.default_rng(0)
    factor = _factor(5, 10.0, rng)
    assert whitenings(factor, 1) is None  # too few rows to repay them, none computed yet
    first = whitenings(factor, 100)
    assert whitenings(factor, 100) is first and whitenings(factor, 1) is first
    np.testing.assert_allclose(first[0].T @ factor[0], np.eye(5), atol=1e-12)
    key = id(factor)
    del factor
    gc.collect()
    assert key not in full_module._WHITENINGS


def test_a_singular_factor_is_solved_and_refused_as_before():
    factor = np.zeros((1, 3, 3))
    assert whitenings(factor, 100) is None
    with pytest.raises(np.linalg.LinAlgError):
        _matrix_mahalanobis(np.ones((100, 3)), 0.0, np.zeros(3), factor[0], np.empty(100))


@pytest.mark.parametrize("name", ["full", "tied", "diag", "spherical"])
def test_distances_of_many_rows_equal_those_row_by_row(name):
    rng = np.random.default_rng(1)
    structure, d, K = STRUCTURES[name], 6, 3
    X = rng.normal(size=(400, d))
    weights = rng.dirichlet(np.ones(K), size=len(X))
    state = structure.step(structure.empty(K, d), X, weights, 0.0)
    state, factor = structure.regularized(state, 1e-6)
    many = structure.mahalanobis(state, factor, X)
    one_by_one = np.vstack([structure.mahalanobis(state, factor, x[None]) for x in X[:50]])
    assert many.shape == (len(X), K)
    np.testing.assert_allclose(many[:50], one_by_one, rtol=1e-12)
