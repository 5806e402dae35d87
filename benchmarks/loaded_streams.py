"""Every estimator's stream beside busy processes: default BLAS threads against one thread.

    python benchmarks/loaded_streams.py [--busy 2] [--repeat 5] [--d 64] [--batch 1000]
    python benchmarks/loaded_streams.py --threshold [--busy 2]

Starts ``--busy`` processes that spin (as other jobs on a shared machine do;
``--busy 0`` for none) and stops them at the end. Then times, in turns, each
estimator's ``partial_fit`` stream (``--chunks`` chunks of ``--batch`` rows
at ``d = --d``, from an estimator fitted on one chunk beforehand) with the
BLAS threads the machine gives and inside a one-thread limit (threadpoolctl's,
its libraries found once), and prints time(default threads) / time(one
thread): 1.0 means the library's thread rule leaves nothing for threads to
lose; above 1, they cost.

``--threshold`` instead measures where two threads start to pay: the
natural step of ``OnlineGaussian`` and the classifier's per-class step, at
works (rows x d**2 x Gaussians flops per step) from 2**18 to 2**28, with
the library's rule switched off (threads wherever OpenBLAS uses them)
against one thread; below 1, threads pay. The figures of the
user guide's "Threads" section (docs/performance.rst) come from both modes.
"""

import argparse
import copy
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import busy, one_thread  # noqa: E402
from run import best_times  # noqa: E402

from sklearn_onlinegauss import (  # noqa: E402
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
    _threads,
)


def blobs(rng, n, d, k):
    """``n`` rows of ``k`` well separated Gaussians in ``d`` dimensions, and their labels."""
    labels = rng.integers(k, size=n)
    centres = rng.normal(scale=3.0, size=(k, d))
    return centres[labels] + rng.normal(size=(n, d)), labels


def estimators(classes, components):
    return {
        "OnlineGaussian": (OnlineGaussian(), False),
        "classifier, per-class": (OnlineGaussianClassifier(), True),
        "classifier, shared": (OnlineGaussianClassifier(covariance="shared"), True),
        f"mixture, K={components}": (
            OnlineGaussianMixture(n_components=components, random_state=0),
            False,
        ),
        "OnlineEllipticEnvelope": (OnlineEllipticEnvelope(), False),
    }


def prefitted(est, labelled, X, y, classes):
    if labelled:
        return est.partial_fit(X, y, classes=classes)
    return est.partial_fit(X)


def stream(fitted, labelled, chunks):
    est = copy.deepcopy(fitted)  # the same start every run
    for X, y in chunks:
        if labelled:
            est.partial_fit(X, y)
        else:
            est.partial_fit(X)


@contextmanager
def rule_off():
    """The library's thread rule switched off: every step keeps the BLAS threads."""
    threaded = _threads.THREADED_WORK
    _threads.THREADED_WORK = 0
    try:
        yield
    finally:
        _threads.THREADED_WORK = threaded


def rule_off_run(fn, *args):
    with rule_off():
        fn(*args)


def streams(args):
    rng = np.random.default_rng(0)
    n = args.batch * (args.chunks + 1)
    X, y = blobs(rng, n, args.d, args.classes)
    chunks = [(X[i : i + args.batch], y[i : i + args.batch]) for i in range(0, n, args.batch)]
    classes = np.arange(args.classes)
    print(
        f"partial_fit streams, {args.chunks} chunks of {args.batch} rows, d={args.d}, "
        f"{args.classes} classes; best of {args.repeat}, interleaved"
    )
    print(f"{'estimator':26s} {'default / one thread':>22s}")
    for name, (est, labelled) in estimators(classes, args.components).items():
        fitted = prefitted(est, labelled, *chunks[0], classes)
        rest = chunks[1:]
        t = best_times(
            args.repeat,
            default=(stream, fitted, labelled, rest),
            one=(one_thread, stream, fitted, labelled, rest),
        )
        print(f"{name:26s} {t['default'] / t['one']:21.2f}x", flush=True)


def threshold(args):
    """Two threads against one for steps of growing work, the rule switched off."""
    rng = np.random.default_rng(0)
    print("one step's work (flops) where two threads start to pay; rule off / one thread")
    print(f"{'step':34s} {'work':>10s} {'threads / one':>14s}")
    for d in (32, 64, 128):
        for rows in (250, 1000, 4000, 16000):
            for k in (1, 10):
                work = rows * d * d * k
                if not 2**18 <= work <= 2**28:
                    continue
                X, y = blobs(rng, rows * 4, d, k)
                chunks = [(X[i : i + rows], y[i : i + rows]) for i in range(0, len(X), rows)]
                est = OnlineGaussian() if k == 1 else OnlineGaussianClassifier()
                fitted = prefitted(est, k > 1, *chunks[0], np.arange(k))
                t = best_times(
                    args.repeat,
                    threads=(rule_off_run, stream, fitted, k > 1, chunks[1:]),
                    one=(one_thread, stream, fitted, k > 1, chunks[1:]),
                )
                what = "OnlineGaussian" if k == 1 else f"classifier, {k} classes"
                label = f"{what}, d={d}, b={rows}"
                print(f"{label:34s} 2**{np.log2(work):5.1f} {t['threads'] / t['one']:13.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=2, help="spinning processes")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--components", type=int, default=5)
    parser.add_argument("--threshold", action="store_true", help="where two threads pay")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with busy(args.busy):
        (threshold if args.threshold else streams)(args)


if __name__ == "__main__":
    main()
