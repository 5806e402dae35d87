"""to_sklearn / from_sklearn: the scikit-learn counterpart's reads, the round trip, ONNX."""

import pickle

import numpy as np
import pytest
from sklearn.covariance import (
    OAS,
    EllipticEnvelope,
    EmpiricalCovariance,
    GraphicalLasso,
    LedoitWolf,
    MinCovDet,
    ShrunkCovariance,
)
from sklearn.datasets import load_iris
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis as QDA
from sklearn.exceptions import NotFittedError
from sklearn.mixture import GaussianMixture

from sklearn_onlinegauss import (
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
)
from sklearn_onlinegauss.export import from_sklearn, to_sklearn

TOL = 1e-10  # "equal to rounding": float64 reads of the same model, well conditioned


def _close(actual, desired, tol=TOL):
    """Equal to ``tol`` relative to the larger of 1 and the values' magnitude."""
    actual, desired = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    scale = max(1.0, float(np.max(np.abs(desired[np.isfinite(desired)]), initial=0.0)))
    np.testing.assert_allclose(actual, desired, rtol=0, atol=tol * scale)


def _iris(seed=0):
    X, y = load_iris(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(X))
    return X[order], y[order]


def _gaussian(n, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 3.0


def _stream(est, X, y=None, parts=4, **first):
    for i, rows in enumerate(np.array_split(np.arange(len(X)), parts)):
        if y is None:
            est.partial_fit(X[rows])
        else:
            est.partial_fit(X[rows], y[rows], **(first if i == 0 else {}))
    return est


# -- to_sklearn: the counterpart's reads are the estimator's ------------------------------

DENSITY_SETTINGS = [
    {},
    {"covariance_type": "diag"},
    {"covariance_type": "spherical"},
    {"shrinkage": 0.3},
    {"shrinkage": "oas"},
    {"shrinkage": "ledoit-wolf"},
    {"learning_rate": "constant", "eta0": 0.05},
    {"solver": "sgd", "learning_rate": "invscaling", "eta0": 0.1},
]


@pytest.mark.parametrize("settings", DENSITY_SETTINGS, ids=str)
@pytest.mark.filterwarnings("ignore::sklearn_onlinegauss.exceptions.ShrunkStepWarning")
def test_density_exports_as_empirical_covariance_with_the_same_reads(settings):
    X = _gaussian(400)
    est = _stream(OnlineGaussian(**settings), X)
    sk = to_sklearn(est)
    kind = {0.3: ShrunkCovariance, "oas": OAS, "ledoit-wolf": LedoitWolf}
    assert type(sk) is kind.get(settings.get("shrinkage"), EmpiricalCovariance)
    _close(sk.location_, est.location_)
    _close(sk.covariance_, est.covariance_)
    _close(sk.get_precision(), est.get_precision())
    _close(sk.mahalanobis(X), est.mahalanobis(X))
    _close(sk.score(X), est.score(X))  # EmpiricalCovariance's: the mean log-likelihood
    _close(sk.error_norm(np.eye(4), norm="spectral"), est.error_norm(np.eye(4), norm="spectral"))
    if "shrinkage" in settings:
        _close(sk.shrinkage_ if hasattr(sk, "shrinkage_") else sk.shrinkage, est.shrinkage_)
    assert sk.n_features_in_ == 4


CLASSIFIER_SETTINGS = [
    {},
    {"covariance_type": "diag"},
    {"covariance_type": "spherical"},
    {"covariance": "shared"},
    {"priors": [0.2, 0.3, 0.5]},
    {"covariance": "shared", "priors": [0.2, 0.3, 0.5]},
]


def _assert_classifier_reads(sk, est, X):
    np.testing.assert_array_equal(sk.predict(X), est.predict(X))
    _close(sk.predict_proba(X), est.predict_proba(X))
    _close(sk.predict_log_proba(X), est.predict_log_proba(X))
    ours, theirs = est.decision_function(X), sk.decision_function(X)
    if ours.ndim == 2:  # "up to a constant per row" (both): compared about each row's mean
        ours, theirs = ours - ours.mean(axis=1)[:, None], theirs - theirs.mean(axis=1)[:, None]
    _close(theirs, ours)
    _close(sk.score(X, est.predict(X)), 1.0)


@pytest.mark.parametrize("settings", CLASSIFIER_SETTINGS, ids=str)
def test_classifier_exports_as_qda_or_lda_with_the_same_reads(settings):
    X, y = _iris()
    est = _stream(OnlineGaussianClassifier(**settings), X, y, classes=[0, 1, 2])
    sk = to_sklearn(est)
    assert type(sk) is (LDA if settings.get("covariance") == "shared" else QDA)
    _assert_classifier_reads(sk, est, X)
    _close(sk.priors_, est.priors_)
    np.testing.assert_array_equal(sk.classes_, est.classes_)


@pytest.mark.parametrize("covariance", ["per-class", "shared"])
def test_binary_classifier_decision_function_is_the_log_odds_exactly(covariance):
    X, y = _iris()
    keep = y > 0
    est = OnlineGaussianClassifier(covariance=covariance).fit(X[keep], y[keep])
    sk = to_sklearn(est)
    _close(sk.decision_function(X), est.decision_function(X))
    _close(sk.predict_proba(X), est.predict_proba(X))


def _qda_divides_by_n_minus_1():
    """Whether this scikit-learn's QDA fit divides a class's scatter by ``n_k - 1`` (< 1.9.1)."""
    X, y = np.array([[0.0], [2.0], [0.0], [4.0]]), np.array([0, 0, 1, 1])
    return QDA().fit(X, y).scalings_[0][0] > 1.5  # the variance of 0 and 2: 1, or 2 unbiased


def test_exported_qda_and_lda_equal_their_own_fit_on_the_same_data():
    # The exported objects are what scikit-learn's own fit gives on the rows streamed
    # (QDA's covariances divided by n_k - 1 where its fit divides so: scikit-learn < 1.9.1).
    X, y = _iris()
    qda = to_sklearn(OnlineGaussianClassifier().fit(X, y))
    own = QDA(store_covariance=True).fit(X, y)
    n = np.bincount(y).astype(float)
    unbiased = n / (n - 1) if _qda_divides_by_n_minus_1() else np.ones_like(n)
    for mine, theirs, factor in zip(qda.covariance_, own.covariance_, unbiased, strict=True):
        _close(mine * factor, theirs, 1e-9)
    if not _qda_divides_by_n_minus_1():
        _close(qda.predict_proba(X), own.predict_proba(X), 1e-9)
    lda = to_sklearn(OnlineGaussianClassifier(covariance="shared").fit(X, y))
    own = LDA(solver="eigen").fit(X, y)
    for name in ("coef_", "intercept_", "covariance_", "means_", "explained_variance_ratio_"):
        _close(getattr(lda, name), getattr(own, name), 1e-9)
    # LDA's discriminant projection, each discriminant up to its sign (LAPACK's, in own).
    ours, theirs = lda.transform(X), own.transform(X)
    _close(ours * np.sign((ours * theirs).sum(axis=0)), theirs, 1e-9)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_mixture_exports_as_gaussian_mixture_with_the_same_reads(covariance_type):
    X, _ = _iris()
    est = _stream(
        OnlineGaussianMixture(3, covariance_type=covariance_type, init_size=60, random_state=0), X
    )
    sk = to_sklearn(est)
    assert sk.covariance_type == covariance_type
    np.testing.assert_array_equal(sk.predict(X), est.predict(X))
    _close(sk.predict_proba(X), est.predict_proba(X))
    _close(sk.score_samples(X), est.score_samples(X))
    _close(sk.score(X), est.score(X))
    _close(sk.bic(X), est.bic(X))
    _close(sk.aic(X), est.aic(X))
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        _close(getattr(sk, name), getattr(est, name))


@pytest.mark.parametrize(
    "how", ["fit", "partial_fit", "chi2"], ids=["after fit", "streamed", "threshold chi2"]
)
def test_detector_exports_as_elliptic_envelope_with_the_same_offset(how):
    X = _gaussian(600)
    est = OnlineEllipticEnvelope(
        contamination=0.05, threshold="chi2" if how == "chi2" else "quantile"
    )
    est = est.fit(X) if how == "fit" else _stream(est, X)
    sk = to_sklearn(est)
    assert sk.offset_ == est.offset_
    np.testing.assert_array_equal(sk.predict(X), est.predict(X))
    for read in ("score_samples", "decision_function", "mahalanobis"):
        _close(getattr(sk, read)(X), getattr(est, read)(X))
    assert hasattr(sk, "dist_") == (how == "fit")
    if how == "fit":
        _close(sk.dist_, est.dist_)
        np.testing.assert_array_equal(sk.support_, est.support_)


def test_the_export_is_a_copy_that_learning_more_does_not_change():
    X = _gaussian(200)
    est = OnlineGaussian().partial_fit(X[:100])
    sk = to_sklearn(est)
    before = sk.covariance_.copy()
    est.partial_fit(X[100:] * 3)
    np.testing.assert_array_equal(sk.covariance_, before)
    assert pickle.loads(pickle.dumps(sk)).covariance_.shape == (4, 4)


def test_feature_names_are_exported_and_imported():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(_gaussian(100), columns=list("abcd"))
    sk = to_sklearn(OnlineGaussian().fit(X))
    assert list(sk.feature_names_in_) == list("abcd")
    assert list(from_sklearn(sk, n_samples_seen=100).feature_names_in_) == list("abcd")


# -- to_sklearn's refusals ----------------------------------------------------------------


def test_to_sklearn_refuses_what_has_no_counterpart_in_one_line():
    X, y = _iris()
    cases = [
        (
            OnlineGaussianClassifier().partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2]),
            "seen no rows of classes [2]",
        ),
        (OnlineGaussianClassifier(shrinkage=0.1).fit(X, y), "shrinkage=0.1"),
        (OnlineGaussianMixture(2, shrinkage=0.1, random_state=0).fit(X), "shrinkage=0.1"),
        (
            OnlineGaussianMixture(2, init_size=100, random_state=0).partial_fit(X[:50]),
            "warm-up (50 of init_size=100",
        ),
    ]
    for est, message in cases:
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")) as e:
            to_sklearn(est)
        assert "\n" not in str(e.value)
    with pytest.raises(NotFittedError):
        to_sklearn(OnlineGaussian())
    with pytest.raises(TypeError, match="got a EmpiricalCovariance"):
        to_sklearn(EmpiricalCovariance().fit(X))


