"""The river adapters: river's own estimator checks, and the state of the estimators they wrap.

Skipped where river (the ``river`` extra) is not installed, but for the test that the
module then imports and says what to install.
"""

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine

from sklearn_onlinegauss import (
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
)
from sklearn_onlinegauss.river import RiverAnomalyDetector, RiverClassifier  # without river too

try:
    import river
    from river import checks, datasets, evaluate, metrics, preprocessing
except ImportError:
    river = None

needs_river = pytest.mark.skipif(
    river is None, reason="river (the 'river' extra) is not installed"
)


TOL = 1e-10  # the same moments, the rows in other chunks: rounding only


def _close(actual, desired, tol=TOL):
    actual, desired = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    scale = max(1.0, float(np.abs(desired).max()))
    np.testing.assert_allclose(actual, desired, rtol=0, atol=tol * scale)


def _dicts(X, names=None):
    names = [f"x{j:02d}" for j in range(X.shape[1])] if names is None else names
    return [dict(zip(names, row.tolist(), strict=True)) for row in X]


class _CreditCardStandIn:
    """What river's checks of an anomaly detector stream when CreditCard is not downloaded
    (it is a 150 MB download): 30 features of the same names, 1% of rows six times as wide,
    labelled 1."""

    def __iter__(self):
        rng = np.random.default_rng(0)
        names = ["Time", *(f"V{i}" for i in range(1, 29)), "Amount"]
        while True:
            outlier = rng.random() < 0.01
            z = rng.normal(size=30) * (6.0 if outlier else 1.0)
            yield dict(zip(names, z.tolist(), strict=True)), int(outlier)

    def take(self, k):
        return itertools.islice(self, k)


@pytest.fixture
def offline_credit_card(monkeypatch):
    if not datasets.CreditCard().is_downloaded:
        monkeypatch.setattr(datasets, "CreditCard", _CreditCardStandIn)


# -- river's checks -------------------------------------------------------------------------

DETECTORS = [
    pytest.param(lambda: None, id="OnlineGaussian"),
    pytest.param(
        lambda: OnlineEllipticEnvelope(contamination=0.01),
        id="OnlineEllipticEnvelope",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        lambda: OnlineGaussianMixture(2, random_state=0),
        id="OnlineGaussianMixture",
        marks=pytest.mark.slow,  # 30 s: a mixture's step costs a millisecond a row
    ),
]
CLASSIFIERS = [
    pytest.param(lambda: None, id="per-class", marks=pytest.mark.slow),
    pytest.param(
        lambda: OnlineGaussianClassifier(covariance="shared"), id="shared", marks=pytest.mark.slow
    ),
]


@needs_river
@pytest.mark.parametrize("estimator", DETECTORS)
def test_the_anomaly_detector_passes_river_s_checks(estimator, offline_credit_card):
    model = RiverAnomalyDetector(estimator())
    assert isinstance(model, river.base.AnomalyDetector)
    checks.check_estimator(model)


@needs_river
@pytest.mark.parametrize("estimator", CLASSIFIERS)
def test_the_classifier_passes_river_s_checks(estimator):
    model = RiverClassifier(estimator())
    assert isinstance(model, river.base.Classifier) and model._multiclass
    checks.check_estimator(model)


@needs_river
def test_only_the_checks_of_changing_features_are_skipped():
    for model in (RiverAnomalyDetector(), RiverClassifier()):
        assert model._unit_test_skips() == {
            "check_emerging_features",
            "check_disappearing_features",
            "check_radically_disappearing_features",
        }


# -- the state is the estimator's, streamed on the same rows ----------------------------------


@needs_river
def test_the_density_s_state_is_partial_fit_s_on_the_same_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4)) + 5.0
    model = RiverAnomalyDetector()
    for x in _dicts(X):
        model.learn_one(x)
    reference = OnlineGaussian().partial_fit(X[:100]).partial_fit(X[100:])
    assert model.feature_names_ == ["x00", "x01", "x02", "x03"]
    assert model.estimator_.n_samples_seen_ == reference.n_samples_seen_ == 300
    _close(model.estimator_.location_, reference.location_)
    _close(model.estimator_.covariance_, reference.covariance_)
    scores = [model.score_one(x) for x in _dicts(X[:20])]
    _close(scores, -reference.score_samples(X[:20]))
    assert model.estimator is None  # the parameter is not fitted: a clone is


