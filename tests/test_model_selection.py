"""The prequential score, its scorer and its splitter: predict-then-learn on a stream."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_onlinegauss import (
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
)
from sklearn_onlinegauss.model_selection import (
    PrequentialSplit,
    make_prequential_scorer,
    prequential_score,
)

#: ``fit`` as one pass of the stream in its order (the scorer's requirement).
STREAMED = dict(learning_rate="constant", shuffle=False, max_iter=1, tol=None)


def random_walk(n, d, drift, seed):
    """Rows about a mean that walks with step variance ``drift`` (noise variance 1)."""
    rng = np.random.default_rng(seed)
    mean = np.cumsum(rng.normal(0.0, np.sqrt(drift), (n, d)), axis=0)
    return mean + rng.standard_normal((n, d))


def best_forgetting_rate(drift, d):
    """The rate of the best expected log score (docs/theory.rst, "The forgetting rate")."""

    def loss(eta):
        lag = (drift + eta**2) / (eta * (2 - eta))  # the mean's error variance D(eta)
        return d / 2 * np.log1p(lag) + d * (d + 1) / 4 * eta / (2 - eta)

    return minimize_scalar(loss, bounds=(1e-6, 0.99), method="bounded").x


def test_split_is_expanding_windows_in_stream_order():
    X = np.zeros((23, 1))
    splits = list(PrequentialSplit(4, warm_up=5).split(X))
    assert len(splits) == PrequentialSplit(4).get_n_splits() == 4
    tested = np.concatenate([test for _, test in splits])
    np.testing.assert_array_equal(tested, np.arange(5, 23))  # every later row, once, in order
    for train, test in splits:
        np.testing.assert_array_equal(train, np.arange(test[0]))  # the whole past, no more
        np.testing.assert_array_equal(test, np.arange(test[0], test[-1] + 1))
    # The default warm-up is TimeSeriesSplit's first window.
    ours = [train for train, _ in PrequentialSplit(4).split(np.zeros((25, 1)))]
    theirs = [train for train, _ in TimeSeriesSplit(4).split(np.zeros((25, 1)))]
    np.testing.assert_array_equal(ours[0], theirs[0])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: PrequentialSplit(0), "n_splits"),
        (lambda: PrequentialSplit(2.0), "n_splits"),
        (lambda: PrequentialSplit(2, warm_up=0), "warm_up"),
        (lambda: make_prequential_scorer(chunk_size=0), "chunk_size"),
    ],
)
def test_bad_settings_are_refused_naming_them(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_split_refuses_a_stream_too_short():
    with pytest.raises(ValueError, match="10 rows"):
        list(PrequentialSplit(3, warm_up=8).split(np.zeros((10, 1))))


def test_prequential_score_scores_each_chunk_before_learning_it():
    X = random_walk(300, 2, 1e-2, seed=0)
    est = OnlineGaussian(learning_rate="constant", eta0=0.05)
    scores = prequential_score(est, X, chunk_size=40, warm_up=60, per_chunk=True)
    model = OnlineGaussian(learning_rate="constant", eta0=0.05).partial_fit(X[:60])
    expected = []
    for start in range(60, 300, 40):
        expected.append(model.score(X[start : start + 40]))
        model.partial_fit(X[start : start + 40])
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    sizes = [40] * 6
    mean = prequential_score(est, X, chunk_size=40, warm_up=60)
    assert mean == pytest.approx(np.average(expected, weights=sizes), rel=1e-12)
    assert not hasattr(est, "n_features_in_")  # the estimator passed is cloned


def test_prequential_score_refuses_a_warm_up_without_rows_after_it():
    with pytest.raises(ValueError, match="warm_up=50 leaves no row"):
        prequential_score(OnlineGaussian(), np.zeros((50, 2)), warm_up=50)


def test_an_estimator_without_partial_fit_is_refused_naming_it():
    X = random_walk(300, 2, 1e-2, seed=4)
    pipe = make_pipeline(StandardScaler(), OnlineGaussian())
    with pytest.raises(TypeError, match="Pipeline does not have"):
        prequential_score(pipe, X)
    with pytest.raises(TypeError, match="Pipeline does not have"):
        make_prequential_scorer()(pipe.fit(X[:100]), X[100:])


def test_search_with_the_scorer_is_the_prequential_score():
    X = random_walk(600, 2, 1e-2, seed=1)
    search = GridSearchCV(
        OnlineGaussian(**STREAMED),
        {"eta0": [0.02, 0.2]},
        scoring=make_prequential_scorer(chunk_size=25),
        cv=PrequentialSplit(1, warm_up=100),
    ).fit(X)
    for eta0, got in zip([0.02, 0.2], search.cv_results_["split0_test_score"], strict=True):
        est = OnlineGaussian(learning_rate="constant", eta0=eta0)
        expected = prequential_score(est, X, chunk_size=25, warm_up=100)
        assert got == pytest.approx(expected, rel=1e-10)


def test_scorer_leaves_the_searched_estimator_as_fitted():
    X = random_walk(400, 2, 1e-2, seed=2)
    est = OnlineGaussian(**STREAMED, eta0=0.1).fit(X[:200])
    before = est.location_.copy(), est.n_samples_seen_
    make_prequential_scorer(chunk_size=20)(est, X[200:])
    np.testing.assert_array_equal(est.location_, before[0])
    assert est.n_samples_seen_ == before[1]


def test_scorer_refuses_a_fit_of_shuffled_epochs():
    X = random_walk(400, 2, 1e-2, seed=3)
    search = GridSearchCV(
        OnlineGaussian(learning_rate="constant", eta0=0.1, random_state=0),
        {"eta0": [0.1]},
        scoring=make_prequential_scorer(),
        cv=PrequentialSplit(2),
        error_score="raise",
    )
    with pytest.raises(ValueError, match="shuffle=False, max_iter=1, tol=None"):
        search.fit(X)


@pytest.mark.slow
@pytest.mark.parametrize(
    "d, drift, seed", [(1, 1e-3, 0), (2, 1e-4, 1), (2, 1e-3, 2), (2, 3e-3, 3), (3, 1e-3, 4)]
)
def test_search_picks_the_true_forgetting_rate(d, drift, seed):
    X = random_walk(6000, d, drift, seed)
    grid = np.geomspace(1e-3, 0.3, 13)  # a factor 1.6 apart
    search = GridSearchCV(
        OnlineGaussian(**STREAMED),
        {"eta0": grid},
        scoring=make_prequential_scorer(chunk_size=20),
        cv=PrequentialSplit(2, warm_up=200),
    ).fit(X)
    best = best_forgetting_rate(drift, d)
    assert best / 2 <= search.best_params_["eta0"] <= 2 * best
    # The exact default remembers everything: on a drifting stream it must score worse.
    remember_all = prequential_score(OnlineGaussian(), X, chunk_size=20, warm_up=200)
    assert remember_all < search.best_score_


def drifting_classes(n, seed):
    """Two classes whose means swap sides over the stream."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    path = np.stack([np.linspace(-3, 3, n), np.zeros(n)], axis=1)
    return np.where(y[:, None] == 1, path, -path) + rng.standard_normal((n, 2)), y


