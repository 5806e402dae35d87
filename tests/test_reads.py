"""Reads are computed once per learned state: never stale, never shared with the caller."""

import pickle

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from sklearn_onlinegauss import (
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
)
from sklearn_onlinegauss._streaming import _READS

rng = np.random.default_rng(0)
X = rng.normal(size=(2000, 4)) @ rng.normal(size=(4, 4))
y = (X[:, 0] > 0).astype(int)

ESTIMATORS = {
    "gaussian": (OnlineGaussian, "covariance_", {}),
    "detector": (lambda: OnlineEllipticEnvelope(OnlineGaussian()), "covariance_", {}),
    "classifier": (OnlineGaussianClassifier, "covariances_", {"classes": [0, 1]}),
    "mixture": (OnlineGaussianMixture, "covariances_", {}),
}


def _partial_fit(estimator, rows, extra):
    if isinstance(estimator, OnlineGaussianClassifier):
        return estimator.partial_fit(X[rows], y[rows], **extra)
    return estimator.partial_fit(X[rows])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_read_follows_every_update_and_setting(name):
    cls, attribute, extra = ESTIMATORS[name]
    estimator = _partial_fit(cls(), slice(0, 1200), extra)
    first = getattr(estimator, attribute)
    assert np.array_equal(getattr(estimator, attribute), first)  # the same, from the cache
    assert getattr(estimator, "estimator_", estimator) in _READS
    _partial_fit(estimator, slice(1200, 2000), {})
    second = getattr(estimator, attribute)
    assert not np.array_equal(second, first)
    shrinkage = "estimator__shrinkage" if name == "detector" else "shrinkage"
    estimator.set_params(**{shrinkage: 0.5})
    shrunk = getattr(estimator, attribute)
    assert not np.array_equal(shrunk, second)
    estimator.set_params(**{shrinkage: None})
    np.testing.assert_array_equal(getattr(estimator, attribute), second)


def test_log_densities_follow_every_update_and_setting():
    # The normalizer (log-determinant) is read once per state, with the factor.
    estimator = OnlineGaussian().partial_fit(X[:1200])
    rows = X[:3]

    def scipy_logpdf():
        return multivariate_normal(estimator.location_, estimator.covariance_).logpdf(rows)

    for change in (
        lambda: None,
        lambda: estimator.partial_fit(X[1200:] * 3.0),
        lambda: estimator.set_params(shrinkage=0.5),
        lambda: estimator.set_params(reg_covar=10.0),
    ):
        change()
        np.testing.assert_allclose(estimator.score_samples(rows), scipy_logpdf(), rtol=1e-12)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_read_is_not_in_pickles_and_not_shared_with_the_caller(name):
    cls, attribute, extra = ESTIMATORS[name]
    estimator = _partial_fit(cls(), slice(0, 1200), extra)
    before = pickle.dumps(estimator)
    value = getattr(estimator, attribute)
    assert pickle.dumps(estimator) == before
    value[...] = np.nan  # the caller's copy
    assert np.all(np.isfinite(getattr(estimator, attribute)))
    score = getattr(estimator, "score_samples", getattr(estimator, "predict_proba", None))
    assert np.all(np.isfinite(score(X[:5])))


def test_a_detector_threshold_is_read_once_per_histogram_and_setting():
    detector = OnlineEllipticEnvelope().partial_fit(X[:1200])
    first = detector.offset_
    _ = detector.covariance_  # the density's read, kept beside its own state
    assert set(_READS[detector]) == {"offset"} and "estimate" in _READS[detector.estimator_]
    assert detector.offset_ == first
    assert detector.set_params(contamination=0.01).offset_ < first
    detector.set_params(contamination=0.1).partial_fit(X[1200:])
    assert detector.offset_ != first
