"""Streaming mean and covariance: ours against its peers, at every (d, b), in one run.

    pip install -e ".[bench]"           # river, precise, scikit-learn-intelex
    python benchmarks/peers.py [--quick]

For d in {10, 100, 1000} and batches of b in {1, 10, 100, 1000, 10000} rows,
the rows per second of ``OnlineGaussian().partial_fit`` (the default: exact
running mean and covariance) divided by each peer's, on the same rows: a
ratio above 1 means ours is faster. Peers that are not installed are left
out. The peers:

- ``chan``: a hand-written numpy Chan et al. merge of each batch's mean and
  scatter into the running ones (Welford's update for b=1), no validation:
  the arithmetic floor of the same job in numpy; ``chan+check`` the same
  with the checks ours makes of a plain array (shape, and one pass for
  finite values that can be squared), which a user of ours relies on;
- ``river``: ``river.proba.MultivariateGaussian.update``, one row at a
  time (it has no batch update);
- ``precise``: ``precise.EmpiricalCovariance.partial_fit`` (Welford, it
  loops over a batch's rows);
- ``sklearnex``: ``sklearnex.covariance.IncrementalEmpiricalCovariance
  .partial_fit`` (oneDAL).

Then ``fit(X)`` on one 1e6 x 100 array (1e5 x 100 with ``--quick``) against
scikit-learn's and scikit-learn-intelex's ``EmpiricalCovariance().fit``
and ``X.T @ X``.

Each figure is the best of ``--repeat`` timings taken in turns with ours,
each a new estimator streaming about ``--budget`` seconds of batches (so a
first call's one-off costs weigh as in a long stream); a peer whose rate
does not depend on b (it loops rows) is timed at b=1 only. The BLAS and its
thread count are printed with the machine.
"""

import argparse
import math
import time
import warnings

import numpy as np
from run import best_times, machine

from sklearn_onlinegauss import OnlineGaussian


class Chan:
    """Running mean and scatter, merged batch by batch (Chan, Golub & LeVeque, 1979)."""

    def __init__(self, d):
        self.n, self.mean, self.scatter = 0, np.zeros(d), np.zeros((d, d))

    def partial_fit(self, X):
        b = len(X)
        if b == 1:  # Welford
            self.n += 1
            delta = X[0] - self.mean
            self.mean += delta / self.n
            self.scatter += np.outer(delta, X[0] - self.mean)
            return self
        m = X.mean(axis=0)
        R = X - m
        delta = m - self.mean
        total = self.n + b
        self.scatter += R.T @ R + np.outer(delta, delta * (self.n * b / total))
        self.mean += delta * (b / total)
        self.n = total
        return self


class CheckedChan(Chan):
    """:class:`Chan` with the checks ours makes of a plain array: 2-D, the fitted
    width, finite values whose squares do not overflow (one ``vdot`` pass)."""

    def partial_fit(self, X):
        if X.ndim != 2 or X.shape[1] != len(self.mean):
            raise ValueError("X has the wrong shape")
        flat = X.reshape(-1)
        if not math.isfinite(np.vdot(flat, flat)):
            raise ValueError("X has values that are not finite or cannot be squared")
        return super().partial_fit(X)


class River:
    def __init__(self, d):
        from river.proba import MultivariateGaussian

        self.model = MultivariateGaussian()

    def partial_fit(self, X):
        for x in X:
            self.model.update(dict(enumerate(x)))
        return self


def precise_estimator(d):
    from precise import EmpiricalCovariance

    return EmpiricalCovariance()


def sklearnex_estimator(d):
    from sklearnex.covariance import IncrementalEmpiricalCovariance

    return IncrementalEmpiricalCovariance()


def ours(d):
    return OnlineGaussian()


#: name -> (factory(d), whether its cost per row depends on the batch size)
PEERS = {
    "chan": (Chan, True),
    "chan+check": (CheckedChan, True),
    "river": (River, False),
    "precise": (precise_estimator, False),
    "sklearnex": (sklearnex_estimator, True),
}


