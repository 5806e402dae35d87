"""The shared-covariance classifier's LDA attributes against LinearDiscriminantAnalysis.

``coef_``, ``intercept_``, ``decision_function``, ``transform``,
``scalings_`` and ``explained_variance_ratio_`` of
``OnlineGaussianClassifier(covariance='shared')`` are those of
``LinearDiscriminantAnalysis(solver='eigen')`` fitted on the same rows
(``transform`` and ``scalings_`` up to the sign of each discriminant), both
after ``fit`` and after a stream of chunks; with ``covariance='per-class'``
there is no linear form and none of them exists.
"""

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_onlinegauss import OnlineGaussianClassifier
from sklearn_onlinegauss import _classes as per_class

# The reads are float64 arithmetic on the same moments: they differ by rounding
# amplified by the condition number of the covariance (wine's is 4e6, so 1e-16 *
# 4e6 = 4e-10 in the worst direction; measured 1e-13 relative to the largest value).
TOL = 1e-10


def _close(actual, desired, tol=TOL):
    """Equal to ``tol`` relative to the larger of 1 and the largest magnitude of ``desired``."""
    actual, desired = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    assert actual.shape == desired.shape, (actual.shape, desired.shape)
    scale = max(1.0, float(np.abs(desired).max(initial=0.0)))
    np.testing.assert_allclose(actual, desired, rtol=0, atol=tol * scale)


def _up_to_sign(actual, desired):
    """``actual``'s columns, each flipped to agree in sign with ``desired``'s."""
    signs = np.sign((actual * desired).sum(axis=0))
    assert np.all(signs != 0)
    return actual * signs


def _dataset(name):
    if name == "binary":  # versicolor against virginica: the two classes that overlap
        X, y = load_iris(return_X_y=True)
        return X[y > 0], y[y > 0]
    return {"iris": load_iris, "wine": load_wine}[name](return_X_y=True)


def _fitted(name, streamed, **params):
    X, y = _dataset(name)
    clf = OnlineGaussianClassifier(covariance="shared", **params)
    if not streamed:
        return clf.fit(X, y), X, y
    order = np.random.default_rng(0).permutation(len(X))
    for rows in np.array_split(order, 7):
        clf.partial_fit(X[rows], y[rows], classes=np.unique(y))
    return clf, X, y


DATASETS = ["iris", "wine", "binary"]


@pytest.mark.parametrize("streamed", [False, True], ids=["fit", "partial_fit"])
@pytest.mark.parametrize("name", DATASETS)
def test_coef_intercept_and_decision_function_are_lda_s(name, streamed):
    clf, X, y = _fitted(name, streamed)
    for solver in ("eigen", "lsqr"):
        lda = LDA(solver=solver).fit(X, y)
        _close(clf.coef_, lda.coef_)
        _close(clf.intercept_, lda.intercept_)
        _close(clf.decision_function(X), lda.decision_function(X))
    linear = X @ clf.coef_.T + clf.intercept_
    _close(clf.decision_function(X), linear.ravel() if name == "binary" else linear)
    if name == "binary":  # LDA's shapes: one row, the second class's log odds
        assert clf.coef_.shape == (1, X.shape[1]) and clf.intercept_.shape == (1,)
        assert clf.decision_function(X).shape == (len(X),)
    else:
        assert clf.coef_.shape == (3, X.shape[1]) and clf.intercept_.shape == (3,)


@pytest.mark.parametrize("streamed", [False, True], ids=["fit", "partial_fit"])
@pytest.mark.parametrize("name", DATASETS)
def test_transform_is_lda_eigen_s_projection_up_to_sign(name, streamed):
    clf, X, y = _fitted(name, streamed)
    lda = LDA(solver="eigen").fit(X, y)
    m = min(len(np.unique(y)) - 1, X.shape[1])
    ours, theirs = clf.transform(X), lda.transform(X)
    assert ours.shape == theirs.shape == (len(X), m)
    _close(_up_to_sign(ours, theirs), theirs)
    _close(_up_to_sign(clf.scalings_, lda.scalings_[:, :m]), lda.scalings_[:, :m])
    _close(clf.explained_variance_ratio_, lda.explained_variance_ratio_)
    # The discriminants are uncorrelated with unit variance within the classes.
    _close(clf.scalings_.T @ clf.covariance_ @ clf.scalings_, np.eye(m))