# -- the round trip: from_sklearn(to_sklearn(est)) then more partial_fit is est continued --


def _assert_same_estimate(a, b, reads, X):
    assert (a.n_samples_seen_, a.t_) == (b.n_samples_seen_, b.t_)
    for read in reads:
        value = getattr(a, read)
        _close(
            value(X) if callable(value) else value,
            getattr(b, read)(X) if callable(value) else getattr(b, read),
        )


ROUND_TRIP_DENSITY = [
    {},
    {"covariance_type": "diag"},
    {"covariance_type": "spherical"},
    {"learning_rate": "constant", "eta0": 0.05},
    {"learning_rate": "invscaling", "eta0": 0.5},
    {"shrinkage": 0.3},
    {"shrinkage": "oas"},
    {"solver": "sgd", "learning_rate": "invscaling", "eta0": 0.1},
]


@pytest.mark.parametrize("settings", ROUND_TRIP_DENSITY, ids=str)
@pytest.mark.filterwarnings("ignore::sklearn_onlinegauss.exceptions.ShrunkStepWarning")
def test_density_round_trip_continues_as_the_estimator(settings):
    X = _gaussian(900)
    est = _stream(OnlineGaussian(**settings), X[:600])
    carried = {k: v for k, v in settings.items() if k != "shrinkage"}  # the export's own
    back = from_sklearn(to_sklearn(est), n_samples_seen=est.n_samples_seen_, **carried)
    assert back.get_params() == est.get_params()
    _stream(est, X[600:], parts=3)
    _stream(back, X[600:], parts=3)
    _assert_same_estimate(
        back, est, ("location_", "covariance_", "shrinkage_", "score_samples"), X
    )


