"""Assertions shared by several test modules."""

import numpy as np


def assert_valid_gaussian(est, X):
    """Finite, exactly symmetric, positive definite, with finite log-densities on X."""
    cov = est.covariance_
    assert np.all(np.isfinite(cov)) and np.all(np.isfinite(est.location_))
    np.testing.assert_array_equal(cov, cov.T)
    np.linalg.cholesky(cov)
    assert np.all(np.isfinite(est.score_samples(X)))
