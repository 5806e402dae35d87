"""
=======================================================
Tracking a drifting distribution with a constant rate
=======================================================

With ``learning_rate='constant'`` the natural-gradient estimate is an exponentially weighted
mean and covariance, with an effective memory of about ``1 / eta0`` samples. A small ``eta0``
averages more noise away but lags behind a change; a large one follows quickly but is noisy.
The default ``'optimal'`` schedule (``1 / t``) remembers everything, which is right for a
stationary stream and wrong for this one.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_onlinegauss import OnlineGaussian

rng = np.random.default_rng(0)
n = 6000
t = np.arange(n)
true_mean = np.where(t < 2000, 0.0, 4.0) + 2 * np.sin(2 * np.pi * t / 3000) * (t >= 4000)
X = (true_mean + rng.normal(size=n))[:, None]

settings = {
    "optimal (1/t)": dict(),
    "constant, eta0=0.003": dict(learning_rate="constant", eta0=0.003),
    "constant, eta0=0.03": dict(learning_rate="constant", eta0=0.03),
    "constant, eta0=0.3": dict(learning_rate="constant", eta0=0.3),
}
estimates = {}
for name, params in settings.items():
    est = OnlineGaussian(**params, batch_size=1)
    path = []
    for chunk in np.array_split(X, 300):  # 300 chunks of 20 samples, one step per sample
        est.partial_fit(chunk)
        path.append(est.location_[0])
    estimates[name] = np.array(path)

# %%
# The memory/noise trade-off: root-mean-square tracking error against ``eta0``.
ends = np.cumsum([len(c) for c in np.array_split(X, 300)])
grid = np.logspace(-3.5, -0.3, 12)
errors = []
for eta0 in grid:
    est = OnlineGaussian(learning_rate="constant", eta0=eta0, batch_size=1)
    path = [est.partial_fit(c).location_[0] for c in np.array_split(X, 300)]
    errors.append(np.sqrt(np.mean((np.array(path) - true_mean[ends - 1]) ** 2)))

# %%
fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [2, 1]})
ax.plot(t, X[:, 0], ",", color="0.7", label="samples")
ax.plot(t, true_mean, "k", linewidth=2, label="true mean")
for name, path in estimates.items():
    ax.plot(ends, path, label=name)
ax.set(xlabel="sample", ylabel="mean", title="estimated mean of a drifting stream")
ax.legend(fontsize=8, loc="upper left")
ax_err.plot(grid, errors, "o-")
ax_err.set(
    xscale="log",
    xlabel="eta0 (memory ~ 1 / eta0 samples)",
    ylabel="RMS error of the mean",
    title="lag (small eta0) against noise (large eta0)",
)
fig.tight_layout()
# sphinx_gallery_start_ignore
if "__file__" in globals():  # run as a script (the gallery defines no __file__): keep the figure
    import os
    import tempfile

    saved = os.path.join(tempfile.gettempdir(), os.path.basename(__file__)[:-3] + ".png")
    plt.gcf().savefig(saved)
    print(f"figure saved to {saved}")
# sphinx_gallery_end_ignore
plt.show()
