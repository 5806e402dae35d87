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
