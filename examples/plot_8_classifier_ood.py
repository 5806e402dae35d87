"""
==========================================================
Streaming classification and an unseen class, on digits
==========================================================

:class:`~sklearn_onlinegauss.OnlineGaussianClassifier` keeps one Gaussian per class, updated
from a stream of labelled chunks with ``partial_fit``. With ``covariance='shared'`` it is
linear discriminant analysis, and its squared Mahalanobis distance to the nearest class is the
out-of-distribution score of Lee et al. (2018): a row far from every class it was trained on is
suspect. Here it learns the digits 0 to 8 (after PCA to 20 dimensions) in chunks of 50 rows, and
meets the digit 9, which it has never seen.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from sklearn_onlinegauss import OnlineGaussianClassifier

X, y = load_digits(return_X_y=True)
X = PCA(20, random_state=0).fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
known = y_train != 9

clf = OnlineGaussianClassifier(covariance="shared")
classes = np.arange(9)
for start in range(0, known.sum(), 50):  # a stream of labelled chunks
    rows = slice(start, start + 50)
    clf.partial_fit(X_train[known][rows], y_train[known][rows], classes=classes)

seen = y_test != 9
print(f"accuracy on the digits it knows: {clf.score(X_test[seen], y_test[seen]):.3f}")

# %%
# The out-of-distribution score: minus the squared Mahalanobis distance to the nearest class.
score = clf.ood_score(X_test)
auc = roc_auc_score(seen, score)
print(f"ROC AUC, known digits against the unseen 9: {auc:.3f}")

fig, (ax_hist, ax_roc) = plt.subplots(1, 2, figsize=(10, 4))
bins = np.linspace(np.percentile(-score, 1), np.percentile(-score, 99), 40)
ax_hist.hist(-score[seen], bins=bins, alpha=0.6, density=True, label="digits 0-8 (seen)")
ax_hist.hist(-score[~seen], bins=bins, alpha=0.6, density=True, label="digit 9 (never seen)")
ax_hist.set(xlabel="squared Mahalanobis distance to the nearest class", ylabel="density")
ax_hist.legend()
fpr, tpr, _ = roc_curve(~seen, -score)
ax_roc.plot(fpr, tpr, label=f"Mahalanobis score (AUC {auc:.3f})")
ax_roc.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title="finding the 9s")
ax_roc.legend(loc="lower right")
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
