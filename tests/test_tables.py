"""pyarrow and pandas tables in the Python API: their column names kept, as scikit-learn's.

scikit-learn's ``validate_data`` reads the names of any table of the
dataframe interchange protocol (pandas, pyarrow, polars); these tests check
that every estimator keeps them, fits the table's values, and refuses a
table whose columns are not the fitted ones, in the fitted order.
"""

import warnings

import numpy as np
import pytest

from sklearn_onlinegauss import (
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
)

NAMES = ["a", "b", "c"]


def _table(kind, X, names=NAMES):
    if kind == "pyarrow":
        pa = pytest.importorskip("pyarrow")
        return pa.table({name: X[:, j] for j, name in enumerate(names)})
    if kind == "pandas":
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(X, columns=names)
    pl = pytest.importorskip("polars")
    return pl.DataFrame({name: X[:, j] for j, name in enumerate(names)})


def _data():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 400)
    X = rng.normal(size=(400, 3)) + np.array([[0, 0, 0], [3, 1, -1]])[y]
    return X, np.array(["no", "yes"])[y]


def _fit(est, X, y, method):
    if isinstance(est, OnlineGaussianClassifier):
        if method == "partial_fit":
            return est.partial_fit(X, y, classes=["no", "yes"])
        return est.fit(X, y)
    return getattr(est, method)(X)


def _read(est, X):
    if isinstance(est, OnlineGaussianClassifier):
        return est.predict_log_proba(X)
    return est.score_samples(X)


ESTIMATORS = {
    "gaussian": lambda: OnlineGaussian(),
    "mixture": lambda: OnlineGaussianMixture(n_components=2, random_state=0),
    "classifier": lambda: OnlineGaussianClassifier(),
    "outlier": lambda: OnlineEllipticEnvelope(),
}


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("kind", ["pyarrow", "pandas", "polars"])
@pytest.mark.parametrize("make", list(ESTIMATORS.values()), ids=list(ESTIMATORS))
def test_a_table_is_fitted_with_its_column_names(make, kind, method):
    X, y = _data()
    table = _table(kind, X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 'X does not have valid feature names'
        est = _fit(make(), table, y, method)
        np.testing.assert_array_equal(est.feature_names_in_, NAMES)
        ref = _fit(make(), X, y, method)
        assert not hasattr(ref, "feature_names_in_")
        np.testing.assert_allclose(_read(est, table), _read(ref, X), rtol=1e-12)
    shuffled = _table(kind, X[:, [2, 0, 1]], ["c", "a", "b"])
    with pytest.raises(ValueError, match="same order as they were in fit"):
        _read(est, shuffled)
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        _fit(est, _table(kind, X, ["a", "b", "z"]), y, "partial_fit")
