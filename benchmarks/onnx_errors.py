"""ONNX of the exported models: float32 error against the float64 estimator, and its bound.

For each model of tests/test_export.py's ONNX cases (iris, streamed in 4 chunks),
prints the largest error of the ONNX graph's probabilities and log-densities and
the largest ratio of an error to its derived bound (docs/export.rst, "Float32
tolerances"). Needs the onnx extra: ``python benchmarks/onnx_errors.py``.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import test_export as T  # noqa: E402  the bounds the tests assert

from sklearn_onlinegauss import OnlineGaussianMixture  # noqa: E402
from sklearn_onlinegauss.export import to_sklearn  # noqa: E402

print(f"{'model':<12} {'proba err':>10} {'/bound':>7} {'log-density err':>16} {'/bound':>7}")
for name, est in T.ONNX_CASES:
    if "binary" in name:
        continue  # skl2onnx's binary LDA probabilities: onnx/sklearn-onnx#1116
    X, y = T._iris()
    mixture = isinstance(est, OnlineGaussianMixture)
    est = T._stream(est, X) if mixture else T._stream(est, X, y, classes=np.unique(y))
    sk = to_sklearn(est)
    out = T._run_onnx(sk, X, {"score_samples": True} if mixture else {"zipmap": False})
    bound, p = T._score_bound(sk, X), est.predict_proba(X)
    mean_bound = (p * bound).sum(axis=1, keepdims=True)
    error = np.abs(out[1] - p)
    ratio = (error / (p * (bound + mean_bound) + 4 * T.U)).max()
    row = f"{name:<12} {error.max():10.1e} {ratio:7.3f}"
    if mixture:
        scores = est.score_samples(X)
        error = np.abs(out[2].ravel() - scores)
        tol = mean_bound[:, 0] + 4 * T.U * np.abs(scores)
        row += f" {error.max():16.1e} {(error / tol).max():7.3f}"
    print(row)
