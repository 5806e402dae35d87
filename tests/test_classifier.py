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


# -- never silently wrong (issue 29) ----------------------------------------------------


def _two_classes(scale, shift=0.0):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.arange(300) % 2
    X[y == 1] *= [2.0, 1.0, 0.5]  # class 1 is widest along the first feature
    return (X + shift) * scale, y


@pytest.mark.parametrize("covariance", ["per-class", "shared"])
@pytest.mark.parametrize("scale", [1e-140, 1e-5, 1.0, 1e100, 1e149])
def test_a_row_far_from_every_class_gets_finite_probabilities(covariance, scale):
    X, y = _two_classes(scale)
    clf = OnlineGaussianClassifier(covariance=covariance).fit(X, y)
    far = np.array([[1e149, 0, 0], [-1e149, 0, 0], [1e149, -1e149, 0]])
    rows = np.vstack([X[:5], far])
    with np.errstate(invalid="raise"):  # no inf - inf, no 0 * inf, anywhere in the reads
        proba, log_proba = clf.predict_proba(rows), clf.predict_log_proba(rows)
        decision, predicted = clf.decision_function(rows), clf.predict(rows)
        accuracy = clf.score(rows, np.r_[y[:5], 1, 1, 1])
        distances, ood = clf.mahalanobis(rows), clf.ood_score(rows)
        relative = clf.ood_score(rows, relative=True)
    for values in (proba, log_proba, decision, distances, ood, relative):
        assert not np.isnan(values).any()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_proba), proba, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(predicted, clf.classes_[np.argmax(proba, axis=1)])
    assert ((decision > 0) == (predicted == 1)).all()
    np.testing.assert_array_equal(ood, -distances.min(axis=1))
    if covariance == "per-class" and scale < 1e100:
        # The far rows' limit: the class whose Gaussian is widest along the row's direction.
        np.testing.assert_array_equal(predicted[5:], [1, 1, 1])
        assert accuracy >= 0.75
    if covariance == "shared" and scale <= 1.0:
        # One covariance: the log-odds are linear in the row, their sign LDA's.
        lda = LinearDiscriminantAnalysis(solver="lsqr").fit(X, y)
        np.testing.assert_array_equal(predicted[5:], lda.predict(far))


def _unseen_third_class(how, priors=None):
    X, y = _two_classes(1.0, shift=5.0)
    clf = OnlineGaussianClassifier(priors=priors)
    if how == "not in y":
        return clf.partial_fit(X, y, classes=[0, 1, 2]), X
    y = y.copy()
    y[:3] = 2
    weights = np.where(y == 2, 0.0, 1.0)
    return clf.fit(X, y, sample_weight=weights), X


@pytest.mark.parametrize("how", ["not in y", "zero weights"])
@pytest.mark.parametrize("priors", [None, [1, 1, 1]])
def test_a_class_with_no_rows_has_no_gaussian(how, priors):
    clf, X = _unseen_third_class(how, None if priors is None else np.array(priors) / 3)
    origin = np.zeros((1, 3))
    with pytest.warns(UserWarning, match=r"no rows of class(es)? \[2\]") as record:
        proba = clf.predict_proba(np.vstack([origin, X]))
    assert len(record) == 1  # once per call
    assert (proba[:, 2] == 0).all() and not np.isnan(proba).any()
    with pytest.warns(UserWarning, match="no rows"):
        assert 2 not in clf.predict(np.vstack([origin, X]))
    with pytest.warns(UserWarning, match="no rows"):
        distances = clf.mahalanobis(origin)
    assert distances[0, 2] == np.inf and np.isfinite(distances[0, :2]).all()
    with pytest.warns(UserWarning, match="no rows"):
        score = clf.ood_score(origin)
    np.testing.assert_allclose(score, -distances[0, :2].min())
    assert score < -20  # the origin is far from both classes seen (both are about 5 away)
    with pytest.warns(UserWarning, match="no rows"):
        assert np.isfinite(clf.ood_score(origin, relative=True)).all()
    # Its learned attributes are those of no data: zeros, NaN-free, no made-up covariance.
    assert clf.class_count_[2] == 0 and (clf.means_[2] == 0).all()
    assert (clf.covariances_[2] == 0).all() and np.isfinite(clf.covariances_).all()
    if priors is None:
        assert clf.priors_[2] == 0