@pytest.mark.parametrize("settings", CLASSIFIER_SETTINGS, ids=str)
def test_classifier_round_trip_continues_as_the_estimator(settings):
    X, y = _iris()
    est = _stream(OnlineGaussianClassifier(**settings), X[:90], y[:90], classes=[0, 1, 2])
    carried = {k: v for k, v in settings.items() if k == "covariance_type"}
    seen = est.n_samples_seen_ if "priors" not in settings else est.class_count_
    if settings.get("covariance") == "shared" and "priors" in settings:
        with pytest.raises(ValueError, match="weighs its covariance_ by them"):
            from_sklearn(to_sklearn(est), n_samples_seen=seen)
        return
    back = from_sklearn(to_sklearn(est), n_samples_seen=seen, **carried)
    assert back.get_params()["covariance"] == est.covariance
    _stream(est, X[90:], y[90:], parts=3)
    _stream(back, X[90:], y[90:], parts=3)
    _assert_same_estimate(back, est, ("means_", "class_count_", "priors_", "predict_proba"), X)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("learning_rate", ["optimal", "constant"])
def test_mixture_round_trip_continues_as_the_estimator(covariance_type, learning_rate):
    X, _ = _iris()
    settings = {
        "covariance_type": covariance_type,
        "learning_rate": learning_rate,
        "eta0": 0.05,
        "init_size": 60,
        "batch_size": 20,
        "random_state": 0,
    }
    est = _stream(OnlineGaussianMixture(3, **settings), X[:90])
    carried = {k: v for k, v in settings.items() if k != "covariance_type"}
    back = from_sklearn(to_sklearn(est), n_samples_seen=est.n_samples_seen_, **carried)
    _stream(est, X[90:], parts=3)
    _stream(back, X[90:], parts=3)
    reads = ("weights_", "means_", "covariances_", "score_samples", "lower_bound_")
    _assert_same_estimate(back, est, reads, X)


