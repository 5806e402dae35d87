"""Working the way users combine estimators: pipelines, searches, cross-validation, clones."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_onlinegauss import OnlineGaussian

# scikit-learn's estimator checks run over every estimator in tests/test_common.py.


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal([1.0, -2.0, 0.5], [[2, 0.5, 0], [0.5, 1, 0.3], [0, 0.3, 1]], n)


def test_pipeline_with_scaler_scores_in_the_scaled_space():
    X = _data()
    pipe = make_pipeline(StandardScaler(), OnlineGaussian()).fit(X)
    Z = StandardScaler().fit_transform(X)
    np.testing.assert_allclose(pipe.score_samples(X), OnlineGaussian().fit(Z).score_samples(Z))


def test_grid_search_over_learning_rates_picks_by_held_out_likelihood():
    X = _data(600)
    search = GridSearchCV(
        OnlineGaussian(
            solver="sgd",
            learning_rate="constant",
            batch_size=1,
            max_iter=2,
            tol=None,
            random_state=0,
        ),
        {"eta0": [1e-6, 1e-2]},
        cv=3,
    ).fit(X)
    # With one-row batches the Euclidean solver starts from the moments of the
    # first n_features + 1 = 4 rows; eta0=1e-6 barely moves from there.
    assert search.best_params_ == {"eta0": 1e-2}
    assert search.cv_results_["mean_test_score"][1] > search.cv_results_["mean_test_score"][0]


def test_cross_val_score_is_the_held_out_mean_log_likelihood():
    X = _data(300)
    scores = cross_val_score(OnlineGaussian(), X, cv=3)
    expected = [
        OnlineGaussian().fit(np.delete(X, slice(i, i + 100), 0)).score(X[i : i + 100])
        for i in (0, 100, 200)
    ]
    np.testing.assert_allclose(scores, expected)


def test_clone_gives_an_unfitted_copy_with_the_same_params():
    est = OnlineGaussian(solver="adam", eta0=0.05).fit(_data())
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "location_")


def test_dataframe_feature_names_are_kept_and_checked():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(_data(), columns=["a", "b", "c"])
    est = OnlineGaussian().partial_fit(df.iloc[:100]).partial_fit(df.iloc[100:])
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c"])
    np.testing.assert_allclose(est.location_, df.mean().to_numpy())
    with pytest.raises(ValueError, match="feature names"):
        est.score_samples(df[["c", "b", "a"]])


def test_partial_fit_over_a_generator_of_chunks():
    X = _data(1000)
    est = OnlineGaussian()
    for chunk in (X[i : i + 64] for i in range(0, len(X), 64)):
        est.partial_fit(chunk)
    assert est.n_samples_seen_ == 1000
    np.testing.assert_allclose(est.covariance_, np.cov(X.T, bias=True))


def test_set_params_to_an_invalid_value_between_partial_fits_is_refused():
    est = OnlineGaussian().partial_fit(_data())
    est.set_params(learning_rate="fastest")
    with pytest.raises(InvalidParameterError, match="learning_rate"):
        est.partial_fit(_data())


def test_set_params_to_a_new_equal_array_between_partial_fits_is_accepted():
    # The fast path compares parameter values; a new array equal to the old one
    # must go through validation, not raise numpy's "truth value is ambiguous".
    from sklearn_onlinegauss import OnlineGaussianClassifier, OnlineGaussianMixture

    X = _data()
    y = (X[:, 0] > 1).astype(int)
    clf = OnlineGaussianClassifier(priors=np.array([0.5, 0.5])).partial_fit(X, y, classes=[0, 1])
    before = clf.predict_proba(X)
    clf.set_params(priors=np.array([0.5, 0.5])).partial_fit(X[:10], y[:10])
    assert clf.n_samples_seen_ == 310
    assert np.isfinite(before).all()
    means = np.array([[1.0, -2.0, 0.5], [2.0, -1.0, 1.0]])
    mixture = OnlineGaussianMixture(n_components=2, means_init=means, random_state=0)
    mixture.partial_fit(X)
    mixture.set_params(means_init=means.copy()).partial_fit(X[:10])
    assert mixture.n_samples_seen_ == 310