def test_priors_giving_mass_only_to_unseen_classes_are_refused_by_the_read():
    clf, X = _unseen_third_class("not in y", priors=[0, 0, 1])
    with pytest.raises(ValueError, match="priors give no mass to any class seen"):
        clf.predict(X)


@pytest.mark.parametrize(
    "priors, match",
    [
        ([0, 0, 0], "must not all be zero"),
        ([np.nan, 1, 1], "finite"),
        ([np.inf, 1, 1], "finite"),
        ([-0.5, 1, 0.5], "non-negative"),
        ([0.5, 0.5], r"one number per class \(3\)"),
        ([[0.2, 0.3, 0.5]], r"one number per class \(3\)"),
        (["a", "b", "c"], "numbers"),
    ],
)
def test_invalid_priors_are_refused_by_the_call_that_receives_them(priors, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=match):
        OnlineGaussianClassifier(priors=priors).fit(X, y)
    clf = OnlineGaussianClassifier(priors=priors)
    with pytest.raises(ValueError, match=match):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert not hasattr(clf, "classes_") and not hasattr(clf, "n_features_in_")
    clf = OnlineGaussianClassifier().fit(X, y)
    before = pickle.dumps(clf)
    clf.set_params(priors=priors)
    with pytest.raises(ValueError, match=match):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match=match):
        clf.predict(X)
    assert pickle.dumps(clf.set_params(priors=None)) == before


def test_priors_that_do_not_sum_to_one_are_renormalized_with_a_warning():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(UserWarning, match="do not sum to 1"):
        clf = OnlineGaussianClassifier(priors=[2, 1, 1]).fit(X, y)
    np.testing.assert_allclose(clf.priors_, [0.5, 0.25, 0.25])
    if _qda_is_maximum_likelihood():
        qda = QuadraticDiscriminantAnalysis(priors=[0.5, 0.25, 0.25]).fit(X, y)
        np.testing.assert_allclose(clf.predict_proba(X), qda.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize(
    "first, later",
    [
        (np.array([0, 1] * 5), np.array([0, "a"] * 5, dtype=object)),
        (np.array(["a", "b"] * 5, dtype=object), np.array([0, 1] * 5, dtype=object)),
        (np.array([0, 1] * 5), np.array(["a", "b"] * 5)),
    ],
)
def test_labels_of_another_type_in_a_later_call_are_refused_in_words(first, later):
    X = np.random.default_rng(0).normal(size=(10, 2))
    clf = OnlineGaussianClassifier().partial_fit(X, first, classes=np.unique(first))
    before = pickle.dumps(clf)
    with pytest.raises(ValueError, match="not in classes|cannot be compared"):
        clf.partial_fit(X, later)
    assert pickle.dumps(clf) == before


@pytest.mark.parametrize("covariance", ["per-class", "shared"])
@pytest.mark.parametrize("factor", [1e-3, 1 / 300, 7.0, 1e6])
def test_sample_weights_are_relative(covariance, factor):
    X, y = _dataset("wine")
    w = np.random.default_rng(3).uniform(0.1, 2.0, len(X))
    a = OnlineGaussianClassifier(covariance=covariance).fit(X, y, sample_weight=w)
    b = OnlineGaussianClassifier(covariance=covariance).fit(X, y, sample_weight=w * factor)
    c = OnlineGaussianClassifier(covariance=covariance)
    for rows in np.array_split(np.arange(len(X)), 5):
        c.partial_fit(X[rows], y[rows], classes=[0, 1, 2], sample_weight=w[rows] * factor)
    for other in (b, c):
        np.testing.assert_allclose(other.means_, a.means_, rtol=1e-12)
        np.testing.assert_allclose(other.priors_, a.priors_, rtol=1e-12)
        name = "covariance_" if covariance == "shared" else "covariances_"
        np.testing.assert_allclose(getattr(other, name), getattr(a, name), rtol=1e-10)
        np.testing.assert_allclose(other.predict_proba(X), a.predict_proba(X), atol=1e-10)


def test_the_classifier_has_no_loss_curve_of_nones():
    # It has no training loss: no loss_curve_ at all, rather than [None].
    X = np.random.default_rng(0).normal(size=(60, 2))
    y = np.arange(60) % 2
    for clf in (
        OnlineGaussianClassifier().fit(X, y),
        OnlineGaussianClassifier(learning_rate="constant").fit(X, y),
        OnlineGaussianClassifier().partial_fit(X, y, classes=[0, 1]),
    ):
        assert not hasattr(clf, "loss_curve_")
