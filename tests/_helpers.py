"""Assertions shared by several test modules."""

import numpy as np


def assert_valid_gaussian(est, X):
    """Finite, exactly symmetric, positive definite, with finite log-densities on X."""
    cov = est.covariance_
    assert np.all(np.isfinite(cov)) and np.all(np.isfinite(est.location_))
    np.testing.assert_array_equal(cov, cov.T)
    np.linalg.cholesky(cov)
    assert np.all(np.isfinite(est.score_samples(X)))


def assert_covariances_close(actual, desired, rtol):
    """Covariances (any stacked shape, or variances) equal to ``rtol`` in their own units.

    Rounding in entry ``ij`` scales with ``sqrt(Sigma_ii Sigma_jj)``, not with
    the entry, which may be nearly 0 by cancellation: each difference is
    measured in those units (the correlation scale). Variances are compared
    relatively.
    """
    actual, desired = np.asarray(actual), np.asarray(desired)
    if desired.ndim >= 2 and desired.shape[-1] == desired.shape[-2]:
        sd = np.sqrt(np.abs(np.diagonal(desired, axis1=-2, axis2=-1)))
        scale = sd[..., :, None] * sd[..., None, :]
    else:
        scale = np.abs(desired)
    np.testing.assert_array_less(np.abs(actual - desired), rtol * scale + 1e-300)
