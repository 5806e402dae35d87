"""Random interleavings of every call, valid and hostile, for every estimator of the family.

One machine (:class:`Streams`) drives an estimator through ``fit``,
``partial_fit``, ``set_params``, its reads, ``merge``, model files and
pickles, with hostile rows among the valid ones: far but finite rows (1e149;
refused, as documented, only by Ledoit-Wolf's fourth powers), streams of
scale 1e-5 to 1e100 and of scale 1e-150 (whose spread float64 cannot square:
refused where it is read, as documented), constant and
duplicated rows, zero weights, and for the classifier classes never seen or
of weight zero. A small adapter per estimator (:class:`Kind`) says how to
call it, what it reads and what a valid state of it is. After every step:

- the state is valid: every covariance the estimator holds (through its
  structure's ``to_full``) finite, exactly symmetric and positive definite,
  weights on the simplex, counts non-negative;
- every read is finite for rows of the stream; for a far row, NaN-free
  (log-densities may be ``-inf`` there, distances ``+inf``, as documented);
- a refused call (NaN, a wrong width, 1e200, an invalid or structural
  setting) leaves the estimator bit for bit as it was;
- ``merge`` leaves its parts untouched; a pickle, or a model file, continues
  bit for bit like the original;
- beside the stream, fresh copies of the settings check two promises: weights
  scaled by a constant read the same (under the running MLE), and rows equal
  to within their own rounding get the fill-in of identical rows.

``HYPOTHESIS_PROFILE=long`` explores further (see ``test_properties.py``);
``STATE_MACHINE_EXAMPLES`` sets the examples per estimator.
"""

import copy
import os
import pickle
import tempfile
import warnings

import numpy as np
import pytest
from _helpers import assert_valid_gaussian
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sklearn.base import clone
from test_robustness import assert_same_state

from sklearn_onlinegauss import (
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
    load_model,
    merge,
    save_model,
)

D = 3
MIXING = np.array([[2, 0, 0], [1, 1, 0], [0, 0.5, 3]])
FAR = 1e149  # finite, below the 1e150 that float64 cannot square: accepted
HUGE = 1e200  # beyond it: refused
#: Scales of a stream. Below 1e-145 float64 cannot square a feature's spread:
#: the estimate is refused where it is read (the user guide's "Failure modes").
SCALES = (1.0, 1e-5, 1e100, 1e-140, 1e-150)
UNSQUARABLE = "cannot square"
#: Ledoit-Wolf's sums hold fourth powers: a row about 1e77 from the first is refused.
FOURTH_POWERS = "fourth powers"


def _finite(a, what):
    a = np.asarray(a, dtype=float)
    assert np.all(np.isfinite(a)), f"{what} is not finite: {a}"


def _no_nan(a, what):
    a = np.asarray(a, dtype=float)
    assert not np.any(np.isnan(a)), f"{what} has NaN: {a}"


def _probabilities(p, what):
    _finite(p, what)
    assert np.all(p >= 0) and np.all(p <= 1), what
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-9, err_msg=what)


def _true(a, what):
    assert np.all(a), what


def _simplex(w, what):
    _finite(w, what)
    assert np.all(w >= 0), what
    np.testing.assert_allclose(w.sum(), 1.0, rtol=1e-12, err_msg=what)


def assert_finite_state(value, path="state"):
    """Every number a learned state holds (arrays, named tuples, floats) finite."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            assert np.all(np.isfinite(value)), f"{path} is not finite: {value}"
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_finite_state(item, f"{path}.{key}")
    elif isinstance(value, tuple | list):
        names = getattr(value, "_fields", None)
        for i, item in enumerate(value):
            assert_finite_state(item, f"{path}.{names[i]}" if names else f"{path}[{i}]")
    elif isinstance(value, float):
        assert np.isfinite(value), f"{path} is {value}"


def assert_valid_gaussians(structure, state, which=None):
    """The structure's Gaussians (the components ``which``): finite, symmetric, PD."""
    covariances = np.asarray(structure.to_full(state))
    locations = state.locations
    which = np.arange(len(covariances)) if which is None else np.flatnonzero(which)
    for k in which:
        _finite(locations[k], f"mean {k}")
        _finite(covariances[k], f"covariance {k}")
        np.testing.assert_array_equal(covariances[k], covariances[k].T)
        np.linalg.cholesky(covariances[k])


