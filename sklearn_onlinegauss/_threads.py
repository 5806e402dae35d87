"""One BLAS thread for small work, where waking threads costs more than the arithmetic.

On a loaded machine a BLAS call that hands a few microseconds of work to a
second thread can wait milliseconds for it. Products big enough to gain from
threads keep them. The limit is set directly on the BLAS libraries
(threadpoolctl's controllers, found once), which is cheap enough to do
around every small call; a lower limit set by the user is kept.

Where numpy and scipy each bundle an OpenBLAS (their PyPI wheels), the two
libraries' threads must not take turns on the cores: the steps run on
numpy's, and the reads' LAPACK calls on scipy's keep to the calling thread
(:func:`lapack_threads_for`).
"""

import os
from contextlib import contextmanager, nullcontext
from functools import cache

import numpy as np

__all__ = [
    "blas_threads_for",
    "lapack_threads_for",
    "natural_step_work",
    "numpy_blas_path",
    "scoring_threads_for",
]

#: Flops of one batch step (about rows x features**2) from which threads pay.
THREADED_WORK = 2**22


@cache
def _blas():
    from threadpoolctl import ThreadpoolController

    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


def _is_numpys(lib):
    numpy_dir = os.path.dirname(os.path.realpath(np.__file__))
    return os.path.realpath(lib.filepath).startswith((numpy_dir, numpy_dir + ".libs"))


def numpy_blas_path():
    """The file of the BLAS numpy's wheel bundles (scipy-openblas64), or None."""
    return next((lib.filepath for lib in _blas() if _is_numpys(lib)), None)


@cache
def _second_blas():
    """The BLAS libraries beside numpy's own (scipy's, from PyPI wheels); () if it is alone."""
    if not any(_is_numpys(lib) for lib in _blas()):
        return ()
    return tuple(lib for lib in _blas() if not _is_numpys(lib))


#: Below this many flops per call OpenBLAS keeps a natural step's products on
#: one thread anyway, so a limit there would only cost its own time.
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
    thread anyway, and setting the limit and back would be a large part of a
    one-row ``score_samples``. The Euclidean solvers' small steps keep the
    limit: they make many small BLAS calls, each of which would otherwise
    wait for a second thread on a loaded machine.
    """
    work = rows * n_features**2
    return _UNLIMITED if work < UNTHREADED_WORK else blas_threads_for(work)


#: Flops from which a LAPACK call of scipy's keeps its threads: a call long
#: enough that the other library's threads, which spin for a while after
#: their last call, have gone to sleep (an estimate, about 0.1 s of one
#: core), and large enough (scoring many rows) that one thread alone would
#: cost it more than it saves.
LAPACK_THREADED_WORK = 2**32


def lapack_threads_for(work):
    """A context for one of scipy's BLAS / LAPACK calls of ``work`` flops.

    scipy's wheels bundle a second OpenBLAS, whose threads and numpy's each
    spin on the cores for a while after a call. A read between steps (a
    Cholesky factor, triangular solves) on scipy's threads and the step's
    products on numpy's then fight for the cores, which slows both the
    steps and the reads (``benchmarks/reads.py`` measures it). So scipy's
    library does such calls on the calling thread, its own threads asleep.
    Small calls OpenBLAS keeps on one thread anyway, and calls of
    ``LAPACK_THREADED_WORK`` flops and more keep their threads.
    """
    if work < UNTHREADED_WORK or work >= LAPACK_THREADED_WORK or not _second_blas():
        return _UNLIMITED
    return _one_thread(_second_blas())


@contextmanager
def _one_thread(libraries=None):
    changed = []
    for lib in _blas() if libraries is None else libraries:
        threads = lib.num_threads
        if threads > 1:
            lib.set_num_threads(1)
            changed.append((lib, threads))
    try:
        yield
    finally:
        for lib, threads in changed:
            lib.set_num_threads(threads)
