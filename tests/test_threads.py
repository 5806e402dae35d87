"""Which BLAS threads the library's calls use: numpy's and scipy's pools kept apart."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sklearn_onlinegauss import _linalg, _threads


def _thread_counts():
    return [lib.num_threads for lib in _threads._blas()]


@pytest.fixture
def two_threads():
    """Every BLAS library on two threads, where the machine allows it."""
    with threadpool_limits(limits=2, user_api="blas"):
        if min(_thread_counts()) < 2:
            pytest.skip("this machine's BLAS will not run two threads")
        yield


def test_medium_lapack_calls_leave_scipys_threads_asleep(two_threads):
    second = _threads._second_blas()
    if not second:
        pytest.skip("one BLAS library: no second pool to keep apart")
    numpys = [lib for lib in _threads._blas() if lib not in second]
    with _threads.lapack_threads_for(2**20):
        assert [lib.num_threads for lib in second] == [1] * len(second)
        assert [lib.num_threads for lib in numpys] == [2] * len(numpys)
    assert min(_thread_counts()) == 2  # restored


@pytest.mark.parametrize("work", [2**10, _threads.LAPACK_THREADED_WORK])
def test_small_and_long_lapack_calls_change_no_thread_count(two_threads, work):
    with _threads.lapack_threads_for(work):
        assert min(_thread_counts()) == 2


def test_numpy_blas_path_is_numpys_own_library():
    path = _threads.numpy_blas_path()
    if path is None:
        pytest.skip("numpy's BLAS is not bundled in its wheel here")
    assert "numpy" in path
    assert all(lib.filepath != path for lib in _threads._second_blas())


def test_blocks_of_a_long_solve_keep_scipys_threads(two_threads, monkeypatch):
    """A medium solve runs on the calling thread, unless it is a block of a long computation."""
    second = _threads._second_blas()
    if not second:
        pytest.skip("one BLAS library: no second pool to keep apart")
    seen, solve = [], _linalg._trsm

    def spy(L, B, trans):
        seen.append(min(lib.num_threads for lib in second))
        return solve(L, B, trans)

    monkeypatch.setattr(_linalg, "_trsm", spy)
    L, B = np.eye(300), np.ones((300, 1000))  # 9e7 flops
    _linalg.solve_lower(L, B)
    _linalg.solve_lower(L, B, call_work=_threads.LAPACK_THREADED_WORK)
    assert seen == [1, 2]


def _estimators_and_calls(rng, n, d):
    from sklearn_onlinegauss import (
        OnlineEllipticEnvelope,
        OnlineGaussian,
        OnlineGaussianClassifier,
        OnlineGaussianMixture,
    )

    X, y = rng.normal(size=(n, d)), rng.integers(3, size=n)
    yield OnlineGaussian(), lambda e: e.partial_fit(X), "score_samples", X
    yield OnlineGaussianMixture(2, random_state=0), lambda e: e.partial_fit(X), "predict_proba", X
    yield OnlineEllipticEnvelope(), lambda e: e.partial_fit(X), "decision_function", X
    clf = OnlineGaussianClassifier()
    yield clf, lambda e: e.partial_fit(X, y, classes=[0, 1, 2]), "predict_proba", X


@pytest.mark.parametrize("rows, threads", [(1000, 1), (20000, 2)])
def test_whole_calls_of_small_work_run_on_one_thread(two_threads, monkeypatch, rows, threads):
    # The validation's pass (the first BLAS call of every call) sees the thread count the
    # call's work sets (the user guide's 'threads' paragraph): one for 1000 x 64 chunks;
    # a chunk big enough for the steps' threads to pay keeps them, its reads do not.
    from sklearn_onlinegauss import _streaming

    seen, check = [], _streaming._squares_sum_finitely

    def spy(X):
        seen.append(min(_thread_counts()))
        return check(X)

    monkeypatch.setattr(_streaming, "_squares_sum_finitely", spy)
    for est, learn, read, X in _estimators_and_calls(np.random.default_rng(0), rows, 64):
        # The mixture's steps are batches of 200 rows at any chunk size: one thread.
        expected = threads if est._batch_work(rows, 64) >= _threads.THREADED_WORK else 1
        # A read keeps the threads only from LAPACK_THREADED_WORK flops (its blocks' rule),
        # also inside a call that learns (the detector's distances).
        reading = threads if rows * 64**2 >= _threads.LAPACK_THREADED_WORK else 1
        for _ in range(2):  # validate_data first, then the plain-array shortcut
            seen.clear()
            learn(est)
            assert seen[0] == expected and set(seen) <= {expected, reading}, type(est)
        seen.clear()
        getattr(est, read)(X)
        assert seen == [reading] * len(seen) and seen, f"{type(est).__name__}.{read}"
    assert min(_thread_counts()) == 2  # restored


def test_a_users_own_limit_is_kept_through_a_call(monkeypatch):
    from sklearn_onlinegauss import _streaming

    seen, check = [], _streaming._squares_sum_finitely
    monkeypatch.setattr(
        _streaming, "_squares_sum_finitely", lambda X: seen.append(_thread_counts()) or check(X)
    )
    with threadpool_limits(limits=1, user_api="blas"):
        for est, learn, read, X in _estimators_and_calls(np.random.default_rng(1), 20000, 64):
            learn(est)
            getattr(est, read)(X)
    assert seen and all(max(counts) == 1 for counts in seen)
