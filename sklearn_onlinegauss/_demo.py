"""``onlinegauss demo``: the original question, answered with numbers from the library."""

import warnings

import numpy as np
from sklearn.covariance import EmpiricalCovariance

from ._covariance import kl_divergence
from ._estimator import OnlineGaussian

RATE = 0.002
START_VARIANCES = (0.001, 1.0, 100.0)
SOLVERS = {
    "natural gradient (default)": dict(solver="natural"),
    "sgd, covariance coordinates": dict(solver="sgd", parametrization="covariance"),
    "sgd, log-Cholesky": dict(solver="sgd", parametrization="cholesky"),
    "adam, log-Cholesky": dict(solver="adam", parametrization="cholesky"),
}


def textbook_path(X, start_variance, rate=RATE):
    """``mu += a grad_mu; var += a grad_var`` on 1-D data; the variance after each sample.

    Stops early (NaN afterwards) if the variance leaves the positive half-line.
    """
    mu, var = 0.0, start_variance
    path = np.full(len(X), np.nan)
    for k, x in enumerate(X):
        r = x - mu
        mu, var = mu + rate * r / var, var + rate * 0.5 * (r * r / var**2 - 1 / var)
        if not var > 0:
            break
        path[k] = var
    return path


def solver_path(X, params, rate=RATE):
    """OnlineGaussian's variance after each one-sample ``partial_fit``."""
    est = OnlineGaussian(**params, learning_rate="constant", eta0=rate)
    path = np.empty(len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for k, x in enumerate(X):
            path[k] = est.partial_fit(x.reshape(1, 1)).covariance_[0, 0]
    return path


def correlated_case(n=200_000, seed=0):
    """5-D data whose features span six orders of magnitude, offset by 1000."""
    rng = np.random.default_rng(seed)
    scales = np.logspace(-3, 3, 5)
    A = rng.normal(size=(5, 5))
    cov = (A @ A.T + np.eye(5)) * np.outer(scales, scales)
    mean = 1000.0 + rng.normal(size=5) * scales
    return mean, cov, rng.multivariate_normal(mean, cov, size=n)


def run(plot=None, n_samples=5000, out=print):
    """Print the demo's two experiments; save a figure to ``plot`` if matplotlib is there."""
    X = np.random.default_rng(0).normal(size=n_samples)
    out(f"1. The original question: N(0, 1) data, one sample at a time, rate a = {RATE}")
    out(f"   variance after {n_samples} samples (the truth is 1):")
    paths = {}
    for start in START_VARIANCES:
        path = paths[f"textbook, start variance {start:g}"] = textbook_path(X, start)
        last = path[~np.isnan(path)]
        final = f"{last[-1]:.3f}" if len(last) == len(path) else "left the PD cone (NaN)"
        out(f"   {'textbook update, start variance ' + format(start, 'g'):54s} {final}")
    for name, params in SOLVERS.items():
        path = paths[f"OnlineGaussian: {name}"] = solver_path(X[:, None], params)
        out(f"   {'OnlineGaussian, ' + name:54s} {path[-1]:.3f}")

    out(
        "   The textbook update stalls or overshoots depending on where it starts. The\n"
        "   Euclidean solvers start from the first 2 samples and are held to a trust\n"
        "   region; Adam's steps are about a in log-scale, so it approaches 1 slowly."
    )

    mean, cov, Y = correlated_case()
    mle = EmpiricalCovariance().fit(Y)
    out(
        f"\n2. A correlated 5-D Gaussian, feature scales 1e-3 to 1e3, offset 1000: "
        f"{len(Y)} samples in chunks of 100"
    )
    out(f"   {'estimator':54s} KL(true || estimate)")
    out(
        f"   {'EmpiricalCovariance (batch, all data)':54s} "
        f"{kl_divergence(mean, cov, mle.location_, mle.covariance_):.3e}"
    )
    for name, params in {
        "natural gradient, 1/t (default)": {},
        "natural gradient, constant rate 1e-3": dict(learning_rate="constant", eta0=1e-3),
        "adam, log-Cholesky, 1/t": dict(solver="adam"),
    }.items():
        est = OnlineGaussian(**params, batch_size=100)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for i in range(0, len(Y), 10_000):
                est.partial_fit(Y[i : i + 10_000])
        kl = kl_divergence(mean, cov, est.location_, est.covariance_)
        out(f"   {'OnlineGaussian, ' + name:54s} {kl:.3e}")

    if plot is not None:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            out("\n(matplotlib is not installed: no plot)")
            return
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for label, path in paths.items():
            ax.plot(
                np.arange(1, len(path) + 1),
                path,
                label=label,
                linestyle="--" if label.startswith("textbook") else "-",
            )
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="samples seen",
            ylabel="estimated variance",
            title=f"Gradient ascent on a Gaussian's variance, rate {RATE}",
        )
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(plot, dpi=120)
        out(f"\nplot saved to {plot}")