@pytest.mark.parametrize("scoring", [None, "neg_log_loss"])
def test_classifier_forgetting_beats_remembering_on_drifting_classes(scoring):
    X, y = drifting_classes(3000, seed=0)
    clf = OnlineGaussianClassifier(learning_rate="constant", eta0=0.02)
    tracking = prequential_score(clf, X, y, chunk_size=100, scoring=scoring)
    remembering = prequential_score(
        OnlineGaussianClassifier(), X, y, chunk_size=100, scoring=scoring
    )
    # Remembering every row, the classes' means meet at 0 half-way and stay there.
    assert tracking > remembering + (0.2 if scoring is None else 0.3)


def test_classifier_search_uses_fit_as_the_stream():
    X, y = drifting_classes(2000, seed=1)
    search = GridSearchCV(
        OnlineGaussianClassifier(learning_rate="constant"),  # the classifier's fit is one pass
        {"eta0": [1e-4, 0.02]},
        scoring=make_prequential_scorer(chunk_size=50),
        cv=PrequentialSplit(3),
    ).fit(X, y)
    assert search.best_params_ == {"eta0": 0.02}


def test_mixture_components_by_prequential_log_likelihood():
    rng = np.random.default_rng(0)
    X = rng.permutation(
        np.concatenate([rng.normal(-4, 1, (1500, 2)), rng.normal(4, 1, (1500, 2))])
    )
    score = {
        k: prequential_score(
            OnlineGaussianMixture(k, init_size=200, random_state=0), X, chunk_size=100, warm_up=200
        )
        for k in (1, 2)
    }
    # Two unit clusters 8 apart: one Gaussian of variance 17 on the first axis loses ~1 nat.
    assert score[2] > score[1] + 0.8


def test_detector_contamination_by_prequential_accuracy():
    rng = np.random.default_rng(0)
    y = np.where(rng.random(4000) < 0.05, -1, 1)
    X = rng.standard_normal((4000, 2)) * np.where(y == -1, 6.0, 1.0)[:, None]
    accuracy = {
        c: prequential_score(OnlineEllipticEnvelope(contamination=c), X, y, chunk_size=100)
        for c in (0.05, 0.25)
    }
    assert accuracy[0.05] > accuracy[0.25] + 0.1  # flagging 25% flags 20% inliers