@pytest.mark.parametrize(
    "settings", [{}, {"threshold": "chi2"}, {"learn_outliers": False}], ids=str
)
def test_detector_round_trip_after_fit_continues_as_the_estimator(settings):
    X = _gaussian(900)
    est = OnlineEllipticEnvelope(contamination=0.05, **settings).fit(X[:500])
    back = from_sklearn(to_sklearn(est), **settings)  # the envelope records its rows
    _close(back.dist_, est.dist_)
    np.testing.assert_array_equal(back.support_, est.support_)
    _stream(est, X[500:], parts=4)
    _stream(back, X[500:], parts=4)
    assert back.offset_ == pytest.approx(est.offset_, rel=TOL)
    _assert_same_estimate(back, est, ("location_", "covariance_", "decision_function"), X)


# -- from a scikit-learn fit: the stream goes on from it ----------------------------------


def test_an_exported_qda_reads_back_as_the_estimator_and_refitted_as_qdas_own_fit():
    # Where QDA's fit divides by n_k - 1, the export still holds the maximum-likelihood
    # covariances the estimator reads with: from_sklearn takes them as they are (after a
    # pickle too), and the same object refitted by QDA as its own fit's again.
    X, y = _iris()
    est = OnlineGaussianClassifier().fit(X, y)
    exported = to_sklearn(est)
    for sk in (exported, pickle.loads(pickle.dumps(exported))):
        back = from_sklearn(sk, n_samples_seen=len(X))
        _close(back.predict_proba(X), est.predict_proba(X))
        _close(back.predict_log_proba(X), est.predict_log_proba(X))
    refitted = from_sklearn(exported.fit(X, y), n_samples_seen=len(X))
    _close(refitted.predict_proba(X), est.predict_proba(X))
    _close(refitted.predict_log_proba(X), est.predict_log_proba(X))


