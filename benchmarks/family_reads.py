"""Every read of the family against its scikit-learn counterpart on the same parameters.

    python benchmarks/family_reads.py            # d = 10 / 64 / 256, 5 rounds
    python benchmarks/family_reads.py --quick    # d = 10 / 64, 3 rounds

Each estimator is fitted on its rows and its counterpart is
``sklearn_onlinegauss.export.to_sklearn(est)``: the same parameters in
scikit-learn's estimator (LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis,
GaussianMixture, EllipticEnvelope, EmpiricalCovariance). Each read is first
checked equal to its counterpart's to 1e-10, relative to the larger of 1 and the
values' magnitude (a decision function "up to a constant per row" about each
row's mean); then both are timed in turns: each of ``--rounds`` rounds times
each side best of 3, the order alternating, and the figure is the median over
the rounds of the peer's time over ours (above 1: ours is faster), at one BLAS
thread (``threadpool_limits(1)``) and with the default threads.

The reads, on 20,000 rows (the mixture's and the detector's at their own d
besides the grid):

- ``OnlineGaussianClassifier(covariance='shared')`` (10 classes):
  ``predict_proba``, ``predict``, ``decision_function`` against LDA's;
- ``OnlineGaussianClassifier()`` (per class, 10 classes): the same three
  against QDA's;
- ``OnlineGaussianMixture(10)``: ``score_samples`` and ``predict_proba``
  against GaussianMixture's (d = 20 and the grid);
- ``OnlineEllipticEnvelope``: ``decision_function``, ``score_samples``,
  ``predict`` against EllipticEnvelope's (d = 10 and 50);
- ``OnlineGaussian``: ``mahalanobis`` against EmpiricalCovariance's, and
  ``score_samples`` against a frozen ``scipy.stats.multivariate_normal(mean,
  cov).logpdf`` (EmpiricalCovariance has no per-row log-density), of 20,000
  rows and of one row (d = 10).

Absolute times on a shared machine are noise: the ratios, taken in turns in
one run, are the figures. The machine's load (``os.getloadavg``) is printed
with them.
"""

import argparse
import os
import time
import warnings
from functools import partial

import numpy as np
from scipy.stats import multivariate_normal
from threadpoolctl import threadpool_limits

from sklearn_onlinegauss import (
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
)
from sklearn_onlinegauss.export import to_sklearn

N_ROWS, N_CLASSES, N_COMPONENTS = 20_000, 10, 10
TOL = 1e-10


