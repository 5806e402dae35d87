import numpy as np
import pytest
from scipy.linalg import LinAlgError, cholesky, solve_triangular

from sklearn_onlinegauss._linalg import cholesky_lower, solve_lower


def _spd(n, seed=0):
    A = np.random.default_rng(seed).normal(size=(n, n))
    return A @ A.T + n * np.eye(n)


@pytest.mark.parametrize("trans", [False, True])
@pytest.mark.parametrize("shape", [(5,), (5, 3), (5, 1)])
def test_solve_lower_is_scipys_solve_triangular(trans, shape):
    L = cholesky(_spd(5), lower=True)
    B = np.random.default_rng(1).normal(size=shape)
    expected = solve_triangular(L, B, lower=True, trans="T" if trans else "N")
    np.testing.assert_allclose(solve_lower(L, B, trans=trans), expected, rtol=1e-12)
    # C- and Fortran-ordered right-hand sides alike.
    np.testing.assert_allclose(solve_lower(L, np.asfortranarray(B), trans=trans), expected)


def test_solve_lower_refuses_a_singular_factor():
    L = np.tril(np.ones((3, 3)))
    L[1, 1] = 0.0
    with pytest.raises(LinAlgError, match="singular"):
        solve_lower(L, np.ones(3))


def test_cholesky_lower_is_scipys_and_zero_above_the_diagonal():
    A = _spd(6)
    L = cholesky_lower(A)
    np.testing.assert_allclose(L, cholesky(A, lower=True), rtol=1e-12)
    assert np.all(np.triu(L, 1) == 0)


@pytest.mark.parametrize("A", [-np.eye(3), np.array([[1.0, 2.0], [2.0, 1.0]])])
def test_cholesky_lower_refuses_what_is_not_positive_definite(A):
    with pytest.raises(LinAlgError, match="not positive definite"):
        cholesky_lower(A)
