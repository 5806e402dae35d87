"""Cost of partial_fit in this tree against another commit's, side by side in one run.

    git worktree add /tmp/old <commit>
    python benchmarks/overhead.py /tmp/old

Loads the other tree's package under another name next to this one, and times
both in turns (so a slow spell of the machine hits both alike): microseconds per
one-row partial_fit on a fitted estimator at d=10 and d=50, then mini-batches
(b=1000) at d=100 and d=500 as throughput ratios to ``EmpiricalCovariance().fit``
and to ``X.T @ X`` on the same array. Without an argument, only this tree.
"""

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import best_times, fit_empirical, gram  # noqa: E402

import sklearn_onlinegauss  # noqa: E402


def load_tree(tree):
    """The package of the source tree ``tree``, imported as ``baseline_onlinegauss``."""
    init = Path(tree) / "sklearn_onlinegauss" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "baseline_onlinegauss", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def one_row_calls(est, x, n=2000):
    for _ in range(n):
        est.partial_fit(x)


def stream(cls, X, b=1000):
    est = cls(batch_size=b)
    for i in range(0, len(X), b):
        est.partial_fit(X[i : i + b])


def main():
    warnings.simplefilter("ignore")
    packages = {"this tree": sklearn_onlinegauss}
    if len(sys.argv) > 1:
        packages[sys.argv[1]] = load_tree(sys.argv[1])
    rng = np.random.default_rng(0)
    rows = {name: [] for name in packages}
    for d in (10, 50):
        X = rng.normal(size=(200, d))
        calls = {
            name: (one_row_calls, package.OnlineGaussian().partial_fit(X), X[:1])
            for name, package in packages.items()
        }
        for name, t in best_times(5, **calls).items():
            rows[name].append(f"{t / 2000 * 1e6:6.1f} us")
    for d in (100, 500):
        X = rng.normal(size=(200_000 // (d // 100), d))
        calls = {name: (stream, package.OnlineGaussian, X) for name, package in packages.items()}
        t = best_times(5, emp=(fit_empirical, X), gram=(gram, X), **calls)
        for name in packages:
            rows[name].append(f"{t['emp'] / t[name]:5.2f}x {t['gram'] / t[name]:5.2f}x")
    print(
        f"{'':20s} {'one-row d=10':>13s} {'d=50':>9s}   "
        f"{'b=1000 d=100: EmpCov X.T@X':>26s}   {'d=500: EmpCov X.T@X':>20s}"
    )
    for name, cells in rows.items():
        print(
            f"{name[-20:]:20s} {cells[0]:>13s} {cells[1]:>9s}   {cells[2]:>26s}   {cells[3]:>20s}"
        )


if __name__ == "__main__":
    main()
