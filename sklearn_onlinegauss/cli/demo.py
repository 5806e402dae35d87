"""``onlinegauss demo``: the original question, answered with numbers from the library."""

import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.covariance import EmpiricalCovariance

from .._covariance import kl_divergence
from .._estimator import OnlineGaussian
from .._solvers import WARM_UP_ROWS
from .readers import UsageError

RATE = 0.002
#: Samples of 1-D data the Euclidean solvers take the exact estimate for.
WARM_UP = WARM_UP_ROWS * 2
START_VARIANCES = (0.001, 1.0, 100.0)
DEFAULT = "default: natural gradient, 1/t (exact MLE)"
TRACKER = f"natural gradient, constant rate {RATE} (a tracker): memory ~{1 / RATE:.0f}"
#: label -> OnlineGaussian parameters, for the one-sample-at-a-time stream.
SOLVERS = {
    DEFAULT: {},
    TRACKER: dict(learning_rate="constant", eta0=RATE),
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
#: label -> OnlineGaussian parameters, for the 5-D stream in chunks of 100.
SCALE_SOLVERS = {
    "default: natural gradient, 1/t": {},
    "natural gradient, constant rate 1e-3 (a tracker)": dict(learning_rate="constant", eta0=1e-3),
    "adam, log-Cholesky, 1/t": dict(solver="adam"),
}
#: Styles that keep curves apart where they run together: label prefix -> style.
_STYLES = {
    "textbook update, start variance 0.001": dict(color="tab:orange", linestyle="--"),
    "textbook update, start variance 1": dict(color="tab:olive", linestyle="--"),
    "textbook update, start variance 100": dict(color="tab:brown", linestyle="--"),
    "default": dict(color="black", linewidth=2.4),
    "natural gradient, constant": dict(color="tab:blue"),
    "sgd, covariance": dict(color="tab:green", linestyle="-.", marker="s"),
    "sgd, log-Cholesky": dict(color="tab:purple", linestyle=":", marker="^"),
    "adam": dict(color="tab:red", linestyle=(0, (6, 2)), marker="v"),
}


def textbook_path(X, start_variance, rate=RATE):
    """``mu += a grad_mu; var += a grad_var`` on 1-D data from ``(0, start_variance)``.

    Returns the means and variances, the start first (``len(X) + 1`` of
    each); NaN from where the variance leaves the positive half-line.
    """
    mu, var = 0.0, start_variance
    path = np.full((len(X) + 1, 2), np.nan)
    path[0] = mu, var
    for k, x in enumerate(X, start=1):
        r = x - mu
        mu, var = mu + rate * r / var, var + rate * 0.5 * (r * r / var**2 - 1 / var)
        if not var > 0:
            break
        path[k] = mu, var
    return path


def solver_path(X, params):
    """OnlineGaussian's mean and variance after each one-sample ``partial_fit``.

    Returns them (``len(X)`` rows, the first after the first sample) and how
    many Euclidean steps the trust region shrank; the ShrunkStepWarning that
    says so is recorded here and the count printed.
    """
    est = OnlineGaussian(**params)
    path = np.empty((len(X), 2))
    with warnings.catch_warnings(record=True):
        for k, x in enumerate(X):
            est.partial_fit(x.reshape(1, 1))
            path[k] = est.location_[0], est.covariance_[0, 0]
    return path, est.n_steps_shrunk_


def correlated_case(n=200_000, seed=0):
    """5-D data whose features span six orders of magnitude, offset by 1000."""
    rng = np.random.default_rng(seed)
    scales = np.logspace(-3, 3, 5)
    A = rng.normal(size=(5, 5))
    cov = (A @ A.T + np.eye(5)) * np.outer(scales, scales)
    mean = 1000.0 + rng.normal(size=5) * scales
    return mean, cov, rng.multivariate_normal(mean, cov, size=n)


def scale_curves(mean, cov, Y, n_points=24):
    """KL(true || estimate) after log-spaced numbers of samples of ``Y``, by estimator.

    Returns ``(seen, {label: kl})``: the batch MLE of each prefix, and each
    of `SCALE_SOLVERS` fed the stream in order, in chunks of 100 rows.
    """
    seen = np.unique(np.geomspace(100, len(Y), n_points).round(-2).astype(int))
    curves = {"EmpiricalCovariance (batch, the samples so far)": []}
    for n in seen:
        mle = EmpiricalCovariance().fit(Y[:n])
        curves["EmpiricalCovariance (batch, the samples so far)"].append(
            kl_divergence(mean, cov, mle.location_, mle.covariance_)
        )
    for name, params in SCALE_SOLVERS.items():
        est, kl, done = OnlineGaussian(**params, batch_size=100), [], 0
        with warnings.catch_warnings(record=True):  # counted in n_steps_shrunk_
            for n in seen:
                est.partial_fit(Y[done:n])
                done = n
                kl.append(kl_divergence(mean, cov, est.location_, est.covariance_))
        curves[name] = kl
    return seen, {name: np.asarray(kl) for name, kl in curves.items()}


def figure_path(plot):
    """Where the figure goes: ``plot`` with ``.png`` added when it has no suffix.

    ``'temporary'`` is a new temporary directory. A suffix matplotlib cannot
    write is a :class:`UsageError`, raised before any experiment runs.
    """
    if plot == "temporary":
        return Path(tempfile.mkdtemp(prefix="onlinegauss-demo-")) / "onlinegauss-demo.png"
    plot = Path(plot)
    if not plot.suffix:
        return plot.with_name(plot.name + ".png")
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    if plot.suffix[1:].lower() not in formats:
        raise UsageError(
            f"--output {plot}: matplotlib cannot write {plot.suffix!r} figures "
            f"(it writes {', '.join('.' + f for f in sorted(formats))})"
        )
    return plot


def run(plot="temporary", n_samples=5000, n_scale=200_000, out=print):
    """Print the demo's two experiments and save a figure of both.

    ``plot`` is a path (``.png`` added when it has no suffix),
    ``'temporary'`` (a new temporary directory) or None (no figure); without
    matplotlib there is none. Returns the path written, or None.
    """
    if plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            out("(matplotlib is not installed: no figure; pip install matplotlib)\n")
            plot = None
        else:
            plot = figure_path(plot)
    results = experiments(n_samples, n_scale, out)
    if plot is None:
        return None
    fig = make_figure(*results)
    plot.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(plot, dpi=110)
    out(f"\nfigure saved to {plot}")
    return plot


def experiments(n_samples=5000, n_scale=200_000, out=print, seed=0):
    """Run and print both experiments; returns :func:`make_figure`'s arguments."""
    return _question(n_samples, out, seed), *_scale(n_scale, out, seed)


def _question(n_samples, out, seed):
    X = np.random.default_rng(seed).normal(size=n_samples)
    out(f"1. The original question: N(0, 1) data, one sample at a time, rate a = {RATE}")
    out(f"   variance after {n_samples} samples (the truth is 1):")
    paths = {}
    for start in START_VARIANCES:
        name = f"textbook update, start variance {start:g}"
        path = paths[name] = textbook_path(X, start)
        final = "left the PD cone (NaN)" if np.isnan(path[-1, 1]) else f"{path[-1, 1]:.3f}"
        out(f"   {name:62s} {final}")
    for name, params in SOLVERS.items():
        paths[name], shrunk = solver_path(X[:, None], params)
        note = f"   ({shrunk} steps shrunk)" if shrunk else ""
        out(f"   {name:62s} {paths[name][-1, 1]:.3f}{note}")
    out(
        "   The textbook step in the variance scales as 1 / var**2: from a large start\n"
        "   it hardly moves, from a small one its first step overshoots (or leaves the\n"
        "   positive half-line), and it stalls where it lands.\n"
        "   The default is the running maximum-likelihood estimate: no rate to choose, and\n"
        "   what EmpiricalCovariance gives on the same samples. A constant rate never\n"
        f"   converges: it is a tracker that remembers about 1/a = {1 / RATE:.0f} samples,\n"
        "   for drifting streams; from its start it climbs for that long, then fluctuates\n"
        f"   around 1. The Euclidean solvers take the exact estimate for their first\n"
        f"   {WARM_UP} samples, then steps held to a trust region."
    )
    return paths


def _scale(n_scale, out, seed):
    mean, cov, Y = correlated_case(n_scale, seed)
    out(
        f"\n2. A correlated 5-D Gaussian, feature scales 1e-3 to 1e3, offset 1000: "
        f"{len(Y)} samples in chunks of 100"
    )
    seen, kl = scale_curves(mean, cov, Y)
    out(f"   {'estimator':62s} KL(true || estimate)")
    for name, curve in kl.items():
        out(f"   {name:62s} {curve[-1]:.3e}")
    return seen, kl


def _style(label):
    if label in _STYLES:
        return _STYLES[label]
    return next(style for prefix, style in _STYLES.items() if label.startswith(prefix))


def make_figure(paths, seen, kl, figure=None):
    """The demo's figure: mean, variance, distance from the MLE, and the 5-D stream.

    ``paths`` maps a label to its ``(mean, variance)`` rows: the textbook
    updates' from their start (drawn at sample 0), the library's from the
    first sample. Draws on ``figure`` (e.g. ``plt.figure()``), by default a
    new :class:`matplotlib.figure.Figure` that pyplot does not hold; returns it.
    """
    from matplotlib.figure import Figure

    fig = figure if figure is not None else Figure(figsize=(13, 10.5), layout="constrained")
    (ax_mu, ax_var), (ax_gap, ax_kl) = fig.subplots(2, 2)
    mle = paths[DEFAULT][:, 1]
    for label, path in paths.items():
        _draw_path((ax_mu, ax_var, ax_gap), label, path, mle)
    ax_mu.axhline(0, color="0.5", linewidth=5, alpha=0.3, zorder=0)
    ax_var.axhline(1, color="0.5", linewidth=5, alpha=0.3, zorder=0)
    _decorate_question(fig, ax_mu, ax_var, ax_gap, len(mle))
    _draw_scale(ax_kl, seen, kl)
    return fig


def _draw_path(axes, label, path, mle):
    """One curve in the mean and variance panels, circled at its start, and its distance
    from the MLE (from the second sample, the first where the MLE has a variance)."""
    ax_mu, ax_var, ax_gap = axes
    textbook = label.startswith("textbook")
    n = np.arange(len(path)) + (0 if textbook else 1)
    style = dict(_style(label))
    marker = style.pop("marker", None)
    every = _marker_positions(len(path), label)
    for ax, y in ((ax_mu, path[:, 0]), (ax_var, path[:, 1])):
        line = ax.plot(n, y, label=label, marker=marker, markevery=every, ms=5, **style)
        ax.plot(n[0], y[0], "o", ms=9, mfc="white", mew=2, color=line[0].get_color())
    left = np.flatnonzero(np.isnan(path[:, 1]))
    if len(left):
        k = left[0] - 1
        ax_var.plot(n[k], path[k, 1], "X", ms=11, color=style["color"])
        ax_var.annotate(
            f"X: the next step (sample {n[k] + 1})\nmakes the variance negative",
            xy=(n[k], path[k, 1]),
            xytext=(8, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    if label != DEFAULT:
        gap = _trailing_max(np.abs((path[2:, 1] if textbook else path[1:, 1]) / mle[1:] - 1))
        ax_gap.plot(
            n[-len(gap) :],
            np.where(gap > 0, gap, np.nan),
            marker=marker,
            markevery=every[every < len(gap)],
            ms=5,
            **style,
        )


def _trailing_max(gap):
    """The largest of ``gap[k // 2 : k + 1]`` at each ``k``: an envelope that a crossing leaves."""
    return np.array([gap[k // 2 : k + 1].max() for k in range(len(gap))])


def _marker_positions(length, label):
    """Log-spaced marker indices, shifted per curve so curves that coincide show each."""
    shift = 1.0 + 0.07 * (sum(map(ord, label)) % 7)
    return np.unique(np.geomspace((WARM_UP + 1) * shift, length - 1, 14).astype(int))


def _decorate_question(fig, ax_mu, ax_var, ax_gap, n):
    for ax in (ax_mu, ax_var, ax_gap):
        ax.set_xscale("symlog", linthresh=1, linscale=0.6)
        ax.set_xlim(-0.15, n * 1.3)
        ax.set_xlabel("samples seen, one at a time (0: the textbook update's start)")
        ax.grid(alpha=0.3)
    ax_mu.set(
        ylim=_symmetric_limits(ax_mu), ylabel="estimated mean", title="mean (truth 0, grey band)"
    )
    ax_var.set(
        yscale="log",
        ylim=_log_limits(ax_var),
        ylabel="estimated variance",
        title="variance (truth 1, grey band); circles: each curve's first value",
    )
    ax_var.annotate(
        "the library's estimate after one sample:\nvariance 0 filled in by reg_covar = 1e-6",
        xy=(1, 1e-6),
        xytext=(3, 1.5e-6),
        fontsize=8,
        arrowprops=dict(arrowstyle="->", color="0.4"),
    )
    ax_gap.set(
        yscale="log",
        ylim=(1e-4, _log_limits(ax_gap)[1]),
        ylabel="largest |variance / running MLE - 1| over samples n/2 to n",
        title="distance from the MLE of the samples so far (the default: 0)",
    )
    ax_gap.text(
        1.1,
        2e-4,
        f"Euclidean solvers: exactly the MLE\nfor their first {WARM_UP} samples (warm-up)",
        fontsize=8,
    )
    handles, labels = ax_var.get_legend_handles_labels()
    fig.suptitle('Why gradient ascent on a Gaussian "does not converge"', fontsize=14)
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=2,
        fontsize=9,
        title=f"N(0, 1), one sample at a time, rate a = {RATE}",
    )


def _symmetric_limits(ax):
    """``(-m, m)`` around the curves' largest finite ``|y|``, a margin added."""
    m = max(np.nanmax(np.abs(line.get_ydata())) for line in ax.get_lines())
    return -1.15 * m, 1.15 * m


def _log_limits(ax):
    """A factor 3 beyond the curves' smallest and largest positive ``y``."""
    y = np.concatenate([line.get_ydata() for line in ax.get_lines()])
    y = y[np.isfinite(y) & (y > 0)]
    return y.min() / 3, y.max() * 3


def _draw_scale(ax, seen, kl):
    d = 5
    expected = d * (d + 3) / (4 * seen)
    ax.plot(seen, expected, color="0.5", linewidth=5, alpha=0.3)
    ax.annotate(
        "grey: d (d + 3) / (4 n), the MLE's expected KL",
        xy=(seen[-1], expected[-1]),
        xytext=(0.03, 0.03),
        textcoords="axes fraction",
        fontsize=8,
        arrowprops=dict(arrowstyle="->", color="0.4"),
    )
    for label, curve in kl.items():
        if label.startswith("EmpiricalCovariance"):
            ax.plot(seen, curve, "o", ms=8, mfc="none", color="black", label=label)
        else:
            ax.plot(seen, curve, label=label, **_style(label))
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="samples seen, in chunks of 100",
        ylabel="KL(true || estimate)",
        title="5-D, feature scales 1e-3 to 1e3, offset 1000",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
