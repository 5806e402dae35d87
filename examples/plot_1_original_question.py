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
from sklearn_onlinegauss.cli import demo

# %%
# The textbook update
# -------------------
# The gradients of the log-likelihood of one sample, for a 1-D Gaussian:
# ``d/dmu = r / var`` and ``d/dvar = (r**2 / var**2 - 1 / var) / 2`` with ``r = x - mu``.
# In code, from a start ``(mu, var) = (0, v)``, for each sample ``x``::
#
#     r = x - mu
#     mu, var = mu + a * r / var, var + a * 0.5 * (r**2 / var**2 - 1 / var)

# %%
# Against the library, same rate, same stream
# -------------------------------------------
# ``onlinegauss demo`` runs this update from variances 0.001, 1 and 100 (its
# ``textbook_path`` is the update above) next to :class:`~sklearn_onlinegauss.OnlineGaussian`
# fed the same 5,000 samples one at a time: the default (the natural gradient with the ``1 / t``
# step, which is the running maximum-likelihood estimate), the natural gradient at the
# question's constant rate (a tracker, for drifting streams), and the Euclidean solvers at that
# rate. Then a correlated 5-D stream whose features span six orders of magnitude.
paths, seen, kl = demo.experiments()

# %%
# Trajectories
# ------------
# Every curve starts at its first value (circled): the textbook update at its start, the
# library after its first sample (one sample has no spread: the variance is ``reg_covar``'s
# fill-in, 1e-6). From a variance of 100 the textbook update has hardly moved after 5,000
# samples (the curvature in the variance is ~ 1 / var**2, so reaching 1 takes ~ 100**2 / a =
# 5e6 samples); from 0.001 its first step overshoots to ~14, where it is stuck again. The
# default is the MLE from the first sample. The constant-rate tracker remembers ~1 / a = 500
# samples, so from its start it climbs for about that long, and then fluctuates around 1
# without settling. The Euclidean solvers take the exact estimate for their first 10 samples,
# then steps held to a trust region: the lower left panel tells them apart.
demo.make_figure(paths, seen, kl, figure=plt.figure(figsize=(13, 10.5), layout="constrained"))
# sphinx_gallery_start_ignore
if "__file__" in globals():  # run as a script (the gallery defines no __file__): keep the figure
    import os
    import tempfile

    saved = os.path.join(tempfile.gettempdir(), os.path.basename(__file__)[:-3] + ".png")
    plt.gcf().savefig(saved)
    print(f"figure saved to {saved}")
# sphinx_gallery_end_ignore
plt.show()

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