def _reads(est, reads, X, far):
    """Every read on the stream's rows ``X`` finite; on ``far`` rows NaN-free."""
    for name, read, check in reads:
        check(read(X), f"{name} of the stream's rows")
        check_far = _probabilities if check is _probabilities else _no_nan
        check_far(read(far), f"{name} of a far row")


class Kind:
    """How the machine calls one estimator; the defaults suit the unsupervised ones."""

    cls = None
    configs = [{}]
    #: Settings the next call must refuse (see :meth:`bad_params_for`).
    bad_params = []
    #: ``(name, values)``: settings every call must accept.
    good_params = []

    def make(self, config):
        return self.cls(**config)

    def rows(self, rng, n, scale):
        """``(X, y)``: ``n`` rows of the stream."""
        X = rng.normal(size=(n, D)) @ MIXING + 100
        return X * scale, None

    def partial_fit(self, est, X, y, w, **kw):
        return est.partial_fit(X, sample_weight=w)

    def fit(self, est, X, y, w):
        return est.fit(X, sample_weight=w)

    def prepare_fit(self, est, warm):
        """Settings set before a ``fit`` (a short one)."""

    def other_part(self, est, X, y):
        other = type(est)(**est.get_params(deep=False))
        return self.partial_fit(other, X, y, None)

    def fitted(self, est):
        return est.__sklearn_is_fitted__()

    def covariances(self, est):
        """The Gaussians' covariances as read, ``(K, d, d)`` through the structure."""
        density = getattr(est, "estimator_", est)
        return np.asarray(density._structure().to_full(density._fitted()[0]))

    def learned(self, est):
        """What a copy must continue bit for bit: the fitted attributes."""
        return {n: vars(est)[n] for n in type(est)._fitted_names if n in vars(est)}

    def relative_weights(self, est):
        """Whether the settings make weights relative: the running MLE, not a memory in rows."""
        return (
            getattr(est, "learning_rate", "optimal") == "optimal"
            and getattr(est, "solver", "natural") == "natural"
            and not getattr(est, "average", False)
            # Ledoit-Wolf's and OAS's intensities count the rows: a weight k is k rows.
            and not isinstance(getattr(est, "shrinkage", None), str)
        )

    def check_state(self, est):
        assert est.n_samples_seen_ >= 0 and est.n_features_in_ == D
        assert np.isfinite(est.t_) and est.t_ >= 0
        assert_finite_state({"_state": est._state, "_average": est._average}, "estimator")

    def reads(self, est):
        """``(name, read of rows, check of its values)`` of every read."""
        return []

    def bad_params_for(self, est):
        return self.bad_params

    def bad_rows(self, est):
        """``name -> (X, y)`` transforms every call must refuse."""
        return {
            "nan": lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 1, np.nan, X), y),
            "huge": lambda X, y: (np.vstack([X[:-1], np.full((1, D), HUGE)]), y),
            "empty": lambda X, y: (X[:0], None if y is None else y[:0]),
            "1-d": lambda X, y: (X[:, 0], y),
            **({"wide": lambda X, y: (np.hstack([X, X[:, :1]]), y)} if self.fitted(est) else {}),
        }


