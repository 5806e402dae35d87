"""BLAS threads on a loaded machine: default threads against one, side by side in one run.

    python benchmarks/threads.py [--busy 2] [--repeat 5]

Starts ``--busy`` processes that spin (as other jobs on a shared machine do),
then times, in turns, each workload with the BLAS threads the machine gives
and with one BLAS thread: the README's quick start, batches of 100
at d=100, one-row ``adam`` steps at d=10 and ``score_samples`` of 10 rows at
d=2 (triangular solves). Prints time(default threads) /
time(one thread): 1.0 means threads cost nothing. Without load (``--busy 0``)
it shows what threads gain where they do.
"""

import argparse
import re
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import busy, one_thread  # noqa: E402
from run import best_times  # noqa: E402

from sklearn_onlinegauss import OnlineGaussian  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"


def quick_start():
    code = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)[0]
    code = code.replace("print(", "(")  # quiet
    exec(compile(code, "README", "exec"), {})


def batches(X, b=100):
    est = OnlineGaussian(batch_size=b)
    for i in range(0, len(X), b):
        est.partial_fit(X[i : i + b])


def one_row_adam(X):
    est = OnlineGaussian(solver="adam", learning_rate="constant", eta0=1e-3)
    for x in X:
        est.partial_fit(x[None])


def small_scores(X, rows=10):
    est = OnlineGaussian().fit(X)
    for i in range(0, len(X), rows):
        est.score_samples(X[i : i + rows])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=2, help="spinning processes")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with busy(args.busy):
        rng = np.random.default_rng(0)
        workloads = {
            "README quick start": (quick_start,),
            "batches of 100, d=100": (batches, rng.normal(size=(20_000, 100))),
            "one-row adam, d=10": (one_row_adam, rng.normal(size=(2_000, 10))),
            "scores of 10 rows, d=2": (small_scores, rng.normal(size=(20_000, 2))),
        }
        print(f"{'workload':26s} {'default / one thread':>22s}")
        for name, (fn, *data) in workloads.items():
            t = best_times(args.repeat, default=(fn, *data), one=(one_thread, fn, *data))
            print(f"{name:26s} {t['default'] / t['one']:21.2f}x", flush=True)


if __name__ == "__main__":
    main()
