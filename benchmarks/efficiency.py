"""Statistical efficiency: each solver's KL to the truth divided by the batch MLE's, same data.

    python benchmarks/efficiency.py [--seeds 5] [--d 10]

Streams n samples in mini-batches of 100 through ``partial_fit`` and prints the
median (over seeds) of KL(true || estimate) / KL(true || batch MLE) at n = 1e4
and 1e5, for well (condition number 10) and badly (1e6) conditioned data.
1.0 is the best possible; see MATH.md section 5.
"""

import argparse
import warnings

import numpy as np

from sklearn_onlinegauss import OnlineGaussian
from sklearn_onlinegauss._experiments import SOLVER_SETTINGS, kl_ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--d", type=int, default=10)
    args = parser.parse_args()
    checkpoints = [10_000, 100_000]
    print(f"median KL ratio to the batch MLE, d={args.d}, {args.seeds} seeds, batches of 100")
    head = f"{'cond 1e1, n=1e4':>16s} {'n=1e5':>10s} {'cond 1e6, n=1e4':>16s} {'n=1e5':>10s}"
    print(f"{'solver':28s} {head}")
    warnings.simplefilter("ignore")
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


if __name__ == "__main__":
    main()