class Gaussian(Kind):
    cls = OnlineGaussian
    configs = [
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
    bad_params = [dict(batch_size=10.0), dict(average=0), dict(eta0=-1.0), dict(solver="newton")]
    good_params = [("reg_covar", [1e-6, 1e-3])]

    def make(self, config):
        return OnlineGaussian(**config, random_state=0)

    def prepare_fit(self, est, warm):
        est.set_params(warm_start=warm, max_iter=3, tol=None)

    def check_state(self, est):
        super().check_state(est)
        assert_valid_gaussians(est._structure(), est._fitted()[0])

    def reads(self, est):
        return [
            ("score_samples", est.score_samples, _finite),
            ("mahalanobis", est.mahalanobis, _finite),
            ("location_", lambda X: est.location_, _finite),
            ("covariance_", lambda X: est.covariance_, _finite),
            ("precision_", lambda X: est.precision_, _finite),
            ("shrinkage_", lambda X: est.shrinkage_ if est.shrinkage else 0.0, _finite),
        ]

    def structural_change(self, est):
        return dict(covariance_type="diag" if est.covariance_type != "diag" else "full")


class Classifier(Kind):
    cls = OnlineGaussianClassifier
    configs = [
        dict(classes=[0, 1]),
        dict(classes=[0, 1, 2]),  # class 2 is never seen
        dict(classes=[0, 1, 2], covariance_type="diag", learning_rate="constant", eta0=0.1),
        dict(classes=[0, 1], covariance="shared", shrinkage="oas"),
        dict(classes=[0, 1, 2], covariance_type="spherical", batch_size=5),
        dict(classes=[0, 1], shrinkage="ledoit-wolf"),
        dict(classes=[0, 1, 2], learning_rate="invscaling", eta0=0.5, shrinkage=0.2),
    ]
    good_params = [("reg_covar", [1e-6, 1e-3])]

    def make(self, config):
        config = dict(config)
        self.classes = np.array(config.pop("classes"))
        return OnlineGaussianClassifier(**config)

    def rows(self, rng, n, scale):
        y = rng.permutation(np.arange(n) % 2)  # classes 0 and 1, both in every fit
        X = rng.normal(size=(n, D)) @ MIXING + 100 + 4 * y[:, None]
        return X * scale, y

    def partial_fit(self, est, X, y, w, **kw):
        classes = None if self.fitted(est) else kw.get("classes", self.classes)
        return est.partial_fit(X, y, classes=classes, sample_weight=w)

    def fit(self, est, X, y, w):
        return est.fit(X, y, sample_weight=w)

    def prepare_fit(self, est, warm):
        est.set_params(priors=None)  # fit may find other classes than the priors were for

    def other_part(self, est, X, y):
        other = type(est)(**est.get_params(deep=False))
        return other.partial_fit(X, y, classes=est.classes_)

    def good_priors(self, est):
        return list(np.linspace(1.0, 2.0, len(est.classes_)))

    def bad_params_for(self, est):
        K = len(est.classes_)
        return [
            dict(eta0=-1.0),
            dict(learning_rate="newton"),
            dict(priors=[0.0] * K),
            dict(priors=[np.nan] + [1.0] * (K - 1)),
            dict(priors=[np.inf] + [1.0] * (K - 1)),
            dict(priors=[-1.0] + [1.0] * K),
            dict(priors=[1.0] * (K + 1)),
        ]

    def structural_change(self, est):
        if est.covariance == "shared":
            return dict(covariance="per-class", shrinkage=None)
        return dict(covariance_type="diag" if est.covariance_type != "diag" else "full")

    def bad_rows(self, est):
        bad = super().bad_rows(est)
        bad["unknown label"] = lambda X, y: (X, np.where(np.arange(len(y)) == 0, 7, y))
        bad["labels of another length"] = lambda X, y: (X, y[:-1])
        if self.fitted(est):  # the classes are numbers
            bad["labels of another type"] = lambda X, y: (X, y.astype(str).astype(object))
        return bad

    def seen(self, est):
        return est.class_count_ > 0

    def check_state(self, est):
        super().check_state(est)
        np.testing.assert_array_equal(est.classes_, est._state.classes)
        counts = est.class_count_
        _finite(counts, "class_count_")
        assert np.all(counts >= 0), counts
        assert counts.any()
        _simplex(est.priors_, "priors_")
        assert_valid_gaussians(est._structure(), est._fitted()[0], self.seen(est))

    def reads(self, est):
        seen = self.seen(est)

        def ood(X):
            # A class with no weight has no Gaussian: it does not take part.
            scores = est.ood_score(X)
            np.testing.assert_array_equal(scores, -est.mahalanobis(X)[:, seen].min(axis=1))
            return scores

        def proba(X):
            p = est.predict_proba(X)
            if est.priors is None:  # no weight and no prior: probability 0
                assert np.all(p[:, ~seen] == 0), p
            return p

        return [
            ("predict_proba", proba, _probabilities),
            ("predict_log_proba", est.predict_log_proba, _no_nan),
            ("decision_function", est.decision_function, _no_nan),
            ("predict", lambda X: np.isin(est.predict(X), est.classes_[seen]), _true),
            ("mahalanobis of seen classes", lambda X: est.mahalanobis(X)[:, seen], _finite),
            ("ood_score", ood, _finite),
            ("ood_score relative", lambda X: est.ood_score(X, relative=True), _finite),
            ("means_ of seen classes", lambda X: est.means_[seen], _finite),
        ]


class Mixture(Kind):
    cls = OnlineGaussianMixture
    configs = [
        dict(init_size=20, batch_size=10),
        dict(covariance_type="tied", init_size=30, batch_size=25),
        dict(covariance_type="diag", init_size=20, learning_rate="constant", eta0=0.1),
        dict(covariance_type="spherical", init_size=20, batch_size=10, average=True),
        dict(init_size=40, shrinkage=0.1, learning_rate="invscaling", eta0=0.5, power_t=0.7),
        dict(init_size=20, random_state="instance", n_init=2),
        dict(init_size=1000),  # a warm-up longer than the stream
    ]
    good_params = [("reg_covar", [1e-6, 1e-3]), ("shrinkage", [None, 0.3])]

    def make(self, config):
        config = {"n_components": 2, "random_state": 0, "max_iter": 5, **config}
        if config["random_state"] == "instance":
            config["random_state"] = np.random.RandomState(0)
        return OnlineGaussianMixture(**config)

    def rows(self, rng, n, scale):
        z = rng.integers(0, 2, n)
        X = rng.normal(size=(n, D)) @ MIXING + 100 + 10 * z[:, None]
        return X * scale, None

    def prepare_fit(self, est, warm):
        est.set_params(warm_start=warm, max_iter=3)

    def bad_params_for(self, est):
        return [
            dict(eta0=-1.0),
            dict(batch_size=0),
            dict(weights_init=[0.5, 0.6]),
            dict(weights_init=[1.0]),
            dict(means_init=np.zeros((2, D + 1))),
        ]

    def structural_change(self, est):
        return dict(n_components=3)

    def check_state(self, est):
        super().check_state(est)
        _simplex(est.weights_, "weights_")
        _no_nan(est.lower_bound_, "lower_bound_")
        assert_valid_gaussians(est._structure(), est._fitted()[0])

    def reads(self, est):
        return [
            ("score_samples", est.score_samples, _finite),
            ("predict_proba", est.predict_proba, _probabilities),
            ("predict", lambda X: np.isin(est.predict(X), [0, 1]), _true),
            ("means_", lambda X: est.means_, _finite),
            ("covariances_", lambda X: est.covariances_, _finite),
            ("precisions_", lambda X: est.precisions_, _finite),
            ("precisions_cholesky_", lambda X: est.precisions_cholesky_, _finite),
            ("bic", est.bic, _finite),
            ("sample", lambda X: est.sample(3)[0], _finite),
        ]


class Detector(Kind):
    cls = OnlineEllipticEnvelope
    configs = [
        {},
        dict(learn_outliers=False),
        dict(learn_outliers=False, contamination=0.3),
        dict(threshold="chi2", estimator=OnlineGaussian(covariance_type="diag")),
        dict(estimator=OnlineGaussian(learning_rate="constant", eta0=0.1)),
        dict(
            learn_outliers=False,
            estimator=OnlineGaussian(solver="adam", learning_rate="constant", eta0=0.05),
        ),
    ]

    def bad_params_for(self, est):
        bad = [dict(contamination=0.7), dict(contamination=0.0), dict(threshold="median")]
        if est.estimator is not None:
            bad += [dict(estimator__eta0=-1.0), dict(estimator__batch_size=0)]
        return bad

    good_params = [
        ("contamination", [0.1, 0.02]),
        ("learn_outliers", [True, False]),
        ("estimator__reg_covar", [1e-6, 1e-3]),
    ]

    def make(self, config):
        # set_params(estimator__...) changes the density template in place.
        return OnlineEllipticEnvelope(**clone(config, safe=False))

    def prepare_fit(self, est, warm):
        pass

    def structural_change(self, est):
        full = est._template().covariance_type == "full"
        if est.estimator is None:
            return dict(estimator=OnlineGaussian(covariance_type="diag"))
        return dict(estimator__covariance_type="diag" if full else "full")

    def relative_weights(self, est):
        return super().relative_weights(est._template())

    def check_state(self, est):
        assert est.n_samples_seen_ >= 0 and est.n_features_in_ == D
        density = est.estimator_
        assert_finite_state(
            {"_state": density._state, "_average": density._average, "_histogram": est._histogram},
            "estimator_",
        )
        assert_valid_gaussians(density._structure(), density._fitted()[0])
        assert_valid_gaussian(density, density.location_[None])
        assert np.isfinite(est._histogram_weight) and est._histogram_weight > 0
        _finite(est.offset_, "offset_")

    def reads(self, est):
        return [
            ("score_samples", est.score_samples, _finite),
            ("decision_function", est.decision_function, _finite),
            ("predict", lambda X: np.isin(est.predict(X), [-1, 1]), _true),
            ("mahalanobis", lambda X: est.mahalanobis(X) >= 0, _true),
            ("covariance_", lambda X: est.covariance_, _finite),
        ]


def _quietly(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ShrunkStepWarning, ConvergenceWarning, ...
        return fn(*args, **kwargs)


class Streams(RuleBasedStateMachine):
    """The machine; a subclass per estimator names its :class:`Kind`."""

    kind = None

    @initialize(data=st.data(), scale=st.sampled_from(SCALES), seed=st.integers(0, 2**16))
    def start(self, data, scale, seed):
        self.config = data.draw(st.sampled_from(self.kind.configs), label="config")
        self.est = self.kind.make(self.config)
        self.scale, self.seed = scale, seed

    # -- helpers --------------------------------------------------------------------

    def _rows(self, n):
        self.seed += 1
        return self.kind.rows(np.random.default_rng(self.seed), n, self.scale)

    def _hostile(self, X, y, how):
        """Rows (and weights) of the accepted hostile kinds."""
        n, w = len(X), None
        if how == "far row":
            X = X.copy()
            X[0] = FAR * np.array([1.0, -1.0, 1.0])[:D]
        elif how == "constant rows":
            X = np.repeat(X[:1], n, axis=0)
        elif how == "duplicated rows":
            X, y = np.concatenate([X, X]), None if y is None else np.concatenate([y, y])
        elif how == "zero weights":
            w = np.random.default_rng(self.seed).integers(0, 3, n).astype(float)
            if y is not None:
                w[y == 1] = 0.0  # a class of weight zero
            w[0 if y is None else np.flatnonzero(y != 1)[:1]] = 1.0  # fit needs one
        elif how == "small weights":
            w = np.full(n, 1e-3)
        return X, y, w

    def _fitted(self):
        return self.kind.fitted(self.est)

    def _documented(self, exc):
        """Whether ``exc`` is a refusal the user guide documents for finite rows."""
        if self.scale < 1e-145 and UNSQUARABLE in str(exc):
            return True
        return FOURTH_POWERS in str(exc)

    def _accepted(self, fn, *args):
        """``fn(*args)`` must succeed, or refuse as documented and change nothing."""
        before = copy.deepcopy(self.est)
        try:
            _quietly(fn, *args)
        except ValueError as exc:
            if not self._documented(exc):
                raise
            assert_same_state(self.est, before)

    def _refused(self, fn, *args, **kwargs):
        """``fn`` must raise a ValueError (saying what was wrong) and change nothing."""
        before = copy.deepcopy(self.est)
        with pytest.raises(ValueError):
            _quietly(fn, *args, **kwargs)
        assert_same_state(self.est, before)

    # -- calls ----------------------------------------------------------------------

    @rule(
        n=st.integers(1, 40),
        how=st.sampled_from(
            [
                "plain",
                "far row",
                "constant rows",
                "duplicated rows",
                "zero weights",
                "small weights",
            ]
        ),
    )
    def partial_fit(self, n, how):
        X, y, w = self._hostile(*self._rows(n), how)
        self._accepted(self.kind.partial_fit, self.est, X, y, w)

    @rule(data=st.data())
    def partial_fit_bad_rows(self, data):
        bad = self.kind.bad_rows(self.est)
        name = data.draw(st.sampled_from(sorted(bad)), label="bad rows")
        X, y = bad[name](*self._rows(6))
        self._refused(self.kind.partial_fit, self.est, X, y, None)

    @rule(
        n=st.integers(6, 60),
        warm=st.booleans(),
        how=st.sampled_from(["plain", "zero weights", "far row"]),
    )
    def fit(self, n, warm, how):
        X, y, w = self._hostile(*self._rows(n), how)
        self.kind.prepare_fit(self.est, warm)
        self._accepted(self.kind.fit, self.est, X, y, w)

    @precondition(lambda self: self._fitted())
    @rule(data=st.data())
    def set_bad_params(self, data):
        choices = self.kind.bad_params_for(self.est)
        change = data.draw(st.sampled_from(choices), label="bad setting")
        valid = self.est.get_params()
        self.est.set_params(**change)
        try:
            self._refused(self.kind.partial_fit, self.est, *self._rows(3), None)
        finally:
            self.est.set_params(**valid)

    @precondition(lambda self: self._fitted())
    @rule()
    def set_structural_params(self):
        valid = self.est.get_params()
        self.est.set_params(**self.kind.structural_change(self.est))
        try:
            self._refused(self.kind.partial_fit, self.est, *self._rows(3), None)
        finally:
            self.est.set_params(**valid)

    @precondition(lambda self: self.kind.good_params)
    @rule(data=st.data())
    def set_params(self, data):
        choices = [
            (name, values)
            for name, values in self.kind.good_params
            if not name.startswith("estimator__") or self.est.estimator is not None
        ]
        name, values = data.draw(st.sampled_from(choices), label="setting")
        self.est.set_params(**{name: data.draw(st.sampled_from(values), label=name)})

    @precondition(lambda self: isinstance(self.kind, Classifier) and self._fitted())
    @rule(equal=st.booleans())
    def set_priors(self, equal):
        priors = self.kind.good_priors(self.est)
        self.est.set_params(priors=[1.0] * len(priors) if equal else priors)

    @precondition(lambda self: self.kind.relative_weights(self.est))
    @rule(
        n=st.integers(8, 40),
        factor=st.sampled_from([2.0**-7, 1 / 300, 1e3]),
        method=st.sampled_from(["fit", "partial_fit"]),
    )
    def weights_are_relative(self, n, factor, method):
        """Weights scaled by a constant change no estimate and no threshold.

        (Under the running MLE; a constant or decaying rate, a Euclidean solver,
        averaging from a weight on and data-driven shrinkage count a weight as
        that many rows.)
        """
        X, y = self._rows(n)
        w = np.random.default_rng(self.seed).integers(1, 4, n).astype(float)
        parts = []
        for scale in (1.0, factor):
            part = clone(self.est)
            self.kind.prepare_fit(part, False)
            call = self.kind.fit if method == "fit" else self.kind.partial_fit
            try:
                _quietly(call, part, X, y, w * scale)
                reads = self.kind.reads(part)
                parts.append({name: _quietly(read, X) for name, read, _ in reads})
            except ValueError as exc:
                if not self._documented(exc):
                    raise
                parts.append(None)
        if parts[0] is None or parts[1] is None:
            assert parts[0] is parts[1] is None
            return
        for name, a in parts[0].items():
            # A draw's component is chosen by comparing a uniform with the weights: weights
            # equal to rounding may fall either side of it, so samples are not compared.
            if np.asarray(a).dtype != bool and name != "sample":
                b = parts[1][name]
                np.testing.assert_allclose(b, a, rtol=1e-7, err_msg=f"{name}, weights x{factor}")

    @rule(n=st.integers(2, 30), jitter=st.booleans(), offset=st.sampled_from([0.0, 1e6]))
    def constant_stream(self, n, jitter, offset):
        """Rows equal to within their own rounding get the fill-in of identical rows."""
        X, y = self._rows(n)
        X = np.repeat(X[:1] + offset * self.scale, n, axis=0)
        if y is not None:
            X[y == 1] += 4 * self.scale  # a constant stream per class
        k = np.random.default_rng(self.seed).integers(-2, 3, X.shape)
        covariances = []
        for rows in (X, X * (1 + k * np.finfo(float).eps) if jitter else X.copy()):
            part = clone(self.est)
            self.kind.prepare_fit(part, False)
            try:
                _quietly(self.kind.partial_fit, part, rows, y, None)
                covariances.append(self.kind.covariances(part))
            except ValueError as exc:
                if not self._documented(exc):
                    raise
                return
        _finite(covariances[0], "the covariance of a constant stream")
        np.testing.assert_allclose(covariances[1], covariances[0], rtol=1e-6, atol=0)

    # -- reads, copies, merge -------------------------------------------------------

    @precondition(lambda self: self._fitted())
    @rule(n=st.integers(1, 20))
    def read(self, n):
        X, _ = self._rows(n)
        origin = np.zeros((1, D))  # far from the stream (at 100), still finite
        far = np.full((1, D), -FAR)
        try:
            _quietly(_reads, self.est, self.kind.reads(self.est), np.vstack([X, origin]), far)
        except ValueError as exc:
            if not self._documented(exc):
                raise

    @precondition(lambda self: self._fitted())
    @rule(n=st.integers(1, 30), through=st.sampled_from(["pickle", "model file"]))
    def copies_continue_identically(self, n, through):
        if through == "pickle":
            copy_ = pickle.loads(pickle.dumps(self.est))
        elif isinstance(self.est.get_params().get("random_state"), np.random.RandomState):
            return  # a model file holds no generator (save_model says so)
        else:
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "m.npz")
                _quietly(save_model, self.est, path)
                try:
                    copy_ = load_model(path)
                except ValueError as exc:  # an estimate that cannot be read is refused
                    assert self._documented(exc), exc
                    return
        X, y = self._rows(n)
        self._accepted(self.kind.partial_fit, self.est, X, y, None)
        try:
            _quietly(self.kind.partial_fit, copy_, X, y, None)
        except ValueError as exc:
            assert self._documented(exc), exc
        assert_same_state(self.kind.learned(copy_), self.kind.learned(self.est))

    @precondition(lambda self: self._fitted())
    @rule(n=st.integers(6, 40))
    def merge_with_another_part(self, n):
        try:
            other = _quietly(self.kind.other_part, self.est, *self._rows(n))
        except ValueError as exc:
            assert self._documented(exc), exc
            return
        if not self.kind.fitted(other):
            return
        before, other_before = copy.deepcopy(self.est), copy.deepcopy(other)
        try:
            merged = _quietly(merge, [self.est, other])
        except ValueError as exc:
            assert self._documented(exc), exc
            return
        assert_same_state(self.est, before)
        assert_same_state(other, other_before)
        assert merged.n_samples_seen_ == self.est.n_samples_seen_ + other.n_samples_seen_
        try:
            _quietly(self.kind.check_state, merged)
        except ValueError as exc:
            assert self._documented(exc), exc

    @invariant()
    def a_valid_state(self):
        if hasattr(self, "est") and self._fitted():
            try:
                _quietly(self.kind.check_state, self.est)
            except ValueError as exc:
                if not self._documented(exc):
                    raise


# Shrinking a failing interleaving can take minutes: the default run reports the
# first failure as found, steps and all; the long profile shrinks it.
SETTINGS = settings(
    max_examples=int(os.environ.get("STATE_MACHINE_EXAMPLES", 20)),
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    report_multiple_bugs=False,
)
if os.environ.get("HYPOTHESIS_PROFILE") == "long":
    SETTINGS = settings(SETTINGS, max_examples=300, stateful_step_count=25, phases=list(Phase))


def _machine(kind):
    machine = type(f"{type(kind).__name__}Streams", (Streams,), {"kind": kind})
    machine.TestCase.settings = SETTINGS
    return machine.TestCase


TestGaussianStreams = _machine(Gaussian())
TestClassifierStreams = _machine(Classifier())
TestMixtureStreams = _machine(Mixture())
TestDetectorStreams = _machine(Detector())