def test_an_offline_fit_continued_on_a_stream_is_the_fit_of_all_rows():
    X, y = _iris()
    first, rest = slice(0, 90), slice(90, None)
    density = from_sklearn(EmpiricalCovariance().fit(X[first]), n_samples_seen=90)
    _close(density.partial_fit(X[rest]).covariance_, EmpiricalCovariance().fit(X).covariance_)
    # The maximum likelihood of all rows (QDA's own fit from scikit-learn 1.9.1 on; before,
    # QDA divides by n_k - 1, which from_sklearn undoes)
    all_rows = OnlineGaussianClassifier().fit(X, y).predict_proba(X)
    qda = from_sklearn(QDA().fit(X[first], y[first]), n_samples_seen=90)
    _close(qda.partial_fit(X[rest], y[rest]).predict_proba(X), all_rows)
    lda = from_sklearn(LDA(solver="lsqr").fit(X[first], y[first]), n_samples_seen=90)
    _close(lda.partial_fit(X[rest], y[rest]).covariance_, LDA(solver="lsqr").fit(X, y).covariance_)
    svd = LDA(store_covariance=True).fit(X[first], y[first])
    # its covariance_ is the pooled maximum likelihood, as lsqr's (its own predictions divide
    # by n - K before scikit-learn 1.9.1)
    lsqr = LDA(solver="lsqr").fit(X[first], y[first])
    _close(from_sklearn(svd, n_samples_seen=90).predict_proba(X), lsqr.predict_proba(X))
    reg = QDA(reg_param=0.3).fit(X[first], y[first])  # its regularization undone
    continued = from_sklearn(reg, n_samples_seen=90).partial_fit(X[rest], y[rest])
    _close(continued.predict_proba(X), all_rows)
    shrunk = from_sklearn(OAS().fit(X[first]), n_samples_seen=90).partial_fit(X[rest])
    _close(shrunk.covariance_, OAS().fit(X).covariance_)


def test_a_gaussian_mixture_imports_with_its_reads_and_learns_on():
    X, _ = _iris()
    gm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X)
    online = from_sklearn(gm, n_samples_seen=len(X))
    _close(online.score_samples(X), gm.score_samples(X))
    assert (online.n_components, online.covariance_type, online.converged_) == (3, "diag", True)
    online.partial_fit(X[:10])
    assert online.n_samples_seen_ == 160


def test_an_elliptic_envelope_imports_with_its_offset_and_support_count():
    X = _gaussian(300)
    ee = EllipticEnvelope(contamination=0.1, random_state=0).fit(X)
    online = from_sklearn(ee)
    assert online.offset_ == ee.offset_
    assert online.n_samples_seen_ == ee.support_.sum()  # the rows behind its estimate
    np.testing.assert_array_equal(online.predict(X), ee.predict(X))
    _close(online.decision_function(X), ee.decision_function(X))
    robust = from_sklearn(MinCovDet(random_state=0).fit(X))
    assert robust.n_samples_seen_ == MinCovDet(random_state=0).fit(X).support_.sum()


def test_from_sklearn_refuses_what_has_no_online_counterpart_in_one_line():
    X, y = _iris()
    cases = [
        (
            EmpiricalCovariance(assume_centered=True).fit(X),
            {"n_samples_seen": 1},
            "assume_centered=True",
        ),
        (EmpiricalCovariance().fit(X), {}, "pass n_samples_seen="),
        (EmpiricalCovariance().fit(X), {"n_samples_seen": 0}, "positive integer"),
        (LedoitWolf().fit(X), {"n_samples_seen": 150}, "sums of fourth powers"),
        (ShrunkCovariance(shrinkage=1.0).fit(X), {"n_samples_seen": 150}, "shrank fully"),
        (GraphicalLasso().fit(X), {"n_samples_seen": 150}, "sparse precision"),
        (LDA().fit(X, y), {"n_samples_seen": 150}, "store_covariance=True"),
        (LDA(solver="lsqr", shrinkage=0.5).fit(X, y), {"n_samples_seen": 150}, "shrinkage"),
        (QDA(priors=[0.2, 0.3, 0.5]).fit(X, y), {"n_samples_seen": 150}, "the 3 class counts"),
        (QDA().fit(X, y), {"n_samples_seen": [1, 2]}, "3 positive counts"),
        (
            GaussianMixture(2, random_state=0).fit(X),
            {"n_samples_seen": 150, "n_components": 3},
            "contradicts",
        ),
        (to_sklearn(_stream(OnlineEllipticEnvelope(), X)), {}, "has no dist_"),
    ]
    for fitted, kwargs, message in cases:
        with pytest.raises(ValueError, match=message) as e:
            from_sklearn(fitted, **kwargs)
        assert "\n" not in str(e.value), message
    with pytest.raises(NotFittedError):
        from_sklearn(EmpiricalCovariance(), n_samples_seen=1)
    with pytest.raises(TypeError, match="got a OnlineGaussian"):
        from_sklearn(OnlineGaussian().fit(X))


