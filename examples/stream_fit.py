"""Stream a correlated Gaussian through ``partial_fit`` and compare with the batch estimate.

Run with ``python examples/stream_fit.py``. It draws 200,000 samples of a 5-D
Gaussian whose features differ in scale by eight orders of magnitude, streams
them in chunks of 1,000, and prints how far each solver ends from the batch
maximum-likelihood estimate (``EmpiricalCovariance`` on all the data), as the
KL divergence from the true distribution.
"""

import warnings

import numpy as np
from sklearn.covariance import EmpiricalCovariance

from sklearn_onlinegauss import OnlineGaussian
from sklearn_onlinegauss._covariance import kl_divergence

rng = np.random.default_rng(0)
scales = np.logspace(-4, 4, 5)
A = rng.normal(size=(5, 5))
true_cov = (A @ A.T + np.eye(5)) * np.outer(scales, scales)
true_mean = 1000.0 + rng.normal(size=5) * scales
X = rng.multivariate_normal(true_mean, true_cov, size=200_000)


def stream(estimator, chunk=1_000):
    for start in range(0, len(X), chunk):
        estimator.partial_fit(X[start : start + chunk])
    return estimator


batch = EmpiricalCovariance().fit(X)
batch_kl = kl_divergence(true_mean, true_cov, batch.location_, batch.covariance_)
print(f"{'estimator':32s} {'KL(true || estimate)':>22s}")
print(f"{'EmpiricalCovariance (batch)':32s} {batch_kl:22.3e}")
for name, params in {
    "natural gradient, 1/t (default)": {},
    "natural gradient, constant 1e-3": dict(learning_rate="constant", eta0=1e-3),
    "Adam, log-Cholesky, 1/t": dict(solver="adam"),
}.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = stream(OnlineGaussian(**params))
    kl = kl_divergence(true_mean, true_cov, est.location_, est.covariance_)
    print(f"{name:32s} {kl:22.3e}")
