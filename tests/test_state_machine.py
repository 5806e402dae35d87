"""Random interleavings of every call, valid and invalid, over all configurations.

After every step the estimator is a valid Gaussian; a refused call leaves it
bit for bit as it was; a pickle, or a model file, continues bit for bit like
the original. ``HYPOTHESIS_PROFILE=long`` explores further (see
``test_properties.py``).
"""

import copy
import os
import pickle
import tempfile
import warnings

import numpy as np
from _helpers import assert_valid_gaussian
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from test_robustness import assert_same_state

from sklearn_onlinegauss import OnlineGaussian, load_model, merge, save_model
from sklearn_onlinegauss.exceptions import ShrunkStepWarning

D = 3
CONFIGS = [
    {},
    dict(covariance_type="diag"),
    dict(covariance_type="spherical", learning_rate="constant", eta0=0.2),
    dict(learning_rate="invscaling", eta0=0.5, average=True),
    dict(shrinkage="ledoit-wolf"),
    dict(shrinkage="oas", batch_size=7),
    dict(solver="sgd", parametrization="covariance", learning_rate="constant", eta0=0.05),
    dict(solver="adam", parametrization="precision", covariance_type="diag"),
    dict(solver="adam", average=40),
]
BAD = {
    "nan": lambda X: np.where(np.arange(X.size).reshape(X.shape) == 1, np.nan, X),
    "wide": lambda X: np.hstack([X, X[:, :1]]),
    "huge": lambda X: X * 1e200,
    "empty": lambda X: X[:0],
    "1-d": lambda X: X[:, 0],
}
BAD_PARAMS = [dict(batch_size=10.0), dict(average=0), dict(eta0=-1.0), dict(solver="newton")]


def _batch(seed, n):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, D)) @ np.array([[2, 0, 0], [1, 1, 0], [0, 0.5, 3]]) + 100


class Streams(RuleBasedStateMachine):
    @initialize(config=st.sampled_from(CONFIGS), seed=st.integers(0, 2**16))
    def start(self, config, seed):
        self.est = OnlineGaussian(**config, random_state=0)
        self.seed = seed

    def _data(self, n):
        self.seed += 1
        return _batch(self.seed, n)

    def _call(self, fn, *args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ShrunkStepWarning)
            return fn(*args, **kwargs)

    def _refused(self, fn, *args, **kwargs):
        before = copy.deepcopy(self.est)
        try:
            self._call(fn, *args, **kwargs)
        except (ValueError, TypeError):
            assert_same_state(self.est, before)
            return True
        return False

    @rule(n=st.integers(1, 60), weighted=st.booleans())
    def partial_fit(self, n, weighted):
        X = self._data(n)
        w = np.random.default_rng(self.seed).integers(0, 3, n) if weighted else None
        self._call(self.est.partial_fit, X, sample_weight=w)

    @rule(bad=st.sampled_from(sorted(BAD)))
    def partial_fit_bad(self, bad):
        if hasattr(self.est, "n_features_in_") or bad in ("nan", "huge", "empty", "1-d"):
            assert self._refused(self.est.partial_fit, BAD[bad](self._data(5)))

    @rule(n=st.integers(5, 80), warm=st.booleans())
    def fit(self, n, warm):
        self.est.set_params(warm_start=warm, max_iter=3, tol=None)
        self._call(self.est.fit, self._data(n))

    @rule(change=st.sampled_from(BAD_PARAMS))
    def set_bad_params(self, change):
        valid = self.est.get_params()
        self.est.set_params(**change)
        assert self._refused(self.est.partial_fit, self._data(3))
        self.est.set_params(**valid)

    @precondition(lambda self: hasattr(self.est, "_state"))
    @rule()
    def score(self):
        X = self._data(10)
        assert np.all(np.isfinite(self.est.score_samples(X)))
        assert np.all(self.est.mahalanobis(X) >= 0)

    @precondition(lambda self: hasattr(self.est, "_state"))
    @rule(n=st.integers(1, 30), through=st.sampled_from(["pickle", "model file"]))
    def copies_continue_identically(self, n, through):
        if through == "pickle":
            copy_ = pickle.loads(pickle.dumps(self.est))
        else:
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "m.npz")
                save_model(self.est, path)
                copy_ = load_model(path)
        X = self._data(n)
        self._call(self.est.partial_fit, X)
        self._call(copy_.partial_fit, X)
        assert_same_state(copy_._state, self.est._state)
        np.testing.assert_array_equal(copy_.covariance_, self.est.covariance_)

    @precondition(lambda self: hasattr(self.est, "_state"))
    @rule(n=st.integers(1, 40))
    def merge_with_another_part(self, n):
        other = OnlineGaussian(**self.est.get_params())
        self._call(other.fit if not self.est.warm_start else other.partial_fit, self._data(n))
        merged = self._call(merge, [self.est, other])
        assert merged.n_samples_seen_ == self.est.n_samples_seen_ + other.n_samples_seen_
        assert_valid_gaussian(merged, self._data(5))

    @invariant()
    def a_valid_gaussian(self):
        if hasattr(self.est, "_state"):
            assert_valid_gaussian(self.est, _batch(0, 5))


Streams.TestCase.settings = settings(
    max_examples=int(os.environ.get("STATE_MACHINE_EXAMPLES", 25)),
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
if os.environ.get("HYPOTHESIS_PROFILE") == "long":
    Streams.TestCase.settings = settings(Streams.TestCase.settings, max_examples=500)
TestStreams = Streams.TestCase
