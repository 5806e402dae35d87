"""
=====================================================
Why gradient ascent on a Gaussian "does not converge"
=====================================================

The question this library answers: *"I do* ``mu += a * grad_mu; Sigma += a * grad_Sigma``
*with a = 0.002 on N(0, 1) data and it does not converge at all."* Here is that update, from
several starting variances, next to :class:`~sklearn_onlinegauss.OnlineGaussian`'s solvers fed
the same stream one sample at a time.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from sklearn_onlinegauss import OnlineGaussian

a = 0.002
X = np.random.default_rng(0).normal(size=5000)

# %%
# The textbook update
# -------------------
# The gradients of the log-likelihood of one sample, for a 1-D Gaussian:
# ``d/dmu = r / var`` and ``d/dvar = (r**2 / var**2 - 1 / var) / 2`` with ``r = x - mu``.


def textbook(X, var, a=a):
    mu, path = 0.0, []
    for x in X:
        r = x - mu
        mu, var = mu + a * r / var, var + a * 0.5 * (r**2 / var**2 - 1 / var)
        path.append((mu, var if var > 0 else np.nan))
    return np.array(path)


paths = {f"textbook, start variance {v:g}": textbook(X, v) for v in (0.001, 1.0, 100.0)}

# %%
# The library's solvers, same rate, same stream
# ---------------------------------------------
solvers = {
    "natural gradient": dict(solver="natural"),
    "sgd, covariance (trust region)": dict(solver="sgd", parametrization="covariance"),
    "sgd, log-Cholesky": dict(solver="sgd", parametrization="cholesky"),
}
for name, params in solvers.items():
    est = OnlineGaussian(**params, learning_rate="constant", eta0=a)
    path = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for x in X:
            est.partial_fit([[x]])
            path.append((est.location_[0], est.covariance_[0, 0]))
    paths[name] = np.array(path)

# %%
# Trajectories
# ------------
# From a variance of 100 the textbook update has hardly moved after 5,000 samples (the
# curvature in the variance is ~ 1 / var**2, so reaching 1 takes ~ 100**2 / a = 5e6 samples);
# from 0.001 its first steps overshoot to ~14, where it is stuck again. The natural gradient
# does not depend on the scale; the Euclidean solvers converge once the trust region keeps
# their first steps in check.
fig, (ax_mu, ax_var) = plt.subplots(1, 2, figsize=(11, 4.2))
n = np.arange(1, len(X) + 1)
for name, path in paths.items():
    style = "--" if name.startswith("textbook") else "-"
    ax_mu.plot(n, path[:, 0], style, label=name)
    ax_var.plot(n, path[:, 1], style, label=name)
ax_mu.axhline(0, color="black", linewidth=0.8)
ax_var.axhline(1, color="black", linewidth=0.8)
ax_mu.set(
    xscale="log",
    xlabel="samples seen",
    ylabel="estimated mean",
    ylim=(-0.5, 0.5),
    title="mean (truth: 0)",
)
ax_var.set(
    xscale="log",
    yscale="log",
    xlabel="samples seen",
    ylabel="estimated variance",
    title="variance (truth: 1)",
)
ax_var.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()

# %%
for name, path in paths.items():
    print(f"{name:34s} mean {path[-1, 0]:+.3f}   variance {path[-1, 1]:.3f}")
