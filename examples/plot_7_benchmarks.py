"""
===============================================
Benchmarks: throughput against batch estimators
===============================================

Measured when this page was built, on the machine that built it (described on the first line
of output), with the functions of ``benchmarks/run.py`` (which has the full set: ``python
benchmarks/run.py``). Every figure is a ratio to a baseline timed in the same run, since
absolute times on a shared machine are noise: above 1 means ``partial_fit`` streaming the data
in mini-batches, or ``fit`` on the whole array, was faster.
"""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# sphinx-gallery runs each example from its own folder, without __file__.
here = Path(globals().get("__file__", "plot_7_benchmarks.py")).resolve().parent
sys.path.insert(0, str(here.parent / "benchmarks"))
from run import (  # noqa: E402
    best_times,
    fit_empirical,
    fit_online,
    gram,
    machine,
    one_row_stream,
    stream_fresh,
)

print(machine())

# %%
# Mini-batch ``partial_fit`` (default solver) on chunks of ``b`` rows, and ``fit`` on the whole
# array, against ``EmpiricalCovariance().fit`` and the ``X.T @ X`` limit on the same array,
# best of three runs taken in turns.
rows = []
for d in (10, 100, 300):
    X = np.random.default_rng(0).normal(size=(2_000_000 // d, d))
    t = best_times(
        3,
        gram=(gram, X),
        emp=(fit_empirical, X),
        b100=(stream_fresh, X, 100),
        b1000=(stream_fresh, X, 1000),
        fit=(fit_online, X),
    )
    for name, label in (("b100", "b=100"), ("b1000", "b=1000"), ("fit", "fit(X)")):
        ratios = t["emp"] / t[name], t["gram"] / t[name]
        rows.append((d, label, *ratios))
        print(
            f"d={d:4d} {label:>7}: {ratios[0]:5.2f}x EmpiricalCovariance.fit, "
            f"{ratios[1]:5.2f}x of X.T @ X"
        )

# %%
# One-row ``partial_fit`` calls, the streaming case, in rows per second.
one_row = {}
for d in (10, 50):
    X = np.random.default_rng(0).normal(size=(2000, d))
    one_row[d] = len(X) / best_times(3, row=(one_row_stream, X, {}))["row"]
    print(f"d={d}: {one_row[d]:,.0f} rows/s")

# %%
labels = [f"d={d}\n{label}" for d, label, _, _ in rows]
x = np.arange(len(rows))
fig, (ax, ax_row) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [3, 1]})
ax.bar(x - 0.2, [r[2] for r in rows], 0.4, label="vs EmpiricalCovariance().fit")
ax.bar(x + 0.2, [r[3] for r in rows], 0.4, label="vs X.T @ X (the compute limit)")
ax.axhline(1, color="black", linewidth=0.8)
ax.set(
    xticks=x,
    xticklabels=labels,
    ylabel="throughput ratio (higher: ours faster)",
    title="partial_fit on chunks of b rows, and fit(X); default solver",
)
ax.legend()
ax_row.bar([str(d) for d in one_row], list(one_row.values()), color="tab:green")
ax_row.set(xlabel="n_features", ylabel="rows per second", title="one-row partial_fit")
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