def test_a_qda_fitted_with_priors_imports_with_its_class_counts():
    X, y = _iris()
    qda = QDA(priors=[0.2, 0.3, 0.5]).fit(X, y)
    online = from_sklearn(qda, n_samples_seen=[50, 50, 50])
    _close(online.priors_, qda.priors_)
    mle = OnlineGaussianClassifier(priors=[0.2, 0.3, 0.5]).fit(X, y)  # QDA's from 1.9.1 on
    _close(online.predict_proba(X), mle.predict_proba(X))
    np.testing.assert_array_equal(online.class_count_, [50, 50, 50])


# -- ONNX, through the exported model -----------------------------------------------------

U = 2.0**-24  # float32's unit roundoff


def _gamma(n):
    return n * U / (1 - n * U)


def _quadratic_bound(X, means, factors, constants):
    """Bound on the float32 error of ``-(|(x - mu_k) A_k|^2 + c_k) / 2`` per row and k.

    However the graph evaluates the form, centred (``(x - mu) A``, squared) or
    expanded (``|x A|^2 - 2 x A A' mu + |mu A|^2``, as skl2onnx does for 'diag'),
    each of its d-term sums errs by at most ``gamma(d + 3)`` (d products, and
    the rounding of ``x``, ``mu`` and ``A`` to float32) times the sum of its
    terms' magnitudes, which is at most ``w_j^2`` with ``w = (|x| + |mu|) |A|``:
    ``dD <= 2 gamma(d + 3) |w|^2``. This is float32's relative error times the
    condition number of the form at that row, ``|w|^2 / D``, large where the
    row and the mean cancel. The constant adds ``gamma(d + 1) (|c| + 1)``.
    """
    d = X.shape[1]
    bounds = []
    for mu, A, c in zip(means, factors, constants, strict=True):
        w = (np.abs(X) + np.abs(mu)) @ np.abs(A)
        dD = 2 * _gamma(d + 3) * (w**2).sum(axis=1)
        bounds.append(0.5 * (dD + _gamma(d + 1) * (abs(c) + 1)))
    return np.array(bounds).T  # (n, K)


def _factors(sk):
    """Each component's ``A`` with ``A A'`` its precision, and its constant term."""
    if isinstance(sk, QDA):
        A = [R / np.sqrt(S) for R, S in zip(sk.rotations_, sk.scalings_, strict=True)]
        return sk.means_, A, [np.log(S).sum() for S in sk.scalings_]
    K, d = sk.means_.shape
    P = {
        "full": lambda: sk.precisions_cholesky_,
        "tied": lambda: [sk.precisions_cholesky_] * K,
        "diag": lambda: [np.diag(p) for p in sk.precisions_cholesky_],
        "spherical": lambda: [p * np.eye(d) for p in sk.precisions_cholesky_],
    }[sk.covariance_type]()
    c = [d * np.log(2 * np.pi) - 2 * np.log(np.abs(np.diag(A))).sum() for A in P]
    return sk.means_, P, c


def _score_bound(sk, X):
    """Bound on each row's per-class (or component) score error in float32, (n, K)."""
    if isinstance(sk, LDA):  # x . coef_k + b_k: a dot product of d terms and a sum
        coef, b = np.atleast_2d(sk.coef_), np.atleast_1d(sk.intercept_)
        return _gamma(X.shape[1] + 3) * (np.abs(X) @ np.abs(coef).T + np.abs(b))
    means, factors, constants = _factors(sk)
    log_weights = np.log(sk.priors_ if isinstance(sk, QDA) else sk.weights_)
    return _quadratic_bound(X, means, factors, constants) + _gamma(2) * np.abs(log_weights)


def _run_onnx(sk, X, options):
    skl2onnx = pytest.importorskip("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    onx = skl2onnx.to_onnx(sk, X[:1].astype(np.float32), options=options)
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})


def _assert_labels_where_decided(labels, est, X, scores, bound):
    """Labels equal wherever the top two scores differ by more than their error bounds."""
    top2 = np.sort(scores, axis=1)[:, -2:]
    decided = top2[:, 1] - top2[:, 0] > 2 * bound.max(axis=1)
    assert decided.mean() > 0.9
    np.testing.assert_array_equal(np.ravel(labels)[decided], est.predict(X)[decided])


