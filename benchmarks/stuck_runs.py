"""No stuck runs: every solver and parametrization, one row at a time, 10 seeds.

    python benchmarks/stuck_runs.py [--seeds 10] [--rows 100000] [--jobs 2]

Streams ``--rows`` samples of a d=10 Gaussian at condition number 10 one row at
a time through ``partial_fit`` and prints, per configuration, the median and
the largest (over seeds) KL(true || estimate) / KL(true || batch MLE) at 1e4
rows and at the end. A stuck run (a start the trust region cannot climb out
of) shows as a largest ratio of thousands or more; the unpreconditioned
Euclidean solvers are slow rather than stuck: under 1/t steps their gain
in the largest-variance direction is below 1/2, so their ratio grows with n
(docs/theory.rst, "Learning-rate schedules and averaging": the gain of a
1/t schedule), which is what ``preconditioner='whiten'`` removes.
The tests run the same check on 1e4 rows (tests/test_convergence.py).
"""

import argparse
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from _experiments import kl_ratios

from sklearn_onlinegauss import OnlineGaussian

#: Every solver and parametrization; sgd and adam with and without whitening.
CONFIGURATIONS = {
    "natural": {},
    "riemannian": dict(solver="riemannian"),
    **{
        f"{s}/{p}{' whitened' if w else ''}": dict(
            solver=s, parametrization=p, preconditioner="whiten" if w else None
        )
        for w in (True, False)
        for s in ("sgd", "adam")
        for p in ("cholesky", "precision", "covariance")
    },
}


def run(name, seed, rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est = OnlineGaussian(**CONFIGURATIONS[name])
        return kl_ratios(est, 10, 10.0, sorted({10_000, rows}), seed, batch_size=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    print(f"KL ratio to the batch MLE, d=10, condition 10, one row at a time, {args.seeds} seeds")
    print(
        f"{'configuration':28s} {'n=1e4 median':>13s} {'max':>8s} "
        f"{f'n={args.rows:.0e} median':>14s} {'max':>8s}"
    )
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = {
            name: [pool.submit(run, name, seed, args.rows) for seed in range(args.seeds)]
            for name in CONFIGURATIONS
        }
        for name, runs in futures.items():
            r = np.array([f.result() for f in runs])
            first, last = r[:, 0], r[:, -1]
            print(
                f"{name:28s} {np.median(first):13.2f} {first.max():8.2f} "
                f"{np.median(last):14.2f} {last.max():8.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
