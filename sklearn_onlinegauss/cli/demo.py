"""``onlinegauss demo``: the original question, answered with numbers from the library."""

import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.covariance import EmpiricalCovariance

from .._covariance import kl_divergence
from .._estimator import OnlineGaussian

RATE = 0.002
START_VARIANCES = (0.001, 1.0, 100.0)
#: label -> OnlineGaussian parameters, for the one-sample-at-a-time stream.
SOLVERS = {
    "default: natural gradient, 1/t (exact MLE)": {},
    f"natural gradient, constant rate {RATE} (a tracker)": dict(
        learning_rate="constant", eta0=RATE
    ),
    f"sgd, covariance coordinates, constant rate {RATE}": dict(
        solver="sgd", parametrization="covariance", learning_rate="constant", eta0=RATE
    ),
    f"sgd, log-Cholesky, constant rate {RATE}": dict(
        solver="sgd", learning_rate="constant", eta0=RATE
    ),
    f"adam, log-Cholesky, constant rate {RATE}": dict(
        solver="adam", learning_rate="constant", eta0=RATE
    ),
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


def solver_path(X, params):
    """OnlineGaussian's variance after each one-sample ``partial_fit``.

    Also returns how many Euclidean steps the trust region shrank; the
    ShrunkStepWarning that says so is recorded here and the count printed.
    """
    est = OnlineGaussian(**params)
    path = np.empty(len(X))
    with warnings.catch_warnings(record=True):
        for k, x in enumerate(X):
            path[k] = est.partial_fit(x.reshape(1, 1)).covariance_[0, 0]
    return path, est.n_steps_shrunk_


def correlated_case(n=200_000, seed=0):
    """5-D data whose features span six orders of magnitude, offset by 1000."""
    rng = np.random.default_rng(seed)
    scales = np.logspace(-3, 3, 5)
    A = rng.normal(size=(5, 5))
    cov = (A @ A.T + np.eye(5)) * np.outer(scales, scales)
    mean = 1000.0 + rng.normal(size=5) * scales
    return mean, cov, rng.multivariate_normal(mean, cov, size=n)


def run(plot="temporary", n_samples=5000, out=print):
    """Print the demo's two experiments and save a figure of the first.

    ``plot`` is a path, ``'temporary'`` (a new temporary directory, named in
    the output) or None (no figure); without matplotlib there is none.
    """
    X = np.random.default_rng(0).normal(size=n_samples)
    out(f"1. The original question: N(0, 1) data, one sample at a time, rate a = {RATE}")
    out(f"   variance after {n_samples} samples (the truth is 1):")
    paths = {}
    for start in START_VARIANCES:
        path = paths[f"textbook update, start variance {start:g}"] = textbook_path(X, start)
        last = path[~np.isnan(path)]
        final = f"{last[-1]:.3f}" if len(last) == len(path) else "left the PD cone (NaN)"
        out(f"   {'textbook update, start variance ' + format(start, 'g'):58s} {final}")
    for name, params in SOLVERS.items():
        path, shrunk = solver_path(X[:, None], params)
        paths[name] = path
        note = f"   ({shrunk} steps shrunk)" if shrunk else ""
        out(f"   {name:58s} {path[-1]:.3f}{note}")
    out(
        "   The textbook update stalls or overshoots depending on where it starts. The\n"
        "   default is the running maximum-likelihood estimate: no rate to choose, and\n"
        "   what EmpiricalCovariance gives on the same samples. At the question's constant\n"
        f"   rate the natural gradient is a tracker that remembers about 1/a = {1 / RATE:.0f}\n"
        "   samples, for drifting streams: it fluctuates around 1 and never settles. The\n"
        "   Euclidean solvers start from the first 2 samples and are held to a trust\n"
        "   region; Adam's steps are about a in log-scale, so it approaches 1 slowly."
    )

    mean, cov, Y = correlated_case()
    mle = EmpiricalCovariance().fit(Y)
    out(
        f"\n2. A correlated 5-D Gaussian, feature scales 1e-3 to 1e3, offset 1000: "
        f"{len(Y)} samples in chunks of 100"
    )
    out(f"   {'estimator':58s} KL(true || estimate)")
    out(
        f"   {'EmpiricalCovariance (batch, all data)':58s} "
        f"{kl_divergence(mean, cov, mle.location_, mle.covariance_):.3e}"
    )
    for name, params in {
        "default: natural gradient, 1/t": {},
        "natural gradient, constant rate 1e-3 (a tracker)": dict(
            learning_rate="constant", eta0=1e-3
        ),
        "adam, log-Cholesky, 1/t": dict(solver="adam"),
    }.items():
        est = OnlineGaussian(**params, batch_size=100)
        with warnings.catch_warnings(record=True):  # counted in n_steps_shrunk_
            for i in range(0, len(Y), 10_000):
                est.partial_fit(Y[i : i + 10_000])
        kl = kl_divergence(mean, cov, est.location_, est.covariance_)
        out(f"   {name:58s} {kl:.3e}")
    if plot is not None:
        _plot(paths, plot, out)


def _plot(paths, plot, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        out("\n(matplotlib is not installed: no figure; pip install matplotlib)")
        return
    if plot == "temporary":
        plot = Path(tempfile.mkdtemp(prefix="onlinegauss-demo-")) / "onlinegauss-demo.png"
    fig, ax = plt.subplots(figsize=(9, 6.5))
    ax.axhline(1.0, color="0.6", linewidth=6, alpha=0.4, label="truth (variance 1)")
    for label, path in paths.items():
        textbook = label.startswith("textbook")
        n = np.arange(1, len(path) + 1)
        # From the second sample on: one sample has no variance to show.
        ax.plot(
            n[1:],
            path[1:],
            label=label,
            linestyle="--" if textbook else "-",
            linewidth=1.2 if textbook else 1.6,
        )
    ax.set(
        xscale="log",
        yscale="log",
        ylim=(1e-2, 1e3),
        xlabel="samples seen, one at a time",
        ylabel="estimated variance",
        title=f"Gradient ascent on the variance of N(0, 1) at rate {RATE}",
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    fig.tight_layout()
    fig.savefig(plot, dpi=120)
    plt.close(fig)
    out(f"\nfigure saved to {plot}")