ONNX_CASES = [
    ("per-class", OnlineGaussianClassifier()),
    ("shared", OnlineGaussianClassifier(covariance="shared")),
    ("shared binary", OnlineGaussianClassifier(covariance="shared")),
    *[
        (t, OnlineGaussianMixture(3, covariance_type=t, init_size=60, random_state=0))
        for t in ("full", "tied", "diag", "spherical")
    ],
]


@pytest.mark.parametrize("name, est", ONNX_CASES, ids=[c[0] for c in ONNX_CASES])
def test_onnx_graph_of_the_export_equals_the_estimator_within_float32_bounds(name, est):
    X, y = _iris()
    if "binary" in name:
        X, y = X[y > 0], y[y > 0]
    mixture = isinstance(est, OnlineGaussianMixture)
    est = _stream(est, X) if mixture else _stream(est, X, y, classes=np.unique(y))
    sk = to_sklearn(est)
    options = {"score_samples": True} if mixture else {"zipmap": False}
    outputs = _run_onnx(sk, X, options)
    bound = _score_bound(sk, X)  # (n, K) per-score bounds
    if "binary" in name:  # skl2onnx's LinearClassifier of a binary LDA: labels right, ...
        np.testing.assert_array_equal(np.ravel(outputs[0]), est.predict(X))
        doubled = 1 / (1 + np.exp(-2 * est.decision_function(X)))  # ... expit(2 d), not expit(d)
        if np.allclose(outputs[1][:, 1], doubled, rtol=0, atol=1e-5):
            pytest.xfail("skl2onnx's binary LDA gives expit(2 d) (onnx/sklearn-onnx#1116)")
    # Softmax: p_k moves by at most p_k (ds_k + sum_j p_j ds_j), to first order, plus
    # float32's rounding of the exponentials and their sum.
    p = est.predict_proba(X)
    mean_bound = (p * bound).sum(axis=1, keepdims=True)
    tol_proba = p * (bound + mean_bound) + 4 * U
    error = np.abs(outputs[1] - p)
    assert np.all(error <= tol_proba), (error / tol_proba).max()
    scores = est.predict_log_proba(X) if not mixture else np.log(est.predict_proba(X) + 1e-300)
    _assert_labels_where_decided(outputs[0], est, X, scores, bound)
    if mixture:  # log-sum-exp errs by the responsibilities' mean of its terms' errors
        tol = mean_bound[:, 0] + 4 * U * np.abs(est.score_samples(X))
        error = np.abs(outputs[2].ravel() - est.score_samples(X))
        assert np.all(error <= tol), (error / tol).max()


def test_the_documented_onnx_one_liner_runs():
    X, y = _iris()
    skl2onnx = pytest.importorskip("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    est = OnlineGaussianMixture(3, random_state=0).fit(X)
    onx = skl2onnx.to_onnx(to_sklearn(est), X[:1].astype(np.float32))
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    labels = session.run(None, {"X": X.astype(np.float32)})[0]
    assert np.mean(np.ravel(labels) == est.predict(X)) > 0.99


@pytest.mark.parametrize("n_components", [None, 1])
def test_exported_lda_transform_is_the_classifiers_own_projection(n_components):
    X, y = _iris()
    est = OnlineGaussianClassifier(covariance="shared", n_components=n_components).fit(X, y)
    sk = to_sklearn(est)
    # The same discriminants, signs included: the export carries the classifier's.
    np.testing.assert_array_equal(sk.scalings_, est.scalings_)
    _close(sk.transform(X), est.transform(X))
    _close(sk.explained_variance_ratio_, est.explained_variance_ratio_)
    assert sk.transform(X).shape == (len(X), n_components or 2)
    np.testing.assert_array_equal(sk.coef_, est.coef_)
    np.testing.assert_array_equal(sk.intercept_, est.intercept_)


def test_merged_and_loaded_estimators_export(tmp_path):
    from sklearn_onlinegauss import load_model, merge, save_model

    X = _gaussian(400)
    parts = [OnlineEllipticEnvelope().fit(part) for part in np.array_split(X, 2)]
    merged = merge(parts)
    save_model(parts[0], tmp_path / "detector.npz")
    for est in (merged, load_model(tmp_path / "detector.npz")):
        sk = to_sklearn(est)
        assert not hasattr(sk, "dist_")  # neither keeps fit's rows
        _close(sk.decision_function(X), est.decision_function(X))
