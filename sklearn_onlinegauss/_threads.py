"""One BLAS thread for small work, where waking threads costs more than the arithmetic.

On a loaded machine a BLAS call that hands a few microseconds of work to a
second thread can wait milliseconds for it (measured: batches of 100 rows at
d=100 ran 46 times slower with two threads than with one, under two busy
processes). Products big enough to gain from threads keep them. The limit is
set directly on the BLAS libraries (threadpoolctl's controllers, found once),
at about a microsecond per call; a lower limit set by the user is kept.
"""

from contextlib import contextmanager, nullcontext
from functools import cache

__all__ = ["blas_threads_for", "natural_step_work", "scoring_threads_for"]

#: Flops of one batch step (about rows x features**2) from which threads pay.
THREADED_WORK = 2**22


@cache
def _blas():
    from threadpoolctl import ThreadpoolController

    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


#: Below this many flops per call OpenBLAS keeps a natural step's products on
#: one thread anyway (measured at d=10, b=100: the limit only cost time).
UNTHREADED_WORK = 2**16

_UNLIMITED = nullcontext()


def natural_step_work(rows, n_features):
    """The ``work`` of a natural step on ``rows`` rows, for :func:`blas_threads_for`.

    None where no BLAS call could use a second thread: one row (the step is
    elementwise), or products too small for OpenBLAS to split.
    """
    work = rows * n_features**2
    return None if rows == 1 or work < UNTHREADED_WORK else work


def blas_threads_for(work):
    """A context with one BLAS thread if ``work`` (flops per BLAS call) is small.

    ``work=None``: the block makes no BLAS call worth the microsecond.
    """
    if work is None or work >= THREADED_WORK:
        return _UNLIMITED
    return _one_thread()


def scoring_threads_for(rows, n_features):
    """:func:`blas_threads_for` a block of distances: triangular solves of ``rows`` rows.

    Below ``UNTHREADED_WORK`` no limit: OpenBLAS solves so few rows on one
    thread anyway, and setting the limit and back cost a quarter of a one-row
    ``score_samples`` (measured at d = 10 and 100, with the other core busy:
    17.5 -> 13.2 us). The Euclidean solvers' small steps keep the limit:
    without it they ran 3.5 times slower on a loaded machine.
    """
    work = rows * n_features**2
    return _UNLIMITED if work < UNTHREADED_WORK else blas_threads_for(work)


@contextmanager
def _one_thread():
    changed = []
    for lib in _blas():
        threads = lib.num_threads
        if threads > 1:
            lib.set_num_threads(1)
            changed.append((lib, threads))
    try:
        yield
    finally:
        for lib, threads in changed:
            lib.set_num_threads(threads)
