"""
======================================================
Using the fitted Gaussian: novelty detection, sampling
======================================================

A fitted :class:`~sklearn_onlinegauss.OnlineGaussian` is a density: its squared Mahalanobis
distances follow a chi-squared distribution with ``n_features`` degrees of freedom under the
model, which gives a principled novelty threshold. It also samples, and it sits in a
``Pipeline`` behind a scaler like any estimator.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import chi2
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_onlinegauss import OnlineGaussian

rng = np.random.default_rng(0)
cov = np.array([[4.0, 3.0], [3.0, 4.0]])
train = rng.multivariate_normal([10, 20], cov, size=5000)
normal = rng.multivariate_normal([10, 20], cov, size=300)
novel = rng.uniform([0, 10], [20, 30], size=(60, 2))

# %%
# Stream the training data, then flag anything beyond the 99.9% chi-squared quantile.
est = OnlineGaussian()
for chunk in np.array_split(train, 50):
    est.partial_fit(chunk)
threshold = chi2.ppf(0.999, df=2)
for name, X in {"normal": normal, "novel": novel}.items():
    print(f"{name:7s} flagged: {np.mean(est.mahalanobis(X) > threshold):.1%}")

# %%
# The same model in a pipeline with a scaler gives the same decisions: the Mahalanobis
# distance does not depend on the units of the features.
pipe = make_pipeline(StandardScaler(), OnlineGaussian()).fit(train)
scaled_distances = pipe[-1].mahalanobis(pipe[:-1].transform(novel))
print(
    "same flags through the pipeline:",
    np.array_equal(scaled_distances > threshold, est.mahalanobis(novel) > threshold),
)

# %%
fig, ax = plt.subplots(figsize=(6.5, 5.5))
xx, yy = np.meshgrid(np.linspace(0, 20, 200), np.linspace(10, 30, 200))
grid = np.c_[xx.ravel(), yy.ravel()]
contour = ax.contour(
    xx,
    yy,
    est.mahalanobis(grid).reshape(xx.shape),
    levels=[chi2.ppf(q, 2) for q in (0.5, 0.9, 0.999)],
    colors="0.4",
)
ax.clabel(contour, fmt={chi2.ppf(q, 2): f"{q:.1%}" for q in (0.5, 0.9, 0.999)}, fontsize=8)
samples = est.sample(300, random_state=1)
ax.scatter(*samples.T, s=6, color="tab:blue", alpha=0.5, label="sampled from the model")
flag = est.mahalanobis(novel) > threshold
ax.scatter(*normal.T, s=8, color="tab:green", label="new normal points")
ax.scatter(*novel[flag].T, marker="x", color="tab:red", label="novel, flagged")
ax.scatter(*novel[~flag].T, marker="x", color="tab:orange", label="novel, not flagged")
ax.set(
    xlabel="feature 0", ylabel="feature 1", title="Mahalanobis contours (chi-squared quantiles)"
)
ax.legend(fontsize=8, loc="lower right")
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