@needs_river
@pytest.mark.parametrize(
    "estimator",
    [OnlineEllipticEnvelope(contamination=0.05), OnlineGaussianMixture(2, random_state=0)],
    ids=lambda est: type(est).__name__,
)
def test_other_densities_are_partial_fit_one_row_at_a_time(estimator):
    # Neither is exact whatever the chunking (a histogram, EM's steps): the adapter's state
    # is partial_fit's of one row per call.
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(size=(150, 3)), rng.normal(size=(150, 3)) + 6.0])[
        rng.permutation(300)
    ]
    model, reference = RiverAnomalyDetector(estimator), clone_of(estimator)
    for x, row in zip(_dicts(X), X, strict=True):
        model.learn_one(x)
        reference.partial_fit(row[None])
    fitted = model.estimator_
    if isinstance(estimator, OnlineGaussianMixture):
        names = ("weights_", "means_", "covariances_")
    else:
        names = ("location_", "covariance_", "offset_")
    for name in names:  # the same steps in the same order: bit for bit
        np.testing.assert_array_equal(getattr(fitted, name), getattr(reference, name))
    # One row scored alone against thirty at once: BLAS's rounding differs.
    _close([model.score_one(x) for x in _dicts(X[:30])], -reference.score_samples(X[:30]))
    assert not hasattr(estimator, "n_features_in_")  # the parameter itself is not fitted


def clone_of(estimator):
    from sklearn.base import clone

    return clone(estimator)


CLASSIFIER_SETTINGS = [
    {},
    {"covariance": "shared"},
    {"covariance_type": "diag"},
    {"shrinkage": "ledoit-wolf"},
]


@needs_river
@pytest.mark.parametrize("settings", CLASSIFIER_SETTINGS, ids=str)
@pytest.mark.parametrize("data", ["iris", "wine"])
def test_the_classifier_s_state_is_partial_fit_s_with_every_class_up_front(settings, data):
    # Classes discovered one by one (wine's and iris's rows come sorted by class, so the
    # second and third join late) give the state of partial_fit told every class at once.
    X, y = {"iris": load_iris, "wine": load_wine}[data](return_X_y=True)
    model = RiverClassifier(OnlineGaussianClassifier(**settings))
    for x, label in zip(_dicts(X), y.tolist(), strict=True):
        model.learn_one(x, label)
    reference = OnlineGaussianClassifier(**settings)
    for rows in np.array_split(np.arange(len(X)), 3):
        reference.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
    est = model.estimator_
    np.testing.assert_array_equal(est.classes_, reference.classes_)
    np.testing.assert_array_equal(est.class_count_, reference.class_count_)
    _close(est.means_, reference.means_)
    name = "covariance_" if settings.get("covariance") == "shared" else "covariances_"
    _close(getattr(est, name), getattr(reference, name))
    _close(est.predict_proba(X), reference.predict_proba(X))
    proba = model.predict_proba_one(_dicts(X[:1])[0])
    assert list(proba) == [0, 1, 2] and all(type(k) is int for k in proba)
    _close(list(proba.values()), reference.predict_proba(X[:1])[0])
    assert model.predict_one(_dicts(X[:1])[0]) == reference.predict(X[:1])[0]


@needs_river
def test_given_classes_not_seen_yet_have_probability_zero_without_a_warning(recwarn):
    X, y = load_iris(return_X_y=True)
    model = RiverClassifier(classes=("setosa", "versicolor", "virginica"))
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    for x, label in zip(_dicts(X[:50]), names[:50].tolist(), strict=True):
        model.learn_one(x, label)
    assert model.predict_proba_one(_dicts(X[:1])[0]) == {
        "setosa": 1.0,
        "versicolor": 0.0,
        "virginica": 0.0,
    }
    assert not [w for w in recwarn if "seen no rows" in str(w.message)]
    with pytest.raises(ValueError, match="not in classes"):
        model.learn_one(_dicts(X[:1])[0], "iris-x")


@needs_river
def test_a_label_of_another_type_is_refused_and_changes_nothing():
    model = RiverClassifier()
    model.learn_one({"a": 0.0, "b": 1.0}, "cat")
    model.learn_one({"a": 1.0, "b": 0.0}, "dog")
    before = model.estimator_._state
    for label in (True, 3):
        with pytest.raises(ValueError, match="not of the type of the classes seen"):
            model.learn_one({"a": 1.0, "b": 1.0}, label)
    assert model.estimator_._state is before


@needs_river
def test_priors_need_the_classes_up_front():
    with pytest.raises(ValueError, match="pass classes="):
        RiverClassifier(OnlineGaussianClassifier(priors=[0.5, 0.5])).learn_one({"a": 1.0}, 0)
    model = RiverClassifier(OnlineGaussianClassifier(priors=[0.9, 0.1]), classes=(0, 1))
    model.learn_one({"a": 1.0}, 0)
    model.learn_one({"a": 3.0}, 1)
    model.learn_one({"a": 1.5}, 0)
    _close(model.estimator_.priors_, [0.9, 0.1])


# -- rows as dicts --------------------------------------------------------------------------


