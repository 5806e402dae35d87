"""
=========================================================
Streaming outlier detection with a threshold it learns
=========================================================

:class:`~sklearn_onlinegauss.OnlineEllipticEnvelope` scores rows by their squared Mahalanobis
distance under an online Gaussian, and learns its threshold ``offset_`` from the stream itself:
about ``contamination`` of the rows seen are flagged, whatever their distribution. A
chi-squared threshold assumes Gaussian rows; the benign tumours of ``breast_cancer`` are not,
and at 2.5% it flags far more than 2.5% of them.

First the detector learns the benign tumours in chunks and scores both classes; then a stream
drawn from them drifts (halfway through, every feature spreads twice as far about its mean), and
a detector with ``learning_rate='constant'`` recovers its rate of flags while one that keeps the
whole stream does not.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import chi2
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

from sklearn_onlinegauss import OnlineEllipticEnvelope, OnlineGaussian

X, y = load_breast_cancer(return_X_y=True)
benign = X[y == 1]
rng = np.random.default_rng(0)

detector = OnlineEllipticEnvelope(contamination=0.025)
for chunk in np.array_split(rng.permutation(benign), 6):
    detector.partial_fit(chunk)

distances = detector.mahalanobis(X)
flagged = np.mean(detector.predict(benign) == -1)
chi2_flagged = np.mean(distances[y == 1] > chi2.ppf(0.975, X.shape[1]))
print(f"benign tumours flagged: {flagged:.1%} (chi-squared 97.5% threshold: {chi2_flagged:.1%})")
print(f"ROC AUC, benign against malignant: {roc_auc_score(y, detector.score_samples(X)):.3f}")
print(f"malignant tumours flagged: {np.mean(detector.predict(X[y == 0]) == -1):.1%}")

# %%
# A drifting stream: benign tumours drawn with replacement, with a little noise; after 10,000
# rows every feature spreads twice as far about its mean. Each chunk is scored before it is
# learned.
stream = benign[rng.integers(0, len(benign), 20_000)]
stream = stream * (1 + 0.02 * rng.normal(size=stream.shape))
centre = benign.mean(axis=0)
stream[10_000:] = centre + 2.0 * (stream[10_000:] - centre)
detectors = {
    "learning_rate='optimal' (all the stream)": OnlineEllipticEnvelope(contamination=0.025),
    "learning_rate='constant', eta0=0.002": OnlineEllipticEnvelope(
        OnlineGaussian(learning_rate="constant", eta0=0.002), contamination=0.025
    ),
}
rates = {name: [] for name in detectors}
for start in range(0, len(stream), 200):
    chunk = stream[start : start + 200]
    for name, det in detectors.items():
        if start >= 1000:  # after a first 1,000 rows
            rates[name].append(np.mean(det.predict(chunk) == -1))
        det.partial_fit(chunk)

fig, (ax_hist, ax_drift) = plt.subplots(1, 2, figsize=(11, 4))
bins = np.logspace(np.log10(distances.min()), np.log10(distances.max()), 50)
ax_hist.hist(distances[y == 1], bins=bins, alpha=0.6, label="benign (learned)")
ax_hist.hist(distances[y == 0], bins=bins, alpha=0.6, label="malignant (never seen)")
ax_hist.axvline(-detector.offset_, color="k", label="learned threshold (2.5%)")
ax_hist.axvline(chi2.ppf(0.975, X.shape[1]), color="k", linestyle=":", label="chi-squared 97.5%")
ax_hist.set(xscale="log", xlabel="squared Mahalanobis distance", ylabel="tumours")
ax_hist.legend(fontsize=8)
rows = 1000 + np.arange(len(rates[next(iter(rates))])) * 200
for name, values in rates.items():
    ax_drift.plot(rows, values, label=name)
ax_drift.axhline(0.025, color="k", linestyle=":", linewidth=0.8)
ax_drift.axvline(10_000, color="grey", linewidth=0.8)
ax_drift.set(xlabel="rows seen", ylabel="fraction of each chunk of 200 flagged", ylim=(0, 0.5))
ax_drift.legend(fontsize=8)
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

for name, values in rates.items():
    print(f"{name}: {np.mean(values[-10:]):.1%} of the last 2,000 rows flagged")
