"""Array-valued parameters in the key of cached reads.

A read is cached with the hyperparameters it was computed with; parameters
may be arrays (the classifier's ``priors``, the mixture's ``*_init``), and
``set_params`` of one after a read must read afresh when the array differs,
and hit the cache when it is equal.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_onlinegauss import OnlineGaussianClassifier, OnlineGaussianMixture
from sklearn_onlinegauss._streaming import _READS, _same_key

_RNG = np.random.RandomState(0)
X = np.r_[_RNG.randn(60, 2), _RNG.randn(60, 2) + [4.0, 4.0]]
Y = np.repeat([0, 1], 60)


def _classifier(**params):
    return OnlineGaussianClassifier(**params)


def _mixture(**params):
    return OnlineGaussianMixture(2, random_state=0, **params)


# (make, parameter, a value, a different value), one row per array parameter:
# every "array-like" entry of the estimators' _parameter_constraints.
CASES = [
    (_classifier, "priors", np.array([0.5, 0.5]), np.array([0.2, 0.8])),
    (_mixture, "weights_init", np.array([0.5, 0.5]), np.array([0.3, 0.7])),
    (
        _mixture,
        "means_init",
        np.array([[0.0, 0.0], [4.0, 4.0]]),
        np.array([[4.0, 4.0], [0.0, 1.0]]),
    ),
    (
        _mixture,
        "precisions_init",
        np.array([np.eye(2), np.eye(2)]),
        np.array([2 * np.eye(2), 0.5 * np.eye(2)]),
    ),
]
IDS = [f"{make().__class__.__name__}-{name}" for make, name, _, _ in CASES]


def _fit(est):
    return est.fit(X, Y) if isinstance(est, OnlineGaussianClassifier) else est.fit(X)


def _read(est):
    if isinstance(est, OnlineGaussianClassifier):
        return est.predict_proba(X)
    return est.score_samples(X)


def test_every_array_parameter_is_covered():
    covered = {(make().__class__, name) for make, name, _, _ in CASES}
    for cls in (OnlineGaussianClassifier, OnlineGaussianMixture):
        for name, constraints in cls._parameter_constraints.items():
            if "array-like" in constraints:
                assert (cls, name) in covered, (cls.__name__, name)


@pytest.mark.parametrize(("make", "name", "value", "other"), CASES, ids=IDS)
def test_set_params_of_an_array_after_a_read_reads_afresh(make, name, value, other):
    est = _fit(make(**{name: value}))
    _read(est)
    est.set_params(**{name: other})
    got = _read(est)  # the key compared array to array: no ambiguous truth value
    if name == "priors":  # a read's parameter: read as a fresh classifier with it
        assert_allclose(got, _read(_fit(make(**{name: other}))), rtol=1e-12, atol=1e-15)
    # An initialization's parameter matters at the next fit: as a fresh one's.
    assert_allclose(_read(_fit(est)), _read(_fit(make(**{name: other}))), rtol=1e-12, atol=0)


@pytest.mark.parametrize(("make", "name", "value", "other"), CASES, ids=IDS)
def test_an_equal_array_hits_the_cache_and_a_different_one_does_not(make, name, value, other):
    est = _fit(make(**{name: value}))
    before = _read(est)
    cached = _READS[est]["estimate"][1]
    est.set_params(**{name: value.copy()})  # another array, the same values
    assert_allclose(_read(est), before, rtol=0, atol=0)
    assert _READS[est]["estimate"][1] is cached  # the fast path
    est.set_params(**{name: other})
    _read(est)
    assert _READS[est]["estimate"][1] is not cached  # read afresh


def _key(params):
    return ((), (params, tuple(map(type, params))))


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        (np.array([1.0, 2.0]), np.array([1.0, 2.0]), True),
        (np.array([1.0, 2.0]), np.array([1.0, 3.0]), False),
        (np.array([1.0, 2.0]), np.array([1, 2]), False),  # another dtype
        (np.array([1.0, 2.0]), np.array([[1.0, 2.0]]), False),  # another shape
        (np.array([1.0, 2.0]), np.array([1.0, 2.0, 2.0]), False),
        (np.array([]), np.array([]), True),
        ([np.ones(2), 1.0], [np.ones(2), 1.0], True),  # arrays nested in lists
        ([np.ones(2), 1.0], [np.zeros(2), 1.0], False),
        ((np.ones(2), (np.ones(3),)), (np.ones(2), (np.ones(3),)), True),
        ((np.ones(2), (np.ones(3),)), (np.ones(2), (np.zeros(3),)), False),
        ([np.ones(2)], [np.ones(2), np.ones(2)], False),
        ({"a": np.ones(2)}, {"a": np.ones(2)}, True),
        ({"a": np.ones(2)}, {"b": np.ones(2)}, False),
        ("full", "full", True),
        ("full", "diag", False),
        (None, None, True),
    ],
)
def test_same_key_compares_arrays_by_shape_dtype_and_values(old, new, same):
    assert _same_key(_key((old, 1)), _key((new, 1))) is same
    assert _same_key(_key((old, 1)), _key((new, 2))) is False


def test_same_key_compares_the_learned_state_by_identity():
    state = np.ones(2)
    params = ((np.ones(2),), (np.ndarray,))
    assert _same_key(((state,), params), ((state,), params))
    assert not _same_key(((state,), params), ((state.copy(),), params))
    assert not _same_key(((state,), params), ((state, state), params))


def test_priors_as_a_pandas_series_after_a_read():
    pd = pytest.importorskip("pandas")
    est = OnlineGaussianClassifier(priors=pd.Series([0.5, 0.5])).fit(X, Y)
    est.predict_proba(X)
    cached = _READS[est]["estimate"][1]
    est.set_params(priors=pd.Series([0.5, 0.5]))  # == of Series has no truth value
    est.predict_proba(X)
    assert _READS[est]["estimate"][1] is cached
    est.set_params(priors=pd.Series([0.2, 0.8]))
    fresh = OnlineGaussianClassifier(priors=[0.2, 0.8]).fit(X, Y)
    assert_allclose(est.predict_proba(X), fresh.predict_proba(X), rtol=1e-12, atol=1e-15)
