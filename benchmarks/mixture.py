"""OnlineGaussianMixture: its schedules against batch EM, and a stream larger than memory.

    python benchmarks/mixture.py [--quick]

1. Held-out mean log-likelihood of ``partial_fit`` in batches of 100 (20
   passes on digits, 2 on the synthetic mixtures) for each schedule, next to
   ``GaussianMixture`` fitted by batch EM on the same training rows, for 3
   seeds: how the default schedule was chosen.
2. A stream of 2e6 x 20 rows from 8 components, generated in chunks of 1e4:
   one ``partial_fit`` pass, against ``GaussianMixture.fit`` on subsamples,
   with held-out log-likelihood, time and traced peak memory (the stream's
   is measured after 1/10 and after all of it: flat in n).
"""

import argparse
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split

from sklearn_onlinegauss import OnlineGaussianMixture

SCHEDULES = {
    "optimal (default)": {"learning_rate": "optimal"},
    "invscaling 0.01, 0.6": {"learning_rate": "invscaling", "eta0": 0.01, "power_t": 0.6},
    "invscaling 1, 0.9": {"learning_rate": "invscaling", "eta0": 1.0, "power_t": 0.9},
    "invscaling 1, 0.6, averaged": {
        "learning_rate": "invscaling",
        "eta0": 1.0,
        "power_t": 0.6,
        "average": True,
    },
}


def mixture(K, d, n, separation, seed):
    """Rows of K Gaussians with random covariances, means ``separation`` apart on average."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=separation / np.sqrt(2 * d), size=(K, d)) * np.sqrt(d)
    mixing = np.array([rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d) for _ in range(K)])
    weights = rng.dirichlet(np.full(K, 10.0))

    def draw(size, generator):
        y = generator.choice(K, size=size, p=weights)
        return means[y] + np.einsum("nij,nj->ni", mixing[y], generator.normal(size=(size, d)))

    return draw


def datasets():
    X, _ = load_digits(return_X_y=True)
    train, test = train_test_split(X, test_size=0.25, random_state=0)
    pca = PCA(20, random_state=0).fit(train)
    yield "digits, PCA to 20, K=10", (pca.transform(train), pca.transform(test)), 10, 20
    for name, (K, d, separation) in {
        "separated, K=4, d=5": (4, 5, 12.0),
        "overlapping, K=5, d=2": (5, 2, 3.0),
    }.items():
        draw = mixture(K, d, None, separation, 1)
        rng = np.random.default_rng(2)
        yield name, (draw(20_000, rng), draw(5_000, rng)), K, 2


def streamed(settings, K, train, passes, seed):
    model = OnlineGaussianMixture(K, random_state=seed, **settings)
    rng = np.random.default_rng(seed)
    for _ in range(passes):
        for rows in np.array_split(rng.permutation(len(train)), len(train) // 100):
            model.partial_fit(train[rows])
    return model


def schedules():
    print("1. Held-out mean log-likelihood, 3 seeds (partial_fit in batches of 100)")
    for name, (train, test), K, passes in datasets():
        batch = [GaussianMixture(K, random_state=s).fit(train).score(test) for s in range(3)]
        print(f"  {name}, {passes} passes")
        print(f"    {'GaussianMixture (batch EM)':30s} {_row(batch)}")
        for label, settings in SCHEDULES.items():
            scores, largest = [], []
            for seed in range(3):
                model = streamed(settings, K, train, passes, seed)
                scores.append(model.score(test))
                largest.append(model.weights_.max())
            print(f"    {label:30s} {_row(scores)}   largest weight {max(largest):.2f}")


def _row(values):
    return " ".join(f"{v:9.2f}" for v in values)


def large_stream(n, quick):
    K, d, chunk = 8, 20, 10_000
    draw = mixture(K, d, None, 6.0, 3)
    test = draw(10_000, np.random.default_rng(99))
    print(f"2. A stream of {n:.0e} x {d} rows from {K} components, in chunks of {chunk}")

    def stream_pass(rows):
        rng = np.random.default_rng(4)
        model = OnlineGaussianMixture(K, random_state=0)
        peak = 0
        tracemalloc.start()
        for _ in range(rows // chunk):
            X = draw(chunk, rng)
            tracemalloc.reset_peak()
            model.partial_fit(X)
            peak = max(peak, tracemalloc.get_traced_memory()[1] + X.nbytes)
        tracemalloc.stop()
        return model, peak

    start = time.perf_counter()
    generator = np.random.default_rng(4)
    for _ in range(n // chunk):
        draw(chunk, generator)
    generating = time.perf_counter() - start
    start = time.perf_counter()
    model, peak = stream_pass(n)
    seconds = time.perf_counter() - start - generating
    _, early_peak = stream_pass(n // 10)
    print(
        f"  partial_fit, one pass: held-out {model.score(test):.3f}, {seconds:.1f} s "
        f"(generating the rows, {generating:.1f} s, not counted), peak {peak / 1e6:.1f} MB "
        f"with a chunk's rows ({early_peak / 1e6:.1f} MB for {n // 10:.0e} rows)"
    )
    rng = np.random.default_rng(5)
    for rows in (chunk, 10 * chunk) if quick else (chunk, 10 * chunk, 100 * chunk):
        X = draw(rows, rng)
        tracemalloc.start()
        start = time.perf_counter()
        batch = GaussianMixture(K, random_state=0).fit(X)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"  GaussianMixture.fit on {rows:.0e} rows: held-out {batch.score(test):.3f}, "
            f"{seconds:.1f} s, peak {(peak + X.nbytes) / 1e6:.1f} MB with the rows"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2e5 rows instead of 2e6")
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        schedules()
        large_stream(200_000 if args.quick else 2_000_000, args.quick)


if __name__ == "__main__":
    main()
