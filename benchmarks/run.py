"""Speed and memory of OnlineGaussian, side by side with the baselines, in one run.

    python benchmarks/run.py            # full run (a few minutes)
    python benchmarks/run.py --quick    # smaller sizes, for a smoke test
    python benchmarks/run.py --section 1  # one section

Every figure is a ratio against a baseline timed in the same run (best of
``--repeat`` runs each), since absolute times on a shared machine are noise.
river (``pip install river``) and PyTorch are optional: without them the
one-row comparison and the PyTorch rows of section 3 are skipped.

1. Mini-batch ``partial_fit`` and ``fit`` throughput against
   ``EmpiricalCovariance().fit``, ``np.cov`` and the SYRK limit ``X.T @ X`` on
   the same array; at d = 1000, 2000, 4096 (batches of 1000 and 5000) against
   ``X.T @ X`` only; and against numpy's own centred product of each batch
   (``vs batches``). Then, at d = 100, what the passes an exact update makes
   over each batch of 1000 (the product, the input check, the mean, the
   centred copy) cost, added one by one, as ratios to ``X.T @ X``. The BLAS
   and its thread count are on the first line.
2. One-row ``partial_fit`` against river's ``MultivariateGaussian.update``.
3. Every solver: samples and time to a KL within 10% of the batch MLE's; and
   what a PyTorch user writes, Adam on ``MultivariateNormal(loc, scale_tril)``.
4. Peak memory (tracemalloc) while streaming rows: it must not grow with them.
5. BLAS threads: the default thread count against one thread, on small matrices.
6. ``covariance_type='diag'`` at large d: throughput against
   ``StandardScaler.partial_fit`` (the same variances), and the peak memory of
   streaming and scoring, which must hold no ``d x d`` array.
7. The cost of exact shrinkage: ``partial_fit`` throughput with
   ``shrinkage='ledoit-wolf'`` (two more sums per row) and ``'oas'`` (none)
   relative to the default, and of reading ``covariance_`` with them.
"""

import argparse
import os
import platform
import time
import tracemalloc
import warnings

import numpy as np
from _experiments import SOLVER_SETTINGS, random_gaussian
from sklearn.covariance import EmpiricalCovariance
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_onlinegauss import OnlineGaussian
from sklearn_onlinegauss._covariance import kl_divergence


def best_times(repeat, **calls):
    """Best time of each ``name=(fn, *args)``, run in turn ``repeat`` times.

    Taking turns, rather than timing each call ``repeat`` times in a row, means a
    slow spell of the shared machine hits every candidate alike, so the ratios
    between them hold better than the times do; the order rotates each turn.
    """
    best = dict.fromkeys(calls, np.inf)
    items = list(calls.items())
    for turn in range(repeat):
        # Each turn starts with another candidate: the first call of a turn
        # pays for what the last one of the previous turn left behind.
        shift = turn % len(items)
        for name, (fn, *args) in items[shift:] + items[:shift]:
            start = time.perf_counter()
            fn(*args)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def gram(X):
    return X.T @ X


def batch_passes(X, batch_size, check=False, mean=False, centre=False):
    """The passes an exact per-batch update makes over each batch: numpy, no blend, no state.

    Always ``X_b.T @ X_b``; before it, ``check``: the input check (the sum of
    squares, finite); ``mean``: the mean (a product with ones); ``centre``:
    the product is of the rows minus it, a copy. With ``mean`` and
    ``centre``, the floor a ``partial_fit`` of ``batch_size`` rows stands
    against (one ``X.T @ X`` on the whole array gains from its size what no
    per-batch computation can).
    """
    ones = np.ones(batch_size)
    for i in range(0, len(X), batch_size):
        B = X[i : i + batch_size]
        if check:
            flat = B.reshape(-1)
            np.vdot(flat, flat)
        if mean:
            m = (ones[: len(B)] @ B) / len(B)
            if centre:
                B = B - m
        B.T @ B


def fit_empirical(X):
    return EmpiricalCovariance().fit(X)


