"""The Mahalanobis out-of-distribution recipe, streamed: K classes, d network features, float32.

    python benchmarks/ood.py [--quick]

Streams n float32 rows of d features with K classes through
``OnlineGaussianClassifier(covariance='shared').partial_fit`` in batches of
1000 (class means and one shared covariance: Lee et al. 2018), and prints its
throughput as a ratio to one ``X.T @ X`` pass over the same rows (float64,
the state's precision), with its traced peak memory against the target
``3 d^2 x 8 + K d x 8`` bytes plus one batch; then the batch recipe of the
reference code (concatenate the features, centre each class, fit
``EmpiricalCovariance``), whose memory grows with n.
"""

import argparse
import time
import tracemalloc

import numpy as np
from sklearn.covariance import EmpiricalCovariance

from sklearn_onlinegauss import OnlineGaussianClassifier


def batches(n, d, K, size, seed=0):
    """A stream of (X float32, y) batches: K class means plus correlated noise.

    The generator's own arrays are made here, at the call, so that a trace
    started after it does not count them.
    """
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(K, d)).astype(np.float32)
    mix = (rng.normal(size=(d, d)) / np.sqrt(d)).astype(np.float32)

    def stream():
        for _ in range(n // size):
            y = rng.integers(0, K, size)
            yield means[y] + rng.standard_normal((size, d), dtype=np.float32) @ mix, y

    return stream()


def streamed(n, d, K, size):
    clf = OnlineGaussianClassifier(covariance="shared")
    for X, y in batches(n, d, K, size):
        clf.partial_fit(X, y, classes=np.arange(K))
    return clf


def batch_recipe(n, d, K, size):
    Xs, ys = zip(*batches(n, d, K, size), strict=True)
    X, y = np.concatenate(Xs), np.concatenate(ys)
    centred = X - np.stack([X[y == k].mean(0) for k in range(K)])[y]
    return EmpiricalCovariance(assume_centered=True).fit(centred)


def gram(n, d, K, size):
    for X, _ in batches(n, d, K, size):
        X = X.astype(np.float64)
        X.T @ X


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def peak(fn, *args):
    tracemalloc.start()
    fn(*args)
    value = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return value


def streamed_peak(n, d, K, size):
    """Peak traced memory during the partial_fit calls: state, batch and temporaries.

    The peak is reset before each call, so what generating the data costs is
    not counted; what is alive then (the state, the batch) is. The target
    counts the batch as float32 rows: a step centres them into float64 a
    buffer of about 2 MB at a time.
    """
    clf, worst = OnlineGaussianClassifier(covariance="shared"), 0
    stream = batches(n, d, K, size)
    tracemalloc.start()
    for X, y in stream:
        tracemalloc.reset_peak()
        clf.partial_fit(X, y, classes=np.arange(K))
        worst = max(worst, tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k rows instead of 200k")
    args = parser.parse_args()
    K, d, size = 100, 1024, 1000
    n = 20_000 if args.quick else 200_000
    generate = timed(lambda: sum(1 for _ in batches(n, d, K, size)))
    t_ours = timed(streamed, n, d, K, size) - generate
    t_gram = timed(gram, n, d, K, size) - generate
    target = (3 * d * d * 8 + K * d * 8 + size * d * 4) / 1e6
    print(f"K={K} classes, d={d}, n={n} float32 rows in batches of {size}")
    print(f"  streamed: {t_gram / t_ours:.2f}x the throughput of one X.T @ X pass")
    ours = streamed_peak(n, d, K, size) / 1e6
    print(f"  streamed: peak {ours:.1f} MB (target {target:.1f} MB: 3 d^2 + K d + a batch)")
    small = peak(batch_recipe, n // 10, d, K, size) / 1e6
    full = peak(batch_recipe, n, d, K, size) / 1e6
    print(f"  batch recipe: peak {small:.0f} MB at n={n // 10}, {full:.0f} MB at n={n}")


if __name__ == "__main__":
    main()
