"""What ``learn_outliers=False`` does to the detector's Gaussian, by chunk size.

    python benchmarks/outlier_lock.py [--seeds 5]

Streams each data set through ``OnlineEllipticEnvelope(contamination=0.1)``
in chunks of 20, 100 and 1000 rows, learning every row (``learn_outliers=True``)
and only the rows inside the threshold (``False``), and prints, per chunk
size, the mean over seeds of:

- ``trace``: ``trace(covariance_) / trace(C)``, with ``C`` the clean
  covariance (the maximum-likelihood covariance of the stream's inliers);
- ``frob``: ``||covariance_ - C||_F / ||C||_F``, how far it is from ``C``;
- ``flagged``: the fraction of fresh inliers flagged by ``predict``.

Data sets: 10,000 rows of a 2-D and of a 30-D standard Gaussian of which 5%
are gross outliers (shifted by 30 standard deviations in every feature, as
the test of the detector does), in random order; the same 30-D Gaussian
without outliers (the case that locked onto its first chunk); and
``breast_cancer``'s 357 benign rows in 30 dimensions, shuffled by the seed,
whose fresh inliers are the rows themselves (there are no others).
"""

import argparse

import numpy as np
from sklearn.datasets import load_breast_cancer

from sklearn_onlinegauss import OnlineEllipticEnvelope

CHUNKS = (20, 100, 1000)


def gaussian(d, outliers):
    def make(rng):
        X = rng.normal(size=(10_000, d))
        bad = rng.random(len(X)) < outliers
        X[bad] += 30.0 * np.where(np.arange(d) % 2, -1.0, 1.0)
        return X, X[~bad], rng.normal(size=(10_000, d))

    return make


def benign(rng):
    X, y = load_breast_cancer(return_X_y=True)
    rows = rng.permutation(X[y == 1])
    return rows, rows, rows


DATA = {
    "d = 2, 5% outliers": gaussian(2, 0.05),
    "d = 30, 5% outliers": gaussian(30, 0.05),
    "d = 30, clean": gaussian(30, 0.0),
    "breast_cancer benign": benign,
}


def measure(make, chunk, learn_outliers, seed):
    X, inliers, fresh = make(np.random.default_rng(seed))
    clean = np.cov(inliers, rowvar=False, bias=True)
    detector = OnlineEllipticEnvelope(contamination=0.1, learn_outliers=learn_outliers)
    for start in range(0, len(X), chunk):
        detector.partial_fit(X[start : start + chunk])
    covariance = detector.covariance_
    return (
        np.trace(covariance) / np.trace(clean),
        np.linalg.norm(covariance - clean) / np.linalg.norm(clean),
        np.mean(detector.predict(fresh) == -1),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    seeds = range(parser.parse_args().seeds)
    print(f"contamination 0.1, mean of {len(seeds)} seeds; learn_outliers True | False")
    print(f"{'data':22} {'chunk':>5}  {'trace':>13}  {'frob':>13}  {'flagged':>13}")
    for name, make in DATA.items():
        for chunk in CHUNKS:
            cells = []
            for learn in (True, False):
                figures = np.mean([measure(make, chunk, learn, s) for s in seeds], axis=0)
                cells.append(figures)
            row = "  ".join(f"{a:5.2f} | {b:5.2f}" for a, b in zip(*cells, strict=True))
            print(f"{name:22} {chunk:5d}  {row}")


if __name__ == "__main__":
    main()
