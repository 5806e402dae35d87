"""Property-based tests: invariants over random shapes, scales, chunkings and weights.

The default profile keeps the run to a few seconds; ``HYPOTHESIS_PROFILE=long
python -m pytest tests/test_properties.py`` explores much further.
"""

import os
import warnings

import numpy as np
from _helpers import assert_valid_gaussian
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_onlinegauss import OnlineGaussian
from sklearn_onlinegauss.exceptions import ShrunkStepWarning

settings.register_profile(
    "default", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

SOLVERS = [
    {},
    dict(learning_rate="constant", eta0=0.1, average=True),
    dict(solver="sgd", parametrization="covariance", learning_rate="constant", eta0=0.5),
    dict(solver="sgd", parametrization="precision"),
    dict(solver="adam", parametrization="cholesky", learning_rate="constant", eta0=0.3),
    dict(covariance_type="diag"),
    dict(covariance_type="spherical", solver="adam"),
]


@st.composite
def streams(draw):
    """A data set with features of wildly different scales, and a chunking of it."""
    n = draw(st.integers(1, 200))
    d = draw(st.integers(1, 20))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    log_scales = draw(st.lists(st.floats(-6, 6), min_size=d, max_size=d))
    scales = 10.0 ** np.array(log_scales)
    offsets = scales * draw(st.floats(-1e3, 1e3))
    X = offsets + scales * (rng.normal(size=(n, d)) @ rng.normal(size=(d, d)))
    cuts = sorted(draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=6, unique=True)))
    chunks = [c for c in np.split(np.arange(n), [c for c in cuts if c < n]) if len(c)]
    weights = rng.integers(0, 4, n).astype(float)
    return X, chunks, weights


def assert_same_gaussian(a, b, X):
    """Equal to rounding, measured in each feature's own units."""
    sigma = np.sqrt(np.diag(b.covariance_))
    # Pooling rounds the mean to eps relative to its own size: in units of
    # sigma that is eps * |mu| / sigma per update.
    tol = 1e-9 * (1 + np.max(np.abs(b.location_) / sigma))
    np.testing.assert_allclose(
        a.covariance_ / np.outer(sigma, sigma), b.covariance_ / np.outer(sigma, sigma), atol=tol
    )
    np.testing.assert_allclose(a.location_ / sigma, b.location_ / sigma, atol=tol, rtol=0)


@given(stream=streams(), params=st.sampled_from(SOLVERS), batch_size=st.integers(1, 50))
def test_every_call_leaves_a_valid_gaussian(stream, params, batch_size):
    X, chunks, weights = stream
    est = OnlineGaussian(**params, batch_size=batch_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShrunkStepWarning)
        for rows in chunks:
            est.partial_fit(X[rows], sample_weight=weights[rows])
            if hasattr(est, "t_"):
                assert_valid_gaussian(est, X)


@given(stream=streams())
def test_default_result_does_not_depend_on_the_chunking(stream):
    X, chunks, _ = stream
    whole = OnlineGaussian().partial_fit(X)
    chunked = OnlineGaussian()
    for rows in chunks:
        chunked.partial_fit(X[rows])
    assert chunked.n_samples_seen_ == whole.n_samples_seen_ == len(X)
    assert_same_gaussian(chunked, whole, X)


@given(stream=streams())
def test_default_integer_weights_equal_repeated_rows(stream):
    X, chunks, weights = stream
    if not weights.any():
        weights[0] = 1.0
    weighted = OnlineGaussian()
    for rows in chunks:
        weighted.partial_fit(X[rows], sample_weight=weights[rows])
    repeated = OnlineGaussian().partial_fit(np.repeat(X, weights.astype(int), axis=0))
    assert weighted.t_ == repeated.t_ == weights.sum()
    assert_same_gaussian(weighted, repeated, X)
