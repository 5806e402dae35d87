"""
==================================================
Out-of-core: streaming a large array from disk
==================================================

A ``.npy`` file opened with ``mmap_mode='r'`` is read from disk only as it is sliced, so
``partial_fit`` over its chunks never holds more than one chunk in memory. The default solver's
result is the exact maximum-likelihood estimate of the whole file. (From the command line:
``onlinegauss fit data.npy --output model.npz``.)
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.covariance import EmpiricalCovariance

from sklearn_onlinegauss import OnlineGaussian

rng = np.random.default_rng(0)
scales = np.array([1e-3, 1.0, 1e3])
cov = np.array([[1.0, 0.6, 0.2], [0.6, 1.0, -0.4], [0.2, -0.4, 1.0]]) * np.outer(scales, scales)
path = Path(tempfile.mkdtemp()) / "big.npy"
np.save(path, rng.multivariate_normal([5.0, -1.0, 1e4], cov, size=1_000_000))

# %%
# Stream the file in chunks of 50,000 rows.
data = np.load(path, mmap_mode="r")
est = OnlineGaussian()
rows, std_path = [], []
for start in range(0, len(data), 50_000):
    est.partial_fit(data[start : start + 50_000])
    rows.append(est.n_samples_seen_)
    std_path.append(np.sqrt(np.diag(est.covariance_)) / scales)

# %%
# Exactly the batch estimate (which had to read everything at once):
batch = EmpiricalCovariance().fit(np.load(path))
print(
    "max relative difference of the covariance:",
    np.max(np.abs(est.covariance_ - batch.covariance_) / np.abs(batch.covariance_)),
)

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(rows, std_path, marker=".")
ax.axhline(1, color="black", linewidth=0.8)
ax.set(
    xlabel="rows streamed from disk",
    ylabel="estimated std / true std",
    title="per-feature standard deviations (scales 1e-3, 1, 1e3)",
)
ax.legend(["feature 0", "feature 1", "feature 2"])
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
path.unlink()
