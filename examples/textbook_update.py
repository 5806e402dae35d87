"""The textbook update ``mu += a grad_mu; Sigma += a grad_Sigma`` next to OnlineGaussian.

Run with ``python examples/textbook_update.py``. On 20,000 samples of N(0, 1)
with a = 0.002, the hand-written update is started from several variances;
then OnlineGaussian's solvers get the same stream one sample at a time.
"""

import warnings

import numpy as np

from sklearn_onlinegauss import OnlineGaussian

A = 0.002
X = np.random.default_rng(0).normal(size=(20_000, 1))


def textbook(start_variance):
    mu, var = 0.0, start_variance
    for k, (x,) in enumerate(X, start=1):
        r = x - mu
        mu, var = mu + A * r / var, var + A * 0.5 * (r * r / var**2 - 1 / var)
        if not var > 0:
            return f"variance {var:.3g} < 0 after {k} samples"
    return f"mu = {mu:+.3f}, variance = {var:.3f}"


print(f"N(0, 1) data, a = {A}, {len(X)} samples one at a time\n")
for start in (0.001, 0.01, 1.0, 100.0):
    label = f"textbook, start variance {start}"
    print(f"{label:58s} {textbook(start)}")
for params in (
    dict(solver="natural"),
    dict(solver="sgd", parametrization="covariance"),
    dict(solver="sgd", parametrization="cholesky"),
    dict(solver="adam", parametrization="cholesky"),
):
    est = OnlineGaussian(**params, learning_rate="constant", eta0=A)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for x in X:
            est.partial_fit(x[None])
    name = "OnlineGaussian(" + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")"
    print(
        f"{name:58s} mu = {est.location_[0]:+.3f}, variance = {est.covariance_[0, 0]:.3f}"
        f"  ({est.n_steps_shrunk_} steps shrunk)"
    )