def one_row_stream(X, params):
    est = OnlineGaussian(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for x in X:
            est.partial_fit(x[None])


def river_stream(rows, MultivariateGaussian):
    g = MultivariateGaussian()
    for r in rows:
        g.update(r)


def stream(est, X, batch_size):
    for i in range(0, len(X), batch_size):
        est.partial_fit(X[i : i + batch_size])
    return est


def stream_fresh(X, batch_size):
    """A new default estimator, fed ``X`` in chunks of ``batch_size`` rows."""
    return stream(OnlineGaussian(batch_size=batch_size), X, batch_size)


def fit_online(X):
    return OnlineGaussian().fit(X)


def minibatch_throughput(args):
    print(
        "\n1. partial_fit on chunks of b rows, and fit on the whole array (default solver),"
        "\n   throughput relative to baselines"
    )
    print(
        "   (vs batches: against numpy's own mean, centring and X.T @ X of each batch,\n"
        "   the least any exact per-batch update computes)"
    )
    print(
        f"{'d':>5} {'call':>12} {'rows':>9} {'Mrows/s':>8} "
        f"{'vs EmpCov.fit':>14} {'vs np.cov':>10} {'vs X.T@X':>9} {'vs batches':>11}"
    )
    for d in (10, 100, 500):
        n = (200_000 if args.quick else 2_000_000) // max(1, d // 10)
        X = np.random.default_rng(0).normal(size=(n, d))
        t = best_times(
            args.repeat,
            gram=(gram, X),
            cov=(np.cov, X.T),
            emp=(fit_empirical, X),
            b100=(stream_fresh, X, 100),
            b1000=(stream_fresh, X, 1000),
            fit=(fit_online, X),
            floor100=(batch_passes, X, 100, False, True, True),
            floor1000=(batch_passes, X, 1000, False, True, True),
        )
        for name, label in (("b100", "b=100"), ("b1000", "b=1000"), ("fit", "fit(X)")):
            t_b = t[name]
            floor = t.get("floor" + name[1:]) if name.startswith("b") else None
            versus = f"{floor / t_b:10.2f}x" if floor else f"{'-':>11}"
            print(
                f"{d:5d} {label:>12} {n:9d} {n / t_b / 1e6:8.2f} {t['emp'] / t_b:13.2f}x "
                f"{t['cov'] / t_b:9.2f}x {t['gram'] / t_b:8.2f}x {versus}"
            )
    # High d: against the SYRK limit only (the others copy X and add nothing).
    for d in () if args.quick else (1000, 2000, 4096):
        n = 20_000 if d == 1000 else 10_000
        X = np.random.default_rng(0).normal(size=(n, d))
        t = best_times(
            min(args.repeat, 3),
            gram=(gram, X),
            b1000=(stream_fresh, X, 1000),
            b5000=(stream_fresh, X, 5000),
            floor1000=(batch_passes, X, 1000, False, True, True),
            floor5000=(batch_passes, X, 5000, False, True, True),
        )
        for name, label in (("b1000", "b=1000"), ("b5000", "b=5000")):
            t_b, floor = t[name], t["floor" + name[1:]]
            print(
                f"{d:5d} {label:>12} {n:9d} {n / t_b / 1e6:8.2f} {'-':>14} {'-':>10} "
                f"{t['gram'] / t_b:8.2f}x {floor / t_b:10.2f}x"
            )

    print(
        "\n   What an exact update of each batch of 1000 passes over, d = 100: X.T @ X on the\n"
        "   whole array over (per batch) the product alone, then adding each pass"
    )
    d, n = 100, (20_000 if args.quick else 200_000)
    X = np.random.default_rng(0).normal(size=(n, d))
    passes = [(), (True,), (True, True), (True, True, True)]  # check, mean, centre
    steps = {f"passes{k}": (batch_passes, X, 1000, *on) for k, on in enumerate(passes)}
    t = best_times(args.repeat, gram=(gram, X), ours=(stream_fresh, X, 1000), **steps)
    labels = ("X_b.T @ X_b", "+ input check", "+ mean", "+ centred copy", "partial_fit")
    for label, name in zip(labels, [*steps, "ours"], strict=True):
        print(f"   {label:>16} {t['gram'] / t[name]:6.2f}x")


def one_row_throughput(args):
    print("\n2. One-row partial_fit, rows/s relative to river's MultivariateGaussian.update")
    try:
        from river.proba import MultivariateGaussian
    except ImportError:
        MultivariateGaussian = None
        print("   (river not installed: pip install river)")
    print(f"{'d':>5} {'solver':>8} {'rows/s':>10} {'river rows/s':>13} {'ratio':>7}")
    for d in (10, 50):
        n = 1000 if args.quick else 5000
        X = np.random.default_rng(0).normal(size=(n, d))
        calls = {
            solver: (one_row_stream, X, dict(solver=solver, learning_rate="constant", eta0=1e-3))
            for solver in ("natural", "sgd", "adam")
        }
        if MultivariateGaussian is not None:
            rows = [dict(enumerate(x)) for x in X]
            calls["river"] = (river_stream, rows, MultivariateGaussian)
        t = best_times(args.repeat, **calls)
        river_rate = n / t.get("river", np.nan)
        for solver in ("natural", "sgd", "adam"):
            rate = n / t[solver]
            print(f"{d:5d} {solver:>8} {rate:10.0f} {river_rate:13.0f} {rate / river_rate:6.2f}x")


class TorchAdam:
    """What a PyTorch user writes: Adam on the negative log-likelihood of
    ``MultivariateNormal(loc, scale_tril)``, from ``N(0, I)``, with the
    diagonal of the factor as its logarithm so that it stays positive."""

    def __init__(self, n_features, lr):
        import torch

        self.torch = torch
        self.loc = torch.zeros(n_features, dtype=torch.float64, requires_grad=True)
        self.raw = torch.zeros(n_features, n_features, dtype=torch.float64, requires_grad=True)
        self.optimizer = torch.optim.Adam([self.loc, self.raw], lr=lr)

    def _scale_tril(self):
        raw = self.raw
        return self.torch.tril(raw, -1) + self.torch.diag(self.torch.exp(raw.diagonal()))

    def partial_fit(self, X):
        gaussian = self.torch.distributions.MultivariateNormal(
            self.loc, scale_tril=self._scale_tril()
        )
        loss = -gaussian.log_prob(self.torch.from_numpy(X)).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return self

    @property
    def location_(self):
        return self.loc.detach().numpy().copy()

    @property
    def covariance_(self):
        with self.torch.no_grad():
            L = self._scale_tril()
            return (L @ L.T).numpy()


def contenders(n_features):
    """name -> a function making a fresh estimator with ``partial_fit``."""
    made = {
        name: lambda params=params: OnlineGaussian(**params)
        for name, params in SOLVER_SETTINGS.items()
    }
    try:
        import torch  # noqa: F401
    except ImportError:
        print("   (PyTorch not installed: its rows are skipped)")
        return made
    for lr in (1e-1, 1e-2, 1e-3):
        made[f"torch Adam lr={lr:g}"] = lambda lr=lr: TorchAdam(n_features, lr)
    return made


def time_to_accuracy(args):
    n_max = 20_000 if args.quick else 100_000
    checkpoints = [int(c) for c in np.unique(np.geomspace(200, n_max, 12).round(-2))]
    print(
        f"\n3. Samples (and streaming time) until KL <= 1.1 x the batch MLE's, d=10, "
        f"batches of 100, up to {n_max} samples;\n   if never, the KL over the MLE's at "
        f"{n_max} (and the time for all)"
    )
    data = {}
    for condition in (1e1, 1e6):
        rng = np.random.default_rng(0)
        mu, cov = random_gaussian(rng, 10, condition)
        X = rng.multivariate_normal(mu, cov, size=n_max)
        mle = [EmpiricalCovariance().fit(X[:c]) for c in checkpoints]
        data[condition] = (
            mu,
            cov,
            X,
            [kl_divergence(mu, cov, m.location_, m.covariance_) for m in mle],
        )
    made = contenders(10)
    print(f"{'solver':24s} {'cond 1e1':>22s} {'cond 1e6':>22s}")
    for name, make in made.items():
        cells = []
        for condition in (1e1, 1e6):
            mu, cov, X, kl_mle = data[condition]
            est, elapsed, start, cell = make(), 0.0, 0, None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                for c, ref in zip(checkpoints, kl_mle, strict=True):
                    t0 = time.perf_counter()
                    stream(est, X[start:c], 100)
                    elapsed += time.perf_counter() - t0
                    start = c
                    ratio = kl_divergence(mu, cov, est.location_, est.covariance_) / ref
                    if ratio <= 1.1:
                        cell = f"{c:7d} ({elapsed * 1e3:7.1f} ms)"
                        break
            # Not reached: the KL ratio at the end of the stream, and the time it took.
            cell = cell or f"{ratio:6.3g}x ({elapsed * 1e3:7.1f} ms)"
            cells.append(f"{cell:>22s}")
        print(f"{name:24s} {' '.join(cells)}")


def memory(args):
    d, chunk = 50, 1000
    n_total = 100_000 if args.quick else 1_000_000
    print(f"\n4. Peak traced memory while streaming rows of d={d} in chunks of {chunk}")
    rng = np.random.default_rng(0)
    est = OnlineGaussian()
    tracemalloc.start()
    peaks, seen = {}, 0
    marks = {n_total // 10, n_total}
    while seen < n_total:
        est.partial_fit(rng.normal(size=(chunk, d)))
        seen += chunk
        if seen in marks:
            peaks[seen] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    chunk_mb = chunk * d * 8 / 1e6
    for n, peak in peaks.items():
        print(
            f"   after {n:9d} rows: peak {peak / 1e6:6.2f} MB "
            f"({peak / 1e6 / chunk_mb:.1f} x one chunk of {chunk_mb:.2f} MB)"
        )


def blas_threads(args):
    print("\n5. Default BLAS threads against one thread (time with 1 thread / default)")
    for d, b in ((10, 1), (50, 1), (100, 100), (100, 1000), (500, 1000)):
        n = max(1000, 100 * b) if args.quick else max(3000, 20 * b * max(1, 100 // d))
        X = np.random.default_rng(0).normal(size=(n, d))

        def one_thread(X, b):
            with threadpool_limits(1):
                stream_fresh(X, b)

        t = best_times(
            args.repeat,
            default=(stream_fresh, X, b),
            one=(one_thread, X, b),
        )
        print(f"   d={d:4d} batch={b:5d}: {t['one'] / t['default']:5.2f}")


def diag_stream(batches, covariance_type="diag"):
    est = OnlineGaussian(covariance_type=covariance_type)
    for X in batches:
        est.partial_fit(X)
    return est


def scaler_stream(batches):
    scaler = StandardScaler()
    for X in batches:
        scaler.partial_fit(X)


def diagonal(args):
    print(
        "\n6. covariance_type='diag', batches of 1000: rows/s relative to "
        "StandardScaler.partial_fit,\n   and the traced peak of streaming and "
        "scoring (one temporary the size of a batch, and O(d) more)"
    )
    print(
        f"{'d':>6} {'rows/s':>8} {'vs StandardScaler':>18} {'peak MB':>8} "
        f"{'one batch MB':>13} {'peak - batch':>13}"
    )
    for d in (1000, 4000):
        n_batches = 4 if args.quick else 20
        rng = np.random.default_rng(0)
        batches = [rng.normal(size=(1000, d)) * rng.uniform(0.1, 10, d) + 5 for _ in range(3)]
        batches = [batches[i % 3] for i in range(n_batches)]
        t = best_times(args.repeat, diag=(diag_stream, batches), scaler=(scaler_stream, batches))
        tracemalloc.start()
        est = diag_stream(batches)
        est.score_samples(batches[0])
        est.mahalanobis(batches[1])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        batch_mb = batches[0].nbytes / 1e6
        rate = 1000 * n_batches / t["diag"]
        print(
            f"{d:6d} {rate:8.0f} {t['scaler'] / t['diag']:17.2f}x "
            f"{peak / 1e6:8.2f} {batch_mb:13.2f} {peak / 1e6 - batch_mb:13.2f}"
        )


def shrunk_stream(shrinkage, X, batch_size):
    return stream(OnlineGaussian(shrinkage=shrinkage, batch_size=batch_size), X, batch_size)


def shrinkage_cost(args):
    print(
        "\n7. Shrinkage: partial_fit rows/s and one covariance_ read, relative to the default"
        "\n   (1.00 = as fast; below 1 slower)"
    )
    print(f"{'d':>5} {'batch':>6} {'shrinkage':>12} {'partial_fit':>12} {'read':>8}")
    for d, b in ((10, 1), (100, 1000), (500, 1000)):
        n = 2_000 if b == 1 else 20 * b
        X = np.random.default_rng(0).normal(size=(n, d))
        shrinkages = (None, "ledoit-wolf", "oas")
        fitted = {s: OnlineGaussian(shrinkage=s).fit(X) for s in shrinkages}
        # Fits and reads timed apart: a fit right after a read runs slower
        # at d=500 (whatever the shrinkage), which would skew the turns.
        t = best_times(args.repeat, **{f"fit {s}": (shrunk_stream, s, X, b) for s in shrinkages})
        t |= best_times(
            args.repeat,
            **{f"read {s}": (getattr, est, "covariance_") for s, est in fitted.items()},
        )
        for s in ("ledoit-wolf", "oas"):
            print(
                f"{d:5d} {b:6d} {s:>12s} {t['fit None'] / t[f'fit {s}']:11.2f}x "
                f"{t['read None'] / t[f'read {s}']:7.2f}x"
            )


def machine():
    """CPU, core count, memory, Python, numpy and BLAS, as one line."""
    cpu, memory_gb = platform.processor() or platform.machine(), None
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (OSError, StopIteration, ValueError, AttributeError):
        pass
    blas = [
        f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads)"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    memory = f", {memory_gb:.0f} GiB" if memory_gb else ""
    return (
        f"{cpu} ({platform.machine()}), {os.cpu_count()} cores{memory}; "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"numpy {np.__version__}, BLAS {', '.join(blas)}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    parser.add_argument(
        "--section", type=int, choices=range(1, len(SECTIONS) + 1), help="run this one only"
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for number, section in enumerate(SECTIONS, start=1):
        if args.section in (None, number):
            section(args)


SECTIONS = (
    minibatch_throughput,
    one_row_throughput,
    time_to_accuracy,
    memory,
    blas_threads,
    diagonal,
    shrinkage_cost,
)


if __name__ == "__main__":
    main()
