"""
==========================================
Choosing a learning rate with GridSearchCV
==========================================

:meth:`~sklearn_onlinegauss.OnlineGaussian.score` is the mean log-likelihood, so
:class:`~sklearn.model_selection.GridSearchCV` picks the settings whose Gaussian best explains
held-out data. Here the natural-gradient solver's constant and decaying schedules are searched
over ``eta0``; the default ``1 / t`` schedule, which needs no tuning, is the reference. Each row
takes its own rate and the estimate starts at the first row, so every ``eta0`` gives a
different estimate, even on small data. Too small a constant rate has not moved far from that
first row after the 2,000 training rows (it weighs the start like ``1 / eta0`` rows); too large
a one remembers only the last few rows; in between it comes close to the exact estimate on this
stationary stream, and a drifting stream
(:ref:`sphx_glr_auto_examples_plot_4_drift_tracking.py`) is where forgetting pays.
``'invscaling'`` with ``eta0`` near 1 forgets ever more slowly, like ``1 / t``.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, cross_val_score

from sklearn_onlinegauss import OnlineGaussian

rng = np.random.default_rng(0)
A = rng.normal(size=(4, 4))
X = rng.multivariate_normal(np.zeros(4), A @ A.T + 0.5 * np.eye(4), size=3000)

eta0 = np.logspace(-4, -0.5, 8)
search = GridSearchCV(
    OnlineGaussian(max_iter=1, tol=None),
    {"learning_rate": ["constant", "invscaling"], "eta0": eta0},
    cv=3,
)
search.fit(X)
reference = cross_val_score(OnlineGaussian(), X, cv=3).mean()

# %%
results = search.cv_results_
fig, ax = plt.subplots(figsize=(7, 4.2))
for schedule in ("constant", "invscaling"):
    mask = results["param_learning_rate"] == schedule
    ax.errorbar(
        eta0,
        results["mean_test_score"][mask],
        yerr=results["std_test_score"][mask],
        marker="o",
        capsize=3,
        label=f"learning_rate='{schedule}'",
    )
ax.axhline(reference, color="black", linestyle="--", label="learning_rate='optimal' (default)")
ax.set(
    xscale="log",
    xlabel="eta0",
    ylabel="held-out mean log-likelihood",
    title="GridSearchCV over the learning rate (natural gradient, one pass)",
)
ax.set_ylim(reference - 3, reference + 0.5)
ax.legend()
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

best = search.best_params_
print(
    f"best: learning_rate={best['learning_rate']!r}, eta0={best['eta0']:.3g}, "
    f"score {search.best_score_:.4f}"
)
print(f"natural gradient, no tuning: {reference:.4f}")