@pytest.mark.parametrize("name", ["iris", "wine"])
def test_transform_and_ratio_with_n_components_as_lda(name):
    X, y = _dataset(name)
    clf = OnlineGaussianClassifier(covariance="shared", n_components=1).fit(X, y)
    lda = LDA(solver="eigen", n_components=1).fit(X, y)
    _close(_up_to_sign(clf.transform(X), lda.transform(X)), lda.transform(X))
    _close(clf.explained_variance_ratio_, lda.explained_variance_ratio_)
    assert clf.get_feature_names_out().tolist() == ["onlinegaussianclassifier0"]
    # n_components is a read-time setting: the state is the same for every value.
    clf.set_params(n_components=None)
    assert clf.transform(X).shape == (len(X), 2)
    np.testing.assert_array_equal(clf.fit_transform(X, y), clf.transform(X))


def test_each_discriminant_s_largest_loading_is_positive():
    # The sign convention of the docstring: it does not depend on LAPACK's choice.
    for name in DATASETS:
        scalings = _fitted(name, streamed=False)[0].scalings_
        largest = scalings[np.argmax(np.abs(scalings), axis=0), np.arange(scalings.shape[1])]
        assert np.all(largest > 0)


def test_streamed_chunks_give_the_same_attributes_as_fit():
    (whole, X, _), (streamed, _, _) = _fitted("wine", False), _fitted("wine", True)
    for name in ("coef_", "intercept_", "scalings_", "explained_variance_ratio_"):
        _close(getattr(streamed, name), getattr(whole, name))
    _close(streamed.transform(X), whole.transform(X))
    _close(streamed.decision_function(X), whole.decision_function(X))


def test_partial_fit_keeps_the_attributes_current():
    X, y = _dataset("iris")
    order = np.random.default_rng(1).permutation(len(X))
    clf = OnlineGaussianClassifier(covariance="shared")
    for start, stop in [(0, 60), (60, 110), (110, 150)]:
        rows = order[start:stop]
        clf.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        lda = LDA(solver="eigen").fit(X[order[:stop]], y[order[:stop]])
        _close(clf.coef_, lda.coef_)
        _close(clf.intercept_, lda.intercept_)
        _close(_up_to_sign(clf.transform(X), lda.transform(X)), lda.transform(X))


def test_priors_enter_the_intercept_only():
    X, y = _dataset("iris")
    clf = OnlineGaussianClassifier(covariance="shared").fit(X, y)
    coef, intercept = clf.coef_, clf.intercept_
    priors = [0.2, 0.3, 0.5]
    clf.set_params(priors=priors)
    np.testing.assert_array_equal(clf.coef_, coef)
    _close(clf.intercept_, intercept - np.log(1 / 3) + np.log(priors))
    # The posteriors are the softmax of the linear decision function.
    d = clf.decision_function(X)
    p = np.exp(d - d.max(axis=1, keepdims=True))
    _close(p / p.sum(axis=1, keepdims=True), clf.predict_proba(X))


def test_rows_far_from_the_classes_read_finitely():
    X, y = _dataset("iris")
    clf = OnlineGaussianClassifier(covariance="shared").fit(X, y)
    far = np.array([[1e149, -1e149, 1e149, -1e149], [-1e149, 1e149, 0, 0], [0, 0, 0, 1e149]])
    with np.errstate(over="raise", invalid="raise"):
        decision, projection = clf.decision_function(far), clf.transform(far)
    assert np.isfinite(decision).all() and np.isfinite(projection).all()
    np.testing.assert_array_equal(clf.predict(far), clf.classes_[np.argmax(decision, axis=1)])


