"""
===================================================
An online Gaussian mixture on a stream of 2-D rows
===================================================

:class:`~sklearn_onlinegauss.OnlineGaussianMixture` learns a Gaussian mixture from chunks of a
stream: each mini-batch takes an E-step under the current mixture and then every component
takes the library's natural-gradient step with the responsibilities as row weights. That is
online EM (Cappé & Moulines, 2009), natural-gradient ascent on the mixture's log-likelihood.
Here 40,000 rows from four Gaussians arrive in chunks of 100; the mixture warms up on the first
1,000 rows (batch EM), then learns online, and its held-out log-likelihood is compared with
:class:`~sklearn.mixture.GaussianMixture` fitted by batch EM on all the rows at once.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse
from sklearn.mixture import GaussianMixture

from sklearn_onlinegauss import OnlineGaussianMixture

rng = np.random.default_rng(0)
means = np.array([[-4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [1.0, -3.0]])
scales = [np.array([[1.0, 0.6], [0.0, 0.5]]), np.eye(2) * 0.8, np.array([[0.5, 0.0], [0.7, 1.2]])]
scales.append(np.array([[1.2, -0.5], [0.0, 0.4]]))
weights = np.array([0.35, 0.25, 0.25, 0.15])


def draw(n):
    y = rng.choice(4, size=n, p=weights)
    return means[y] + np.einsum("nij,nj->ni", np.array(scales)[y], rng.normal(size=(n, 2)))


X, X_test = draw(40_000), draw(5_000)
batch = GaussianMixture(4, random_state=0).fit(X)

model = OnlineGaussianMixture(4, random_state=0)
seen, held_out, snapshots = [], [], {}
for start in range(0, len(X), 100):
    model.partial_fit(X[start : start + 100])
    rows = start + 100
    if rows % 500 == 0:
        seen.append(rows)
        held_out.append(model.score(X_test))
    if rows in (1_000, 40_000):
        snapshots[rows] = (model.means_, model.covariances_)

print(
    f"held-out mean log-likelihood: online {model.score(X_test):.4f}, "
    f"batch EM {batch.score(X_test):.4f}"
)
print("weights, online:  ", np.round(np.sort(model.weights_), 3))
print("weights, batch EM:", np.round(np.sort(batch.weights_), 3))

# %%
# The components after the warm-up and at the end of the stream (two standard deviations),
# over a sample of the rows; and the held-out log-likelihood as the rows arrive.


def ellipse(mean, covariance, **style):
    values, vectors = np.linalg.eigh(covariance)
    angle = np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1]))
    width, height = 4 * np.sqrt(values[::-1])
    return Ellipse(mean, width, height, angle=angle, fill=False, **style)


fig, (ax_data, ax_curve) = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
ax_data.scatter(*X[:3000].T, s=2, color="grey", alpha=0.4)
for rows, style in (
    (1_000, {"linestyle": "--", "color": "tab:orange"}),
    (40_000, {"linewidth": 2, "color": "tab:blue"}),
):
    for mean, covariance in zip(*snapshots[rows], strict=True):
        ax_data.add_patch(ellipse(mean, covariance, **style))
    ax_data.plot([], [], label=f"after {rows:,} rows", **style)
ax_data.set(title="components of the online mixture", aspect="equal")
ax_data.legend(loc="upper right")

ax_curve.plot(seen, held_out, label="OnlineGaussianMixture.partial_fit")
ax_curve.axhline(
    batch.score(X_test), color="k", linestyle=":", label="GaussianMixture (batch EM, all rows)"
)
ax_curve.set(
    xlabel="rows seen",
    ylabel="held-out mean log-likelihood",
    title="held-out score as the rows arrive",
    xscale="log",
    ylim=(batch.score(X_test) - 0.1, batch.score(X_test) + 0.02),
)
ax_curve.legend(loc="lower right")
# sphinx_gallery_start_ignore
if "__file__" in globals():  # run as a script (the gallery defines no __file__): keep the figure
    import os
    import tempfile

    saved = os.path.join(tempfile.gettempdir(), os.path.basename(__file__)[:-3] + ".png")
    plt.gcf().savefig(saved)
    print(f"figure saved to {saved}")
# sphinx_gallery_end_ignore
plt.show()
