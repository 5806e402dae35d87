import numpy as np
import pytest
from scipy.linalg import LinAlgError, cholesky, solve_triangular

from sklearn_onlinegauss import _linalg
from sklearn_onlinegauss._linalg import cholesky_lower, mirror_lower, solve_lower


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
    # C- and Fortran-ordered factors and right-hand sides alike; B is not written to.
    for factor in (np.ascontiguousarray(L), np.asfortranarray(L)):
        for rhs in (np.ascontiguousarray(B), np.asfortranarray(B)):
            kept = rhs.copy()
            np.testing.assert_allclose(solve_lower(factor, rhs, trans=trans), expected, rtol=1e-12)
            np.testing.assert_array_equal(rhs, kept)


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


@pytest.mark.parametrize("d", [1, 2, 63, 64, 65, 130])
def test_mirror_lower_copies_the_lower_triangle_onto_the_upper(d):
    C = np.random.default_rng(d).normal(size=(d, d))
    expected = np.tril(C) + np.tril(C, -1).T
    assert mirror_lower(C) is C
    np.testing.assert_array_equal(C, expected)


@pytest.mark.parametrize("numpy_blas", [True, False], ids=["numpy-dsyrk", "matmul"])
@pytest.mark.parametrize("n, d", [(2, 1), (7, 5), (300, 70), (40, 130)])
def test_blend_scatter_is_the_symmetric_blend(monkeypatch, numpy_blas, n, d):
    """``beta C + alpha R'R``, exactly symmetric, ``C`` untouched; by either route."""
    monkeypatch.setattr(_linalg, "LARGE_MATRIX", 0 if numpy_blas else np.inf)
    rng = np.random.default_rng(n + d)
    R = rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-3, 3, size=d)
    C = _spd(d, seed=n)
    before = C.copy()
    new = _linalg.blend_scatter(C, R, 0.3, 0.7)
    expected = 0.3 * (R.T @ R) + 0.7 * C
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    assert np.abs(new - expected).max() / scale.max() < 1e-13
    np.testing.assert_array_equal(new, new.T)
    np.testing.assert_array_equal(C, before)


def test_numpy_dsyrk_is_numpys_own_blas_where_its_wheels_bundle_it():
    """On numpy's PyPI wheels (scipy-openblas64) the step finds numpy's ``cblas_dsyrk``."""
    config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    if config.get("name") != "scipy-openblas" or "USE64BITINT" not in config.get(
        "openblas configuration", ""
    ):
        pytest.skip(f"numpy is built with {config.get('name')}: the matmul route is used")
    assert _linalg._numpy_dsyrk() is not None
    assert _linalg._large_dsyrk(1025) is _linalg._numpy_dsyrk()
    assert _linalg._large_dsyrk(1024) is None


@pytest.mark.parametrize("numpy_blas", [True, False], ids=["numpy-dsyrk", "matmul"])
def test_add_scatter_adds_to_the_lower_triangle(monkeypatch, numpy_blas):
    monkeypatch.setattr(_linalg, "LARGE_MATRIX", 0 if numpy_blas else np.inf)
    rng = np.random.default_rng(3)
    R, C = rng.normal(size=(90, 150)), rng.normal(size=(150, 150))
    before = C.copy()
    _linalg.add_scatter(C, R, 0.25)
    expected = before + 0.25 * (R.T @ R)
    np.testing.assert_allclose(np.tril(C), np.tril(expected), rtol=1e-12, atol=1e-12)


def test_the_in_place_dsyrk_refuses_a_matrix_it_would_write_past():
    if _linalg._numpy_dsyrk() is None:
        pytest.skip("numpy's dsyrk is not reachable here")
    R = np.ones((5, 4))
    for C in (np.zeros((4, 8))[:, ::2], np.zeros((3, 3)), np.zeros((4, 4), np.float32)):
        with pytest.raises(TypeError, match="C-ordered float64"):
            _linalg._call(_linalg._numpy_dsyrk(), _linalg._UPPER, C, R, 1.0, 1.0)
