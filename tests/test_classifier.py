"""OnlineGaussianClassifier against QDA and LDA on scikit-learn's bundled data."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_onlinegauss import OnlineGaussianClassifier


def _dataset(name, for_qda=False):
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return PCA(20, random_state=0).fit_transform(X), y
    loader = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}[name]
    X, y = loader(return_X_y=True)
    if name == "breast_cancer" and for_qda:
        # QDA(reg_param=0)'s own rank test refuses breast_cancer's nearly collinear
        # features (radius, perimeter, area): compare on its first 15 components.
        return PCA(15, random_state=0).fit_transform(X), y
    return X, y


def _streamed(clf, X, y, size):
    order = np.random.default_rng(0).permutation(len(X))
    for start in range(0, len(X), size):
        rows = order[start : start + size]
        clf.partial_fit(X[rows], y[rows], classes=np.unique(y))
    return clf


def _qda_is_maximum_likelihood():
    X, y = load_iris(return_X_y=True)
    cov = QuadraticDiscriminantAnalysis(store_covariance=True).fit(X, y).covariance_[0]
    return np.allclose(cov, np.cov(X[y == 0].T, bias=True))


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits"])
@pytest.mark.parametrize("size", [1, 7, 10_000])
def test_per_class_is_quadratic_discriminant_analysis(name, size):
    if not _qda_is_maximum_likelihood():
        pytest.skip("this scikit-learn's QDA uses unbiased covariances (before 1.8)")
    X, y = _dataset(name, for_qda=True)
    qda = QuadraticDiscriminantAnalysis(reg_param=0).fit(X, y)
    clf = _streamed(OnlineGaussianClassifier(), X, y, size)
    np.testing.assert_array_equal(clf.predict(X), qda.predict(X))
    np.testing.assert_allclose(clf.predict_proba(X), qda.predict_proba(X), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits"])
@pytest.mark.parametrize("size", [1, 7, 10_000])
def test_shared_is_linear_discriminant_analysis(name, size):
    X, y = _dataset(name)
    lda = LinearDiscriminantAnalysis(solver="lsqr", store_covariance=True).fit(X, y)
    clf = _streamed(OnlineGaussianClassifier(covariance="shared"), X, y, size)
    np.testing.assert_array_equal(clf.predict(X), lda.predict(X))
    np.testing.assert_allclose(clf.predict_proba(X), lda.predict_proba(X), rtol=0, atol=1e-6)
    scale = np.abs(lda.covariance_).max()
    np.testing.assert_allclose(clf.covariance_, lda.covariance_, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(clf.means_, lda.means_, rtol=1e-10, atol=1e-10 * np.abs(X).max())
    np.testing.assert_allclose(clf.priors_, lda.priors_)


def test_string_labels_dataframes_pipelines_and_grid_search():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = OnlineGaussianClassifier().fit(frame, names)
    assert set(clf.predict(frame)) <= set(names) and clf.score(frame, names) > 0.95
    pipe = make_pipeline(StandardScaler(), OnlineGaussianClassifier(covariance="shared"))
    assert cross_val_score(pipe, X, names, cv=3).mean() > 0.9
    search = GridSearchCV(
        OnlineGaussianClassifier(), {"covariance": ["per-class", "shared"]}, cv=3
    ).fit(X, names)
    assert search.best_score_ > 0.9
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(frame), clf.predict_proba(frame))


def test_classes_are_required_first_and_labels_must_be_among_them():
    X, y = load_iris(return_X_y=True)
    clf = OnlineGaussianClassifier()
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X[:10], y[:10])
    assert not hasattr(clf, "classes_") and not hasattr(clf, "n_features_in_")
    clf.partial_fit(X[:10], y[:10], classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X[100:], y[100:])
    assert clf.n_samples_seen_ == 10


def test_a_class_not_seen_yet_has_no_say_until_it_is():
    X, y = load_iris(return_X_y=True)
    clf = OnlineGaussianClassifier().partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert clf.priors_[2] == 0 and set(clf.predict(X)) <= {0, 1}
    clf.partial_fit(X[y == 2], y[y == 2])
    assert clf.score(X, y) > 0.95


def test_mahalanobis_and_the_out_of_distribution_score():
    X, y = load_iris(return_X_y=True)
    clf = OnlineGaussianClassifier(covariance="shared").fit(X[y < 2], y[y < 2])
    distances = clf.mahalanobis(X)
    assert distances.shape == (150, 2) and np.all(distances >= 0)
    scores = clf.ood_score(X)
    np.testing.assert_allclose(scores, -distances.min(axis=1))
    assert scores[y == 2].mean() < scores[y < 2].mean()  # the unseen class looks out of place


def test_float32_input_is_fitted_like_float64():
    X, y = load_wine(return_X_y=True)
    single = OnlineGaussianClassifier(covariance="shared").fit(X.astype(np.float32), y)
    double = OnlineGaussianClassifier(covariance="shared").fit(
        X.astype(np.float32).astype(float), y
    )
    np.testing.assert_allclose(single.covariance_, double.covariance_, rtol=1e-12)


def test_a_constant_rate_follows_a_drifting_class():
    rng = np.random.default_rng(0)
    clf = OnlineGaussianClassifier(learning_rate="constant", eta0=0.01)
    for shift in (0.0, 10.0):
        X = rng.normal(size=(2000, 2)) + [shift, 0]
        y = (rng.random(2000) < 0.5).astype(int)
        X[y == 1] += [0, 5]
        clf.partial_fit(X, y, classes=[0, 1])
    np.testing.assert_allclose(clf.means_[:, 0], [10, 10], atol=0.3)


@pytest.mark.parametrize("covariance", ["per-class", "shared"])
def test_merged_parts_are_the_fit_on_all_the_data(covariance):
    from sklearn_onlinegauss import merge

    X, y = _dataset("wine")
    whole = OnlineGaussianClassifier(covariance=covariance).fit(X, y)
    parts = [
        OnlineGaussianClassifier(covariance=covariance).partial_fit(X[r], y[r], classes=[0, 1, 2])
        for r in np.array_split(np.random.default_rng(1).permutation(len(X)), 4)
    ]
    merged = merge(parts)
    np.testing.assert_allclose(merged.predict_proba(X), whole.predict_proba(X), atol=1e-9)
    np.testing.assert_allclose(merged.means_, whole.means_, rtol=1e-12)
    np.testing.assert_array_equal(merged.class_count_, whole.class_count_)


def test_dask_fit_of_a_classifier_is_the_fit_on_all_the_data():
    da = pytest.importorskip("dask.array")
    import dask

    from sklearn_onlinegauss import dask as og_dask

    X, y = _dataset("wine")
    whole = OnlineGaussianClassifier(covariance="shared").fit(X, y)
    with dask.config.set(scheduler="threads"):
        est = og_dask.fit(
            OnlineGaussianClassifier(covariance="shared"),
            da.from_array(X, chunks=(40, X.shape[1])),
            da.from_array(y, chunks=40),
        )
    np.testing.assert_allclose(est.covariance_, whole.covariance_, rtol=1e-10)


def test_relative_mahalanobis_subtracts_the_distance_to_all_the_data():
    X, y = _dataset("wine")
    clf = OnlineGaussianClassifier(covariance="shared").fit(X, y)
    background = (X - X.mean(0)) @ np.linalg.inv(np.cov(X.T, bias=True)) * (X - X.mean(0))
    expected = -(clf.mahalanobis(X) - background.sum(1)[:, None]).min(axis=1)
    np.testing.assert_allclose(clf.ood_score(X, relative=True), expected, rtol=1e-8)


@pytest.mark.parametrize("covariance", ["per-class", "shared"])
def test_oas_shrinks_each_covariance_as_scikit_learns_oas(covariance):
    from sklearn.covariance import OAS

    X, y = _dataset("wine")
    clf = _streamed(OnlineGaussianClassifier(covariance=covariance, shrinkage="oas"), X, y, 7)
    if covariance == "per-class":
        for k in range(3):
            expected = OAS().fit(X[y == k]).covariance_
            np.testing.assert_allclose(clf.covariances_[k], expected, rtol=1e-9)
    else:
        plain = OnlineGaussianClassifier(covariance="shared").fit(X, y).covariance_
        from sklearn_onlinegauss._gaussians import Gaussians
        from sklearn_onlinegauss._shrinkage import oas_shrinkage
        from sklearn_onlinegauss._structures import SHARED

        one = Gaussians(np.ones(1), np.zeros((1, 1)), np.zeros((1, 1)), plain)
        expected = SHARED.shrink(one, oas_shrinkage(plain, len(X))).covariances
        np.testing.assert_allclose(clf.covariance_, expected, rtol=1e-9)


def test_ledoit_wolf_shrinks_each_class_as_scikit_learns_ledoit_wolf():
    from sklearn.covariance import LedoitWolf

    from sklearn_onlinegauss import merge

    X, y = _dataset("wine")
    X = X + 1e4  # the sums are about each class's first row: exact far from 0
    streamed = _streamed(OnlineGaussianClassifier(shrinkage="ledoit-wolf"), X, y, 7)
    parts = [
        OnlineGaussianClassifier(shrinkage="ledoit-wolf").partial_fit(
            X[r], y[r], classes=[0, 1, 2]
        )
        for r in np.array_split(np.random.default_rng(2).permutation(len(X)), 3)
    ]
    for clf in (streamed, merge(parts)):
        for k in range(3):
            expected = LedoitWolf().fit(X[y == k]).covariance_
            np.testing.assert_allclose(clf.covariances_[k], expected, rtol=1e-9)


def test_ledoit_wolf_needs_its_sums_and_a_covariance_per_class():
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = _dataset("iris")
    with pytest.raises(InvalidParameterError, match="per class"):
        OnlineGaussianClassifier(covariance="shared", shrinkage="ledoit-wolf").fit(X, y)
    with pytest.raises(InvalidParameterError, match="covariance_type='full'"):
        OnlineGaussianClassifier(covariance_type="diag", shrinkage="ledoit-wolf").fit(X, y)
    clf = OnlineGaussianClassifier(shrinkage="ledoit-wolf").fit(X, y)
    before = clf.covariances_
    # Rows learned without the sums would leave them wrong: the state's structure changed.
    with pytest.raises(ValueError, match="shrinkage='ledoit-wolf'.*True -> False"):
        clf.set_params(shrinkage=None).partial_fit(X[:10], y[:10])
    assert clf.n_samples_seen_ == len(X)
    plain = OnlineGaussianClassifier().fit(X, y).set_params(shrinkage="ledoit-wolf")
    with pytest.raises(ValueError, match="False -> True"):
        plain.partial_fit(X, y)
    refit = clf.set_params(shrinkage="ledoit-wolf").fit(X, y)
    np.testing.assert_array_equal(refit.covariances_, before)


def test_a_structural_setting_changed_after_fitting_is_refused_by_reads_and_calls():
    X, y = _dataset("iris")
    clf = OnlineGaussianClassifier().fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(covariance_type="diag")
    for call in (lambda: clf.predict_proba(X), lambda: clf.partial_fit(X, y)):
        with pytest.raises(ValueError, match="covariance_type='full' -> 'diag'"):
            call()
    np.testing.assert_array_equal(clf.set_params(covariance_type="full").predict_proba(X), before)
    assert clf.set_params(covariance_type="diag").fit(X, y).covariances_.shape == (3, 4)
