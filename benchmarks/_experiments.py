"""Shared by the tests and benchmarks: problems with a known answer.

Not part of the package: the benchmarks (run as ``python benchmarks/X.py``)
import it as ``_experiments``, the tests (run from the repository root, which
pytest puts on ``sys.path``) as ``benchmarks._experiments``.
"""

import numpy as np
from sklearn.covariance import EmpiricalCovariance

from sklearn_onlinegauss._covariance import kl_divergence

__all__ = ["SOLVER_SETTINGS", "kl_ratios", "random_gaussian"]

#: Every solver, as the benchmarks compare them: name -> OnlineGaussian parameters.
SOLVER_SETTINGS = {
    "natural (default)": {},
    "natural invscaling+avg": dict(
        learning_rate="invscaling", eta0=1.0, power_t=0.6, average=True
    ),
    "riemannian": dict(solver="riemannian"),
    **{f"{s}/cholesky whitened": dict(solver=s, preconditioner="whiten") for s in ("sgd", "adam")},
    **{
        f"{s}/{p}": dict(solver=s, parametrization=p)
        for s in ("sgd", "adam")
        for p in ("cholesky", "precision", "covariance")
    },
}


def random_gaussian(rng, n_features, condition):
    """A random mean (scale 10) and a randomly rotated covariance.

    The covariance's eigenvalues are log-spaced from 1 to ``condition``.

    Returns
    -------
    location : ndarray of shape (n_features,)
    covariance : ndarray of shape (n_features, n_features)
    """
    Q, _ = np.linalg.qr(rng.normal(size=(n_features, n_features)))
    eigenvalues = np.logspace(0, np.log10(condition), n_features)
    return rng.normal(scale=10, size=n_features), (Q * eigenvalues) @ Q.T


def kl_ratios(estimator, n_features, condition, checkpoints, seed, batch_size=100):
    """KL(true || estimate) / KL(true || batch MLE) at each checkpoint of a stream.

    Draws ``checkpoints[-1]`` samples of :func:`random_gaussian` and streams
    them through ``estimator.partial_fit`` in batches; 1.0 is the best
    possible, the batch maximum-likelihood estimate on the same data.
    """
    rng = np.random.default_rng(seed)
    location, covariance = random_gaussian(rng, n_features, condition)
    X = rng.multivariate_normal(location, covariance, size=checkpoints[-1])
    ratios, start = [], 0
    for stop in checkpoints:
        for i in range(start, stop, batch_size):
            estimator.partial_fit(X[i : min(i + batch_size, stop)])
        start = stop
        mle = EmpiricalCovariance().fit(X[:stop])
        ratios.append(
            kl_divergence(location, covariance, estimator.location_, estimator.covariance_)
            / kl_divergence(location, covariance, mle.location_, mle.covariance_)
        )
    return ratios
