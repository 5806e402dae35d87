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
shrunk = {}
for name, params in solvers.items():
    est = OnlineGaussian(**params, learning_rate="constant", eta0=a)
    path = []
    # The Euclidean solvers' first steps are held to the trust region; the
    # ShrunkStepWarning this gives is recorded, and its count printed below.
    with warnings.catch_warnings(record=True):
        for x in X:
            est.partial_fit([[x]])
            path.append((est.location_[0], est.covariance_[0, 0]))
    paths[name], shrunk[name] = np.array(path), est.n_steps_shrunk_

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
    steps = f"   ({shrunk[name]} steps shrunk)" if shrunk.get(name) else ""
    print(f"{name:34s} mean {path[-1, 0]:+.3f}   variance {path[-1, 1]:.3f}{steps}")

# %%
# Leaving the positive-definite cone
# ----------------------------------
# In directions where the sample says little, one step moves a variance ``v`` to about
# ``v - a / (2 v)``: negative once ``v < sqrt(a / 2)``. From a variance of 0.01 with a = 0.5
# (a reasonable rate for a unit-scale problem), the very first sample near the mean does it:
var, x = 0.01, 0.001
print(f"textbook step from variance {var}: {var + 0.5 * 0.5 * (x**2 / var**2 - 1 / var):.3f}")
est = OnlineGaussian(
    solver="sgd", parametrization="covariance", learning_rate="constant", eta0=0.5, batch_size=1
)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    # Ten rows at +-0.1 (variance 0.01, the exact start), then one near the mean.
    est.partial_fit(np.r_[np.tile([0.1, -0.1], 5), 0.001][:, None])
print(
    f"OnlineGaussian, same step: variance {est.covariance_[0, 0]:.4f}, "
    f"{est.n_steps_shrunk_} step(s) shrunk; warning: {caught[-1].message}"
)

# %%
# A constant step never settles
# -----------------------------
# At a constant rate the estimate keeps fluctuating, with a spread that grows with the rate;
# the ``1 / t`` schedule converges. Spread of the estimated variance over the last 2,000 of
# 20,000 samples (natural gradient):
Y = np.random.default_rng(1).normal(size=(20_000, 1))
for params in (
    dict(learning_rate="constant", eta0=0.002),
    dict(learning_rate="constant", eta0=0.02),
    dict(learning_rate="optimal"),
):
    est, tail = OnlineGaussian(**params, batch_size=1), []
    for i, chunk in enumerate(np.array_split(Y, 200)):
        est.partial_fit(chunk)
        if i >= 180:
            tail.append(est.covariance_[0, 0])
    print(f"{str(params):50s} std of the last estimates: {np.std(tail):.4f}")

# %%
# The symmetric-matrix gradient
# -----------------------------
# For a symmetric ``Sigma`` the gradient in the Frobenius metric is
# ``G = (Sigma^-1 r r' Sigma^-1 - Sigma^-1) / 2``. The Matrix Cookbook's derivative with
# respect to the *free entries* of a symmetric matrix is ``2 G - diag(G)``: used as a step
# it doubles every off-diagonal move.
sigma, r = np.array([[1.0, 0.3], [0.3, 1.0]]), np.array([1.0, -1.0])
inv = np.linalg.inv(sigma)
G = 0.5 * (inv @ np.outer(r, r) @ inv - inv)
print("G (the gradient OnlineGaussian's 'covariance' parametrization uses):\n", G.round(4))
print("2 G - diag(G) (the free-entries derivative):\n", (2 * G - np.diag(np.diag(G))).round(4))
