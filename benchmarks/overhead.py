"""Cost of partial_fit in this tree against another commit's, side by side in one run.

    git worktree add /tmp/old <commit>
    python benchmarks/overhead.py /tmp/old

Loads the other tree's package under another name next to this one, and times
both in turns (so a slow spell of the machine hits both alike): microseconds per
one-row partial_fit on a fitted estimator at d=10 and d=50 (default schedule,
and the constant rate of run.py's river comparison), then mini-batches (b=100
at d=10, b=1000 at d=100 and d=500) and fit(X) at d=100, as throughput ratios
to ``X.T @ X`` on the same array. Without an argument, only this tree.
"""

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import best_times, gram  # noqa: E402

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


def stream(cls, X, b):
    est = cls(batch_size=b)
    for i in range(0, len(X), b):
        est.partial_fit(X[i : i + b])


def fit(cls, X):
    cls().fit(X)


def main():
    warnings.simplefilter("ignore")
    packages = {"this tree": sklearn_onlinegauss}
    if len(sys.argv) > 1:
        packages[sys.argv[1]] = load_tree(sys.argv[1])
    rng = np.random.default_rng(0)
    rows = {name: [] for name in packages}
    heads = []
    for d in (10, 50):
        X = rng.normal(size=(200, d))
        for label, params in (("1/t", {}), ("const", dict(learning_rate="constant", eta0=1e-3))):
            calls = {
                name: (one_row_calls, package.OnlineGaussian(**params).partial_fit(X), X[:1])
                for name, package in packages.items()
            }
            for name, t in best_times(5, **calls).items():
                rows[name].append(f"{t / 2000 * 1e6:.1f} us")
            heads.append(f"1 row {label} d={d}")
    for d, b, n in (
        (10, 100, 200_000),
        (100, 1000, 200_000),
        (500, 1000, 40_000),
        (100, 0, 200_000),
    ):
        X = rng.normal(size=(n, d))
        if b:
            calls = {name: (stream, p.OnlineGaussian, X, b) for name, p in packages.items()}
        else:
            calls = {name: (fit, p.OnlineGaussian, X) for name, p in packages.items()}
        t = best_times(5, gram=(gram, X), **calls)
        for name in packages:
            rows[name].append(f"{t['gram'] / t[name]:.2f}x")
        heads.append(f"b={b} d={d}" if b else f"fit d={d}")
    print("one-row: microseconds per call; batches and fit: throughput / X.T @ X's")
    print(f"{'':12s} " + " ".join(f"{h:>16s}" for h in heads))
    for name, cells in rows.items():
        print(f"{name[-12:]:12s} " + " ".join(f"{c:>16s}" for c in cells))


if __name__ == "__main__":
    main()