def available(name):
    try:
        PEERS[name][0](2).partial_fit(np.ones((2, 2)) * [[1.0], [2.0]])
    except ImportError:
        return False
    return True


def stream(factory, d, batches):
    est = factory(d)
    for X in batches:
        est.partial_fit(X)


def seconds_per_row(calls, d, X, b, repeat, budget):
    """Best (over turns) seconds per row of each ``name -> factory`` on batches of ``X``.

    Each timing streams about ``budget`` seconds of batches (cycling through
    ``X``) into a new estimator, so that a first call's one-off costs (ours
    validates its hyperparameters then) count as they do in a long stream.
    """
    best = dict.fromkeys(calls, np.inf)
    starts = range(0, len(X) - b + 1, b)
    for _ in range(repeat):
        for name, factory in calls.items():
            n_batches = _batches_for(budget, best[name], b)
            batches = [X[starts[i % len(starts)] :][:b] for i in range(n_batches)]
            start = time.perf_counter()
            stream(factory, d, batches)
            best[name] = min(best[name], (time.perf_counter() - start) / (n_batches * b))
    return best


def _batches_for(budget, per_row, b):
    """Batches of ``b`` rows that take about ``budget`` seconds (a first guess: 10)."""
    if not np.isfinite(per_row):
        return 10
    return max(1, int(budget / (per_row * b)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="d=10 and 100 only")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many turns")
    parser.add_argument("--budget", type=float, default=0.2, help="seconds per timing")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"machine: {machine()}")
    names = [name for name in PEERS if available(name)]
    missing = sorted(set(PEERS) - set(names))
    if missing:
        print(f"not installed, left out: {', '.join(missing)}")
    print("rows/s of OnlineGaussian().partial_fit divided by each peer's (above 1: ours faster)")
    print(f"{'d':>5} {'b':>6} {'ours rows/s':>12} " + " ".join(f"{n:>10s}" for n in names))
    for d in (10, 100) if args.quick else (10, 100, 1000):
        X = np.random.default_rng(0).normal(size=(20_000 if d < 1000 else 10_000, d))
        row_rate = {}  # peers whose cost per row does not depend on b: timed once
        for b in (1, 10, 100, 1000, 10_000):
            calls = {"ours": ours}
            calls |= {n: PEERS[n][0] for n in names if PEERS[n][1] or n not in row_rate}
            t = seconds_per_row(calls, d, X, b, args.repeat, args.budget)
            row_rate |= {n: t[n] for n in names if not PEERS[n][1] and n not in row_rate}
            t |= row_rate
            print(
                f"{d:5d} {b:6d} {1 / t['ours']:12.0f} "
                + " ".join(f"{t[n] / t['ours']:9.2f}x" for n in names),
                flush=True,
            )
    fit_whole_array(args)


def fit_whole_array(args):
    """``fit(X)`` on one array: ours against the batch estimators people use."""
    from sklearn.covariance import EmpiricalCovariance

    n = 100_000 if args.quick else 1_000_000
    X = np.random.default_rng(0).normal(size=(n, 100))
    calls = {
        "sklearn EmpiricalCovariance": lambda: EmpiricalCovariance().fit(X),
        "X.T @ X": lambda: X.T @ X,
    }
    try:
        from sklearnex.preview.covariance import EmpiricalCovariance as OneDal

        calls["sklearnex EmpiricalCovariance"] = lambda: OneDal().fit(X)
    except ImportError:
        pass
    calls["ours"] = lambda: OnlineGaussian().fit(X)
    # In turns, each turn starting with another: a call right after oneDAL's
    # (whose threads linger) was 1.5 times slower than after the others.
    best = best_times(args.repeat, **{name: (call,) for name, call in calls.items()})
    print(f"\nfit(X) on {n} x 100: time of each divided by ours (above 1: ours faster)")
    for name, seconds in best.items():
        if name != "ours":
            print(f"{name:32s} {seconds / best['ours']:6.2f}x")


if __name__ == "__main__":
    main()