def test_the_linear_map_beyond_float64_is_signed_infinity_not_nan():
    # What coef_ of a covariance near float64's smallest numbers can give.
    X = np.array([[1e150, 1e150], [1e150, -1e150], [1.0, 1.0], [1e150, 0.0]])
    W = np.array([[1e200, 3e200], [-2e200, -2e200]])
    with np.errstate(over="raise", invalid="raise"):
        out = per_class.linear_map(X, W, np.array([1.0, -np.inf]))
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out[:, 1], -np.inf)  # an infinite intercept: itself
    np.testing.assert_array_equal(out[:, 0], [-np.inf, np.inf, 1.0 - 1e200, np.inf])
    transform = per_class.linear_map(X, W, 0.0)
    np.testing.assert_array_equal(transform[0], [-np.inf, np.inf])


def test_a_class_not_seen_has_an_intercept_of_minus_infinity():
    X, y = _dataset("iris")
    clf = OnlineGaussianClassifier(covariance="shared")
    with pytest.warns(UserWarning, match="no rows of classes"):
        clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
        decision = clf.decision_function(X)
    lda = LDA(solver="eigen").fit(X[y < 2], y[y < 2])
    assert clf.intercept_[2] == -np.inf and np.all(clf.coef_[2] == 0)
    assert np.all(decision[:, 2] == -np.inf)
    # The classes seen: LDA's on their rows, but for the priors (here 1/2 each).
    _close(clf.coef_[1] - clf.coef_[0], lda.coef_[0])
    _close(clf.intercept_[1] - clf.intercept_[0], lda.intercept_[0])
    _close(np.diff(decision[:, :2], axis=1)[:, 0], lda.decision_function(X))


@pytest.mark.parametrize("name", ["coef_", "intercept_", "scalings_", "explained_variance_ratio_"])
def test_per_class_has_no_linear_form(name):
    X, y = _dataset("iris")
    clf = OnlineGaussianClassifier().fit(X, y)
    with pytest.raises(AttributeError, match="covariance='per-class'.*no linear"):
        getattr(clf, name)
    assert not hasattr(clf, name)


@pytest.mark.parametrize("method", ["transform", "fit_transform", "get_feature_names_out"])
def test_per_class_has_no_transform(method):
    X, y = _dataset("iris")
    clf = OnlineGaussianClassifier().fit(X, y)
    assert not hasattr(clf, method)
    assert not hasattr(OnlineGaussianClassifier(), method)  # as for any unfitted one
    assert hasattr(OnlineGaussianClassifier(covariance="shared"), method)
    with pytest.raises(AttributeError) as info:
        getattr(clf, method)
    assert "covariance='per-class'" in str(info.value.__cause__)


def test_unfitted_reads_are_not_fitted_errors():
    clf = OnlineGaussianClassifier(covariance="shared")
    for name in ("coef_", "intercept_", "scalings_", "explained_variance_ratio_"):
        with pytest.raises(NotFittedError):
            getattr(clf, name)
    with pytest.raises(NotFittedError):
        clf.transform(np.zeros((2, 4)))


def test_n_components_beyond_the_classes_is_refused_as_lda_refuses_it():
    X, y = _dataset("iris")
    with pytest.raises(ValueError, match=r"n_components=3 .* min\(n_classes - 1, n_features\)"):
        OnlineGaussianClassifier(covariance="shared", n_components=3).fit(X, y)
    with pytest.raises(ValueError, match="n_components"):
        LDA(n_components=3).fit(X, y)
    clf = OnlineGaussianClassifier(covariance="shared").fit(X, y)
    clf.set_params(n_components=4)  # after fitting: refused by the reads that use it
    with pytest.raises(ValueError, match=r"n_components=4 .* n_features\) = 2"):
        clf.transform(X)
    with pytest.raises(ValueError, match="n_components"):
        OnlineGaussianClassifier(n_components=0).fit(X, y)  # the constraint


def test_the_projection_feeds_a_pipeline():
    X, y = _dataset("wine")
    pipe = make_pipeline(OnlineGaussianClassifier(covariance="shared"), LogisticRegression())
    assert pipe.fit(X, y).score(X, y) > 0.95