def error(ours, theirs, centred=False):
    """Largest difference relative to the larger of 1 and the values' magnitude."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    if centred and ours.ndim == 2:  # up to a constant per row: about each row's mean
        ours = ours - ours.mean(axis=1, keepdims=True)
        theirs = theirs - theirs.mean(axis=1, keepdims=True)
    finite = np.isfinite(theirs)
    if not np.array_equal(finite, np.isfinite(ours)):
        return np.inf
    scale = max(1.0, float(np.max(np.abs(theirs[finite]), initial=0.0)))
    return float(np.max(np.abs(ours[finite] - theirs[finite]), initial=0.0)) / scale


def loops_for(fn, target=0.02):
    """How many calls of ``fn`` take about ``target`` seconds (at least one)."""
    fn()
    begin = time.perf_counter()
    fn()
    once = max(time.perf_counter() - begin, 1e-7)
    return max(1, int(target / once))


def best_of(fn, number, repeat=3):
    best = np.inf
    for _ in range(repeat):
        begin = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - begin) / number)
    return best


def ratio(ours, theirs, rounds):
    """``(median over rounds of theirs' best-of-3 time over ours', ours' best time)``."""
    number = loops_for(ours)
    number_theirs = loops_for(theirs)
    figures, fastest = [], np.inf
    for r in range(rounds):
        pair = [(ours, number), (theirs, number_theirs)]
        if r % 2:
            pair.reverse()
        times = {id(fn): best_of(fn, n) for fn, n in pair}
        figures.append(times[id(theirs)] / times[id(ours)])
        fastest = min(fastest, times[id(ours)])
    return float(np.median(figures)), fastest


# -- the fitted pairs ------------------------------------------------------------------


def blobs(d, n_classes, rng, n=N_ROWS):
    """``n`` rows in ``d`` features of ``n_classes`` Gaussians of random covariances."""
    y = rng.integers(n_classes, size=n)
    centres = rng.normal(scale=3.0, size=(n_classes, d))
    mixing = rng.normal(size=(n_classes, d, d)) / np.sqrt(d) + np.eye(d)
    X = centres[y] + np.einsum("nj,nij->ni", rng.normal(size=(n, d)), mixing[y])
    return X, y


def cases(d, rng):
    """``(label, est's read, counterpart's read, centred)`` of every read at ``d``."""
    X, y = blobs(d, N_CLASSES, rng)
    for covariance, peer in (("shared", "LDA"), ("per-class", "QDA")):
        est = OnlineGaussianClassifier(covariance=covariance).fit(X, y)
        sk = to_sklearn(est)
        for read in ("predict_proba", "predict", "decision_function"):
            name = f"classifier {covariance} {read} / {peer}"
            yield name, getattr(est, read), getattr(sk, read), X, read == "decision_function"
    yield from mixture_cases(X, rng)
    est = OnlineGaussian().fit(X)
    sk = to_sklearn(est)
    yield "OnlineGaussian mahalanobis / EmpiricalCovariance", est.mahalanobis, sk.mahalanobis, X
    frozen = multivariate_normal(est.location_, est.covariance_)
    yield "OnlineGaussian score_samples / scipy logpdf", est.score_samples, frozen.logpdf, X


def mixture_cases(X, rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few EM passes: converged or not, the same reads
        est = OnlineGaussianMixture(N_COMPONENTS, max_iter=5, random_state=0).fit(X)
    sk = to_sklearn(est)
    for read in ("score_samples", "predict_proba"):
        yield f"mixture(10) {read} / GaussianMixture", getattr(est, read), getattr(sk, read), X


def detector_cases(d, rng):
    X = rng.normal(size=(N_ROWS, d)) @ (rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d))
    est = OnlineEllipticEnvelope().fit(X)
    sk = to_sklearn(est)
    for read in ("decision_function", "score_samples", "predict"):
        yield f"envelope {read} / EllipticEnvelope", getattr(est, read), getattr(sk, read), X


def one_row_case(rng, d=10):
    X = rng.normal(size=(5 * d, d))
    est = OnlineGaussian().fit(X)
    frozen = multivariate_normal(est.location_, est.covariance_)
    yield (
        "OnlineGaussian score_samples (1 row) / scipy logpdf",
        est.score_samples,
        (lambda row: np.atleast_1d(frozen.logpdf(row))),
        X[:1],
    )


def table(groups, rounds):
    """Print one row per read: its error, and the ratio at one thread and the default."""
    head = f"{'error':>8s} {'1 thread':>9s} {'(ours)':>9s} {'default':>9s} {'(ours)':>9s}"
    print(f"{'read':58s} {'d':>4s} {head}", flush=True)
    failed = []
    for d, group in groups:
        for case in group:
            label, ours, theirs, X, *centred = case
            err = error(ours(X), theirs(X), centred=bool(centred and centred[0]))
            if not err <= TOL:
                failed.append((label, d, err))
            cells = []
            for threads in (1, None):
                with threadpool_limits(threads):
                    figure, fastest = ratio(partial(ours, X), partial(theirs, X), rounds)
                cells.append(f"{figure:9.2f} {_duration(fastest):>9s}")
            print(f"{label:58s} {d:4d} {err:8.1e} {' '.join(cells)}", flush=True)
    return failed


def _duration(seconds):
    return f"{seconds * 1e6:.1f}us" if seconds < 1e-3 else f"{seconds * 1e3:.2f}ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="d = 10 / 64, 3 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 5, quick 3)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)
    grid = (10, 64) if args.quick else (10, 64, 256)
    rng = np.random.default_rng(0)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{N_ROWS} rows, {rounds} rounds of best of 3; load average {load}; "
        "peer time / ours (above 1: ours faster)"
    )

    def groups():
        for d in grid:
            yield d, cases(d, rng)
        yield 20, mixture_cases(blobs(20, N_CLASSES, rng)[0], rng)
        for d in (10, 50):
            yield d, detector_cases(d, rng)
        yield 10, one_row_case(rng)

    failed = table(groups(), rounds)
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if failed:
        for label, d, err in failed:
            print(f"NOT EQUAL to {TOL:g}: {label} at d = {d}: {err:.2e}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