@needs_river
@pytest.mark.parametrize("make", [RiverAnomalyDetector, RiverClassifier])
def test_rows_must_have_the_first_row_s_features_and_are_refused_in_words(make):
    model = make()

    def learn(x):
        return model.learn_one(x) if make is RiverAnomalyDetector else model.learn_one(x, 0)

    learn({"b": 1.0, "a": 2.0, "c": 0.5})
    assert model.feature_names_ == ["a", "b", "c"]
    before = model.estimator_._state
    refusals = [
        ({"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}, r"features the first row had not: \['d'\]"),
        ({"a": 1.0, "b": 1.0}, r"not the features \['c'\] of the first row"),
        ({"a": 1.0, "b": 1.0, "z": 1.0}, r"\['z'\] and not the features \['c'\]"),
        (
            {"a": "high", "b": 1.0, "c": 1.0},
            "feature 'a' is 'high': every feature must be a number",
        ),
    ]
    for x, message in refusals:
        with pytest.raises(ValueError, match=message):
            learn(x)
        with pytest.raises(ValueError, match=message):
            model.predict_proba_one(x) if make is RiverClassifier else model.score_one(x)
    with pytest.raises(TypeError, match="x must be a dict"):
        learn([1.0, 2.0, 3.0])
    assert model.estimator_._state is before  # a refused row changes nothing


@needs_river
def test_an_empty_first_row_is_refused():
    with pytest.raises(ValueError, match="x has no features"):
        RiverAnomalyDetector().learn_one({})


@needs_river
def test_the_order_of_a_row_s_keys_changes_nothing():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 3))
    forward, backward = RiverAnomalyDetector(), RiverAnomalyDetector()
    for row in X:
        forward.learn_one({"a": row[0], "b": row[1], "c": row[2]})
        backward.learn_one({"c": row[2], "b": row[1], "a": row[0]})
    assert forward.feature_names_ == backward.feature_names_ == ["a", "b", "c"]
    np.testing.assert_array_equal(forward.estimator_.covariance_, backward.estimator_.covariance_)


@needs_river
def test_keys_that_do_not_sort_keep_the_first_row_s_order():
    model = RiverAnomalyDetector()
    model.learn_one({"b": 1.0, 2: 0.0, ("t",): 5.0})
    assert model.feature_names_ == ["b", 2, ("t",)]


@needs_river
def test_reads_before_any_row_are_river_s_defaults():
    assert RiverAnomalyDetector().score_one({"a": 1.0}) == 0.0
    assert RiverClassifier().predict_proba_one({"a": 1.0}) == {}
    assert RiverClassifier().predict_one({"a": 1.0}) is None
    mixture = RiverAnomalyDetector(OnlineGaussianMixture(3, random_state=0))
    mixture.learn_one({"a": 1.0})  # a mixture gathers rows before its first fit
    assert not mixture.estimator_.__sklearn_is_fitted__()
    assert mixture.score_one({"a": 1.0}) == 0.0


@needs_river
def test_an_estimator_of_another_kind_is_refused():
    with pytest.raises(TypeError, match="estimator must be an OnlineGaussian,"):
        RiverAnomalyDetector(OnlineGaussianClassifier()).learn_one({"a": 1.0})
    with pytest.raises(TypeError, match="estimator must be an OnlineGaussianClassifier"):
        RiverClassifier(OnlineGaussian()).learn_one({"a": 1.0}, 0)


# -- in a river pipeline --------------------------------------------------------------------


@needs_river
def test_the_user_guide_s_pipeline():
    model = preprocessing.StandardScaler() | RiverClassifier(
        OnlineGaussianClassifier(covariance="shared")
    )
    accuracy = evaluate.progressive_val_score(datasets.Phishing(), model, metrics.Accuracy())
    assert accuracy.get() > 0.85
    # The streamed classifier goes on as any: exported, for instance.
    from sklearn_onlinegauss import to_sklearn

    lda = to_sklearn(model["RiverClassifier"].estimator_)
    assert lda.coef_.shape == (1, 9)


@needs_river
def test_a_detector_in_a_pipeline_ranks_outliers_first():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 4)) @ rng.normal(size=(4, 4))
    labels = rng.random(2000) < 0.02
    X[labels] += rng.normal(size=(labels.sum(), 4)) * 8.0
    model = RiverAnomalyDetector()
    scores = []
    for x in _dicts(X):
        scores.append(model.score_one(x))
        model.learn_one(x)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(labels[100:], scores[100:]) > 0.95
    assert all(math.isfinite(s) for s in scores)


# -- without river --------------------------------------------------------------------------


def test_without_river_the_module_imports_and_an_adapter_says_what_to_install():
    code = (
        "import sys; sys.modules['river'] = None\n"
        "import sklearn_onlinegauss.river as adapters\n"
        "try:\n"
        "    adapters.RiverClassifier()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "sklearn-onlinegauss[river]"' in out.stdout
