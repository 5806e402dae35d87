"""
===============================================================
Choosing a forgetting rate on a drifting stream (prequential)
===============================================================

On a stream whose distribution drifts, the question is not "which setting fits the data" but
"which setting, learning as it goes, best predicts the rows that come next". The prequential
score answers it: each chunk is scored by the model of every row before it, then learned
(predict, then learn). :class:`~sklearn_onlinegauss.model_selection.PrequentialSplit` and
:func:`~sklearn_onlinegauss.model_selection.make_prequential_scorer` give that score to
:class:`~sklearn.model_selection.GridSearchCV`.

The stream here walks: its mean takes a Gaussian step of variance ``q`` at each row, about
unit noise (the local-level model). For it the best constant rate of the log score is known
(:ref:`theory-forgetting`): about ``sqrt(2 q / (d + 3))``, below the Kalman gain ``sqrt(q)``
that is best for the mean alone.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV

from sklearn_onlinegauss import OnlineGaussian
from sklearn_onlinegauss.model_selection import (
    PrequentialSplit,
    make_prequential_scorer,
    prequential_score,
)

rng = np.random.default_rng(0)
n, d, q = 5000, 2, 1e-3
true_mean = np.cumsum(rng.normal(0.0, np.sqrt(q), (n, d)), axis=0)
X = true_mean + rng.standard_normal((n, d))

# %%
# The search. ``fit`` must learn the rows before each fold as the stream does, one pass in
# order (``shuffle=False, max_iter=1, tol=None``); the scorer then continues a copy over the
# fold, 25 rows at a time, scoring each chunk before learning it.
tracker = OnlineGaussian(learning_rate="constant", shuffle=False, max_iter=1, tol=None)
grid = np.geomspace(1e-3, 0.3, 11)
search = GridSearchCV(
    tracker,
    {"eta0": grid},
    scoring=make_prequential_scorer(chunk_size=25),
    cv=PrequentialSplit(n_splits=3, warm_up=200),
).fit(X)

kalman = (np.sqrt(q**2 + 4 * q) - q) / 2
theory = np.sqrt(2 * q / (d + 3))
print(
    f"chosen eta0: {search.best_params_['eta0']:.4f} (memory about "
    f"{1 / search.best_params_['eta0']:.0f} rows)"
)
print(f"theory's best rate: {theory:.4f}; the Kalman gain (the mean alone): {kalman:.4f}")

# The default 1/t schedule remembers every row: the exact MLE of the past, wrong here.
remember_all = prequential_score(OnlineGaussian(), X, chunk_size=25, warm_up=200)
print(
    f"prequential log-likelihood: chosen {search.best_score_:.3f}, "
    f"1/t (remember all) {remember_all:.3f}"
)

# %%
# The score against the rate: too small a rate lags behind the walk, too large a one follows
# the noise. The right panel tracks the first coordinate's mean with the chosen rate and with
# a ten times longer memory.
mean_score = search.cv_results_["mean_test_score"]
spread = search.cv_results_["std_test_score"]
chosen = search.best_params_["eta0"]

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
left.errorbar(grid, mean_score, yerr=spread, marker="o", capsize=3, label="prequential score")
left.axvline(chosen, color="C1", linestyle="--", label=f"chosen {chosen:.3g}")
left.axvline(theory, color="C2", linestyle=":", label=f"theory {theory:.3g}")
left.axvline(kalman, color="C3", linestyle="-.", label=f"Kalman gain {kalman:.3g}")
left.set_xscale("log")
left.set_xlabel("eta0 (learning_rate='constant')")
left.set_ylabel("mean log-likelihood of the next chunk")
left.set_title("Prequential score by forgetting rate")
left.legend(fontsize="small")

rows, ends = np.arange(n), np.arange(25, n + 1, 25)
right.plot(rows, X[:, 0], ",", color="0.7", label="rows")
right.plot(rows, true_mean[:, 0], color="k", label="true mean")
for eta0, color in [(chosen, "C1"), (chosen / 10, "C0")]:
    est = OnlineGaussian(learning_rate="constant", eta0=eta0)
    path = [est.partial_fit(X[end - 25 : end]).location_[0] for end in ends]
    right.plot(ends - 1, path, color=color, label=f"eta0 = {eta0:.3g}")
right.set_xlabel("row")
right.set_title("First coordinate: tracked mean")
right.legend(fontsize="small", loc="upper left")
# sphinx_gallery_start_ignore
if "__file__" in globals():  # run as a script (the gallery defines no __file__): keep the figure
    import os
    import tempfile

    saved = os.path.join(tempfile.gettempdir(), os.path.basename(__file__)[:-3] + ".png")
    plt.gcf().savefig(saved)
    print(f"figure saved to {saved}")
# sphinx_gallery_end_ignore
plt.show()
