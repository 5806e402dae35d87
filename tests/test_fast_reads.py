"""The reads' fast paths give what the plain computations give.

A matrix product with the inverse factor in place of the triangular solve,
the classes' scores laid out class by class, the first largest score found
column by column: each is compared here with the computation it replaces.
"""

import gc

import numpy as np
import pytest

from sklearn_onlinegauss import OnlineGaussianClassifier
from sklearn_onlinegauss._classes import first_largest, log_posteriors, posteriors
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
    large = _factor(40, 10.0, rng)  # an inverse of more flops than SMALL_INVERSE
    assert 40**3 > 3 * full_module.SMALL_INVERSE
    assert whitenings(large, 39) is None  # too few rows to repay it, none computed yet
    assert whitenings(large, 40) is whitenings(large, 1)
    factor = _factor(5, 10.0, rng)
    first = whitenings(factor, 1)  # small: computed for one row
    assert whitenings(factor, 100) is first
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
    one_by_one = np.vstack([structure.mahalanobis(state, factor, x[None]) for x in X[:50]])
    many = structure.mahalanobis(state, factor, X)
    assert many.shape == (len(X), K) and one_by_one.shape == (50, K)
    np.testing.assert_allclose(many[:50], one_by_one, rtol=1e-12)
    if name in ("full", "tied"):  # the same through the solves, inverses forgotten
        full_module._WHITENINGS.clear()
        solved = _matrix_mahalanobis(X, state.origins[0], state.means[0], factor[0], np.empty(400))
        np.testing.assert_allclose(many[:, 0], solved, rtol=1e-12)


@pytest.mark.parametrize("shape", [(1, 3), (5, 3), (2000, 10), (2000, 2), (50, 1), (8000, 300)])
@pytest.mark.parametrize("by_class", [False, True])
def test_first_largest_is_argmax_ties_included(shape, by_class):
    rng = np.random.default_rng(2)
    scores = rng.integers(-3, 3, size=shape).astype(float)  # many ties
    scores[::7] = -np.inf
    scores[::7, -1] = 1.0
    if shape[0] > 3 and shape[1] > 1:
        scores[3, 1] = np.nan  # argmax's: the first NaN
    if by_class:
        scores = np.ascontiguousarray(scores.T).T
    np.testing.assert_array_equal(first_largest(scores), np.argmax(scores, axis=1))


def test_posteriors_are_the_exp_of_the_log_posteriors():
    rng = np.random.default_rng(3)
    joint = np.ascontiguousarray((rng.normal(size=(3000, 4)) * 300).T).T
    joint[:, 2] = -np.inf  # a class not seen
    p, log_p = posteriors(joint), log_posteriors(joint)
    assert p.flags.c_contiguous and log_p.flags.c_contiguous
    np.testing.assert_allclose(p, np.exp(log_p), rtol=1e-13, atol=1e-300)
    np.testing.assert_array_equal(p[:, 2], 0.0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)


@pytest.mark.parametrize("covariance", ["shared", "per-class"])
def test_classifier_reads_are_c_ordered_and_equal_their_plain_forms(covariance):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 5)) + np.repeat(np.eye(5)[:3] * 4, 1000, axis=0)
    y = np.repeat([0, 1, 2], 1000)
    clf = OnlineGaussianClassifier(covariance=covariance).fit(X, y)
    joint = clf._joint_log_likelihood(X)
    for read in ("predict_proba", "predict_log_proba", "decision_function"):
        assert getattr(clf, read)(X).flags.c_contiguous, read
    shifted = joint - joint.max(axis=1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(clf.predict_log_proba(X), expected, atol=1e-13)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(joint, axis=1)])
    if covariance == "shared":
        np.testing.assert_allclose(
            clf.decision_function(X), X @ clf.coef_.T + clf.intercept_, rtol=1e-12, atol=1e-12
        )


def test_block_products_run_on_one_thread_unless_the_call_is_long():
    from threadpoolctl import threadpool_info, threadpool_limits

    from sklearn_onlinegauss._linalg import block_threads_for
    from sklearn_onlinegauss._threads import LAPACK_THREADED_WORK, UNTHREADED_WORK

    def threads():
        return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    with threadpool_limits(2, user_api="blas"):
        if threads() < 2:
            pytest.skip("a BLAS of one thread")
        with block_threads_for(UNTHREADED_WORK):
            assert threads() == 1
        for work in (UNTHREADED_WORK - 1, LAPACK_THREADED_WORK):  # short: no limit set; long
            with block_threads_for(work):
                assert threads() == 2
        assert threads() == 2
    with threadpool_limits(1), block_threads_for(LAPACK_THREADED_WORK):
        assert threads() == 1  # the user's limit kept


@pytest.mark.parametrize("n_rows", [1, 3, 5000])
def test_rows_beyond_float64_are_read_without_a_warning(n_rows):
    import warnings

    from sklearn_onlinegauss import OnlineGaussian, OnlineGaussianMixture

    rng = np.random.default_rng(5)
    X = rng.normal(size=(600, 4)) * 1e-4  # variances 1e-8: the distances overflow
    y = np.repeat([0, 1, 2], 200)
    far = np.full((n_rows, 4), 1e150) * np.where(np.arange(4) % 2, 1.0, -1.0)
    density = OnlineGaussian().fit(X)
    mixture = OnlineGaussianMixture(2, random_state=0).fit(X)
    classifier = OnlineGaussianClassifier().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(density.mahalanobis(far) == np.inf)
        assert np.all(density.score_samples(far) == -np.inf)
        assert np.all(mixture.score_samples(far) == -np.inf)
        assert np.isfinite(mixture.predict_proba(far)).all()
        assert np.all(classifier.mahalanobis(far) == np.inf)
        np.testing.assert_allclose(classifier.predict_proba(far).sum(axis=1), 1.0)


def test_shared_classifier_reads_as_well_far_from_the_origin():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(3000, 5)) + np.repeat(np.eye(5)[:3] * 3, 1000, axis=0)
    y = np.repeat([0, 1, 2], 1000)
    near = OnlineGaussianClassifier(covariance="shared").fit(X, y)
    offset = 1e7  # the class means are known to about eps * offset = 2e-9
    far = OnlineGaussianClassifier(covariance="shared").fit(X + offset, y)
    np.testing.assert_allclose(
        far.predict_log_proba(X + offset), near.predict_log_proba(X), rtol=1e-6, atol=1e-6
    )
    float32 = X.astype(np.float32)
    np.testing.assert_allclose(
        near.predict_log_proba(float32), near.predict_log_proba(float32.astype(float)), atol=1e-12
    )
