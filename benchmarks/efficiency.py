"""Statistical efficiency: each solver's KL to the truth divided by the batch MLE's, same data.

    python benchmarks/efficiency.py [--seeds 5] [--d 10] [--section 1|2|3]

1. Streams n samples in mini-batches of 100 through ``partial_fit`` and prints
   the median (over seeds) of KL(true || estimate) / KL(true || batch MLE) at
   n = 1e4 and 1e5, for well (condition number 10) and badly (1e6)
   conditioned data. 1.0 is the best possible; see docs/theory.rst,
   "Reference figures: the KL divergence of the batch MLE".
2. When n is close to d (d=200, condition 10): the median KL of the default,
   of shrinkage='ledoit-wolf' and 'oas', and of the batch MLE (infinite while
   it is singular), for n from 100 to 10000.
3. The solvers that do not depend on conditioning (Riemannian, whitened
   sgd / adam) at condition 10, 1e6 and 1e8, in batches of 100 (1e5 rows)
   and one row at a time (2e4 rows), next to the natural default.
"""

import argparse
import warnings

import numpy as np
from _experiments import SOLVER_SETTINGS, kl_ratios, random_gaussian
from sklearn.covariance import EmpiricalCovariance

from sklearn_onlinegauss import OnlineGaussian
from sklearn_onlinegauss._covariance import kl_divergence


def solvers(args):
    checkpoints = [10_000, 100_000]
    print(f"median KL ratio to the batch MLE, d={args.d}, {args.seeds} seeds, batches of 100")
    head = f"{'cond 1e1, n=1e4':>16s} {'n=1e5':>10s} {'cond 1e6, n=1e4':>16s} {'n=1e5':>10s}"
    print(f"{'solver':28s} {head}")
    for name, config in SOLVER_SETTINGS.items():
        cells = []
        for condition in (1e1, 1e6):
            r = np.median(
                [
                    kl_ratios(OnlineGaussian(**config), args.d, condition, checkpoints, seed)
                    for seed in range(args.seeds)
                ],
                axis=0,
            )
            cells += [f"{r[0]:16.4g}", f"{r[1]:10.4g}"]
        print(f"{name:28s} {' '.join(cells)}", flush=True)


def _mle_kl(mu, cov, X):
    """KL of the batch MLE, infinite while it is singular."""
    if len(X) <= len(mu):
        return np.inf
    mle = EmpiricalCovariance().fit(X)
    return kl_divergence(mu, cov, mle.location_, mle.covariance_)


def small_samples(args, d=200, checkpoints=(100, 200, 400, 1000, 10_000)):
    seeds = max(1, args.seeds // 2)
    print(
        f"\nmedian KL(true || estimate) when n is close to d: d={d}, condition 10, "
        f"{seeds} seeds, batches of 100"
    )
    estimators = {
        "default (reg_covar=1e-6)": {},
        "shrinkage='ledoit-wolf'": dict(shrinkage="ledoit-wolf"),
        "shrinkage='oas'": dict(shrinkage="oas"),
    }
    kl = {name: [] for name in [*estimators, "batch MLE"]}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        mu, cov = random_gaussian(rng, d, 10)
        X = rng.multivariate_normal(mu, cov, size=checkpoints[-1])
        for name, params in estimators.items():
            est, start, row = OnlineGaussian(**params), 0, []
            for stop in checkpoints:
                for i in range(start, stop, 100):
                    est.partial_fit(X[i : min(i + 100, stop)])
                start = stop
                row.append(kl_divergence(mu, cov, est.location_, est.covariance_))
            kl[name].append(row)
        kl["batch MLE"].append([_mle_kl(mu, cov, X[:n]) for n in checkpoints])
    print(f"{'estimator':26s} " + " ".join(f"{'n=' + str(n):>10s}" for n in checkpoints))
    for name, rows in kl.items():
        cells = " ".join(f"{v:10.4g}" for v in np.median(rows, axis=0))
        print(f"{name:26s} {cells}", flush=True)


def conditioning(args):
    settings = {
        "natural (default)": {},
        "riemannian": dict(solver="riemannian"),
        "sgd/cholesky whitened": dict(solver="sgd", preconditioner="whiten"),
        "sgd/covariance whitened": dict(
            solver="sgd", parametrization="covariance", preconditioner="whiten"
        ),
        "adam/cholesky whitened": dict(solver="adam", preconditioner="whiten"),
    }
    conditions = (1e1, 1e6, 1e8)
    print(f"\nmedian KL ratio to the batch MLE, d={args.d}, {args.seeds} seeds")
    cells = " ".join(f"{f'b={b}, cond {c:.0e}':>17s}" for b in (100, 1) for c in conditions)
    print(f"{'solver':24s} {cells}")
    for name, config in settings.items():
        row = []
        for batch, n in ((100, 100_000), (1, 20_000)):
            for condition in conditions:
                ratios = [
                    kl_ratios(OnlineGaussian(**config), args.d, condition, [n], seed, batch)[0]
                    for seed in range(args.seeds)
                ]
                row.append(f"{np.median(ratios):17.4g}")
        print(f"{name:24s} {' '.join(row)}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--section", type=int, choices=(1, 2, 3), help="run this section only")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    for number, section in enumerate((solvers, small_samples, conditioning), start=1):
        if args.section in (None, number):
            section(args)


if __name__ == "__main__":
    main()
