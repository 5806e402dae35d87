"""The contract every estimator of the family keeps, driven by one registry.

A new estimator (or a new main setting of one) gets every test of this
file by being listed once in :data:`REGISTRY`; the few per-kind facts the
tests need (which parameter is structural, which are rates, what a merge
is expected to equal) are looked up by kind below, so that a kind without
them fails loudly rather than being skipped.
"""

import copy
import pickle
import warnings

import numpy as np
import pytest
from scipy.stats import chi2
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from sklearn_onlinegauss import (
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
    load_model,
    merge,
    save_model,
)

#: ``(id, factory of a new unfitted estimator, whether it needs y)``.
REGISTRY = [
    ("gaussian", lambda: OnlineGaussian(), False),
    ("gaussian-sgd", lambda: OnlineGaussian(solver="sgd"), False),
    ("gaussian-adam", lambda: OnlineGaussian(solver="adam"), False),
    (
        "gaussian-adam-whiten",
        lambda: OnlineGaussian(solver="adam", preconditioner="whiten"),
        False,
    ),
    ("gaussian-riemannian", lambda: OnlineGaussian(solver="riemannian"), False),
    ("gaussian-diag", lambda: OnlineGaussian(covariance_type="diag"), False),
    ("classifier", lambda: OnlineGaussianClassifier(), True),
    ("classifier-shared", lambda: OnlineGaussianClassifier(covariance="shared"), True),
    ("classifier-ledoit-wolf", lambda: OnlineGaussianClassifier(shrinkage="ledoit-wolf"), True),
    (
        "gaussian-ledoit-wolf-diag",
        lambda: OnlineGaussian(shrinkage="ledoit-wolf", shrinkage_target="diag"),
        False,
    ),
    (
        "classifier-ledoit-wolf-diag",
        lambda: OnlineGaussianClassifier(shrinkage="ledoit-wolf", shrinkage_target="diag"),
        True,
    ),
    ("mixture-default", lambda: OnlineGaussianMixture(), False),
    ("mixture", lambda: OnlineGaussianMixture(n_components=2, random_state=0), False),
    (
        "mixture-tied",
        lambda: OnlineGaussianMixture(2, covariance_type="tied", random_state=0),
        False,
    ),
    (
        "mixture-diag",
        lambda: OnlineGaussianMixture(2, covariance_type="diag", random_state=0),
        False,
    ),
    ("detector", lambda: OnlineEllipticEnvelope(), False),
    ("detector-learn-inliers", lambda: OnlineEllipticEnvelope(learn_outliers=False), False),
    (
        "detector-composed",
        lambda: OnlineEllipticEnvelope(estimator=OnlineGaussian(), contamination=0.1),
        False,
    ),
]

ENTRIES = [pytest.param(factory, needs_y, id=name) for name, factory, needs_y in REGISTRY]

N_FEATURES = 3
CLASSES = np.array([0, 1, 2])


_MIXING = np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])


def _data(n=300, seed=0):
    """``n`` rows of 3 correlated features and their labels: 3 classes whose means are
    6 to 9 sd apart (clusters clear enough for the mixture's EM to settle quickly)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = 3.0 * np.array([[1.0, -2.0, 0.5], [3.0, 0.0, 0.5], [1.0, 1.0, -1.5]])
    return centres[y] + rng.normal(size=(n, N_FEATURES)) @ _MIXING, y


def _gaussian(n=300, seed=0):
    """``n`` rows of one Gaussian (correlated features), and labels as ``_data``'s."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, N_FEATURES)) @ _MIXING + [1.0, -2.0, 0.5], rng.integers(0, 3, n)


def _fit(est, X, y, needs_y):
    return est.fit(X, y) if needs_y else est.fit(X)


def _partial_fit(est, X, y, needs_y):
    if not needs_y:
        return est.partial_fit(X)
    if est.__sklearn_is_fitted__():
        return est.partial_fit(X, y)
    return est.partial_fit(X, y, classes=CLASSES)  # all classes on the first call


_FITTED = {}


def _fit_quietly(est, X, y, needs_y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # adam's shrunk steps, EM's convergence notes
        return _fit(est, X, y, needs_y)


def _fitted(factory, needs_y, fresh=False):
    """``(estimator fitted on _data(), X, y)``: a copy of one fit per entry, or a new fit."""
    X, y = _data()
    if fresh:
        return _fit_quietly(factory(), X, y, needs_y), X, y
    if factory not in _FITTED:
        _FITTED[factory] = _fit_quietly(factory(), X, y, needs_y)
    return copy.deepcopy(_FITTED[factory]), X, y


def _reads(est, X):
    """Every per-row read the estimator has: its scores, probabilities, decisions."""
    names = ("score_samples", "predict_proba", "decision_function", "predict")
    reads = {name: getattr(est, name)(X) for name in names if hasattr(est, name)}
    assert reads, f"{type(est).__name__} has no per-row read"
    return reads


def _assert_reads_equal(a, b, X):
    ra, rb = _reads(a, X), _reads(b, X)
    assert ra.keys() == rb.keys()
    for name in ra:
        np.testing.assert_array_equal(ra[name], rb[name], err_msg=name)


def _assert_continue_identically(a, b, X, y, needs_y):
    """After one more ``partial_fit`` of the same rows, ``a`` and ``b`` read the same."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _partial_fit(a, X, y, needs_y)
        _partial_fit(b, X, y, needs_y)
    _assert_reads_equal(a, b, X)


# -- scikit-learn's estimator checks ------------------------------------------------------


def _expected_failed_checks(estimator):
    """The checks an entry is known to fail, each with its reason (none but these)."""
    if isinstance(estimator, OnlineGaussianMixture) and estimator.n_components > 1:
        return {
            # Label switching, not a weighting error: fitted on the rows weighted
            # (in the check's shuffled order) and on the rows repeated, the mixture
            # is the same (equal score_samples) with its components found in
            # another order, so predict_proba's columns are swapped; the check
            # compares them column by column. The equivalence itself is tested up
            # to that order in test_mixture_weights_count_as_repeated_rows below.
            "check_sample_weight_equivalence_on_dense_data": (
                "label switching: the same mixture with its components in another order"
            ),
        }
    return {}


@parametrize_with_checks(
    [factory() for _, factory, _ in REGISTRY],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


MIXTURES = [entry for entry in ENTRIES if isinstance(entry.values[0](), OnlineGaussianMixture)]


@pytest.mark.parametrize(("factory", "needs_y"), MIXTURES)
def test_mixture_weights_count_as_repeated_rows(factory, needs_y):
    """scikit-learn's weight-equivalence check, with the components matched first.

    On blobs 20 sd apart, one per component, so that the mixture is unique up
    to the order of its components, whatever the initialization sees.
    """
    est = factory()
    rng = np.random.RandomState(42)
    X, _ = _blobs(40, seed=1, n_blobs=est.n_components)
    weights = rng.randint(0, 5, size=len(X))
    order = rng.permutation(len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        repeated = clone(est).fit(X.repeat(weights, axis=0))
        weighted = clone(est).fit(X[order], sample_weight=weights[order])
    np.testing.assert_allclose(weighted.score_samples(X), repeated.score_samples(X), rtol=1e-7)
    a, b = weighted.predict_proba(X), repeated.predict_proba(X)
    match = [int(np.argmax(b[np.argmax(a[:, i])])) for i in range(a.shape[1])]
    assert sorted(match) == list(range(b.shape[1]))  # a permutation
    np.testing.assert_allclose(a, b[:, match], rtol=1e-7, atol=1e-9)


# -- persistence -----------------------------------------------------------------------------


#: How the estimator to save was fitted: ``fit`` on 300 rows (the mixture is still in
#: its warm-up, holding the rows), or one ``partial_fit`` of 1200 rows (past it).
STAGES = ["fit", "streamed"]


def _to_save(factory, needs_y, stage):
    if stage == "fit":
        return _fitted(factory, needs_y, fresh=True)
    X, y = _data(1200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = _partial_fit(factory(), X, y, needs_y)
    return est, X[:300], y[:300]


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize(("factory", "needs_y"), ENTRIES)
def test_model_file_round_trip_reads_and_continues_bit_for_bit(factory, needs_y, stage, tmp_path):
    est, X, y = _to_save(factory, needs_y, stage)
    path = tmp_path / "model.npz"
    save_model(est, path)
    loaded = load_model(path)
    assert type(loaded) is type(est)
    _assert_reads_equal(loaded, est, X)
    _assert_continue_identically(loaded, est, X, y, needs_y)


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize(("factory", "needs_y"), ENTRIES)
def test_pickle_round_trip_reads_and_continues_identically(factory, needs_y, stage):
    est, X, y = _to_save(factory, needs_y, stage)  # a new fit, not itself a copy
    restored = pickle.loads(pickle.dumps(est))
    _assert_reads_equal(restored, est, X)
    _assert_continue_identically(restored, est, X, y, needs_y)


def _params(est):
    """``get_params(deep=True)`` with nested estimators compared by kind and settings."""
    return {
        k: (type(v), _params(v)) if isinstance(v, BaseEstimator) else v
        for k, v in est.get_params(deep=True).items()
    }


@pytest.mark.parametrize(("factory", "needs_y"), ENTRIES)
def test_clone_is_unfitted_with_equal_params(factory, needs_y):
    est, X, _ = _fitted(factory, needs_y)
    cloned = clone(est)
    assert type(cloned) is type(est)
    assert _params(cloned) == _params(est)
    assert not cloned.__sklearn_is_fitted__()
    with pytest.raises(NotFittedError):
        check_is_fitted(cloned)
    names = ("score_samples", "predict_proba", "decision_function", "predict")
    for name in (name for name in names if hasattr(type(cloned), name)):
        with pytest.raises(NotFittedError):
            getattr(cloned, name)(X)
    # the original is still fitted, and it is not shared with the clone
    assert est.__sklearn_is_fitted__()
    _reads(est, X)


# -- merge --------------------------------------------------------------------------------


def _exact(est):
    """Whether one pass is the exact estimate, whatever the chunking (merge and dask: to rounding).

    The default schedules of the density and the classifier; the detector's when its
    density's is.
    """
    if isinstance(est, OnlineEllipticEnvelope):  # the rows it flags are not all learned
        return est.learn_outliers and _exact(est.estimator or OnlineGaussian())
    if isinstance(est, OnlineGaussian):
        return est.solver == "natural" and est.learning_rate == "optimal" and not est.average
    if isinstance(est, OnlineGaussianClassifier):
        return est.learning_rate == "optimal"
    return False


def _learned(est):
    """The learned parameters, by name, of each kind (the detector's are its density's)."""
    if isinstance(est, OnlineEllipticEnvelope):
        return _learned(est.estimator_)
    if isinstance(est, OnlineGaussian):
        return {"location_": est.location_, "covariance_": est.covariance_}
    if isinstance(est, OnlineGaussianClassifier):
        names = ["class_count_", "priors_", "means_"]
        names.append("covariance_" if est.covariance == "shared" else "covariances_")
        return {name: getattr(est, name) for name in names}
    if isinstance(est, OnlineGaussianMixture):
        return {"weights_": est.weights_, "means_": est.means_, "covariances_": est.covariances_}
    raise AssertionError(f"no learned parameters listed for {type(est).__name__}")


def _assert_same_estimate(a, b, X):
    """Equal learned parameters and reads, to rounding (rtol 1e-10)."""
    la, lb = _learned(a), _learned(b)
    for name in la:
        np.testing.assert_allclose(la[name], lb[name], rtol=1e-10, atol=1e-13, err_msg=name)
    ra, rb = _reads(a, X), _reads(b, X)
    for name in ("score_samples", "predict_proba"):
        if name in ra:
            np.testing.assert_allclose(ra[name], rb[name], rtol=1e-10, atol=1e-13, err_msg=name)


def _split(n, parts, seed=1):
    """Disjoint random row sets covering ``range(n)``."""
    return np.array_split(np.random.default_rng(seed).permutation(n), parts)


def _assert_merged_reads(merged, est, X):
    """A fitted estimator of ``est``'s kind and settings, with finite reads."""
    assert type(merged) is type(est)
    assert merged.__sklearn_is_fitted__()
    assert _params(merged) == _params(est)
    reads = _reads(merged, X)
    assert all(np.all(np.isfinite(v)) for v in reads.values() if v.dtype.kind == "f")


@pytest.mark.parametrize(("factory", "needs_y"), ENTRIES)
def test_merge_of_disjoint_parts(factory, needs_y):
    est = factory()
    if isinstance(est, OnlineGaussianMixture):
        return _check_mixture_merge(est)
    # the detector's threshold tolerance is derived for Gaussian rows
    X, y = _gaussian(300) if isinstance(est, OnlineEllipticEnvelope) else _data(300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = _fit(clone(est), X, y, needs_y)
        parts = [_fit(clone(est), X[rows], y[rows], needs_y) for rows in _split(len(X), 3)]
    snapshots = [pickle.dumps(part) for part in parts]
    merged = merge(parts)
    assert [pickle.dumps(part) for part in parts] == snapshots  # the inputs are untouched
    if _exact(est):
        _assert_same_estimate(merged, whole, X)
        assert merged.n_samples_seen_ == len(X)
    if isinstance(est, OnlineEllipticEnvelope):
        _assert_offset_close(merged, whole, X)
    _assert_merged_reads(merged, est, X)


def _assert_offset_close(merged, whole, X):
    """The merged threshold is the one fit's to within the sampling error of that quantile.

    The one fit's offset is minus the exact ``1 - contamination`` quantile ``q`` of
    its rows' distances; the merge's comes from the parts' pooled histograms of
    distances (each part's rows under its own density). Both estimate the same
    quantile from the same rows, so they may differ by far less than the sample
    quantile's standard error ``sqrt(p (1 - p) / n) / f(q)`` (``f``: the chi2 density
    of the distances of Gaussian rows), which is the tolerance.
    """
    p = whole.contamination
    d = X.shape[1]
    q = chi2.ppf(1 - p, d)
    standard_error = np.sqrt(p * (1 - p) / len(X)) / chi2.pdf(q, d)
    assert np.isfinite(merged.offset_)
    assert abs(merged.offset_ - whole.offset_) < standard_error


def _blobs(n=3000, seed=0, n_blobs=3):
    """Unit Gaussian blobs 20 standard deviations apart, and which blob each row is."""
    rng = np.random.default_rng(seed)
    blob = rng.integers(0, n_blobs, n)
    centres = 20.0 * np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])[:n_blobs]
    return centres[blob] + rng.normal(size=(n, N_FEATURES)), blob


def _check_mixture_merge(est):
    X, blob = _blobs()
    est = est.set_params(n_components=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = clone(est).fit(X)
        parts = [clone(est).fit(X[rows]) for rows in _split(len(X), 2)]
    merged = merge(parts)
    assert merged.n_samples_seen_ == len(X)

    def by_location(model):  # components in a fixed order: by their means' coordinates
        means = model.means_
        return means[np.lexsort(means.T[::-1])]

    # Tolerance from the sampling error: with blobs 20 sd apart every responsibility is
    # 0 or 1 to within exp(-200), so both fits estimate each blob's mean from its rows.
    # Two estimates from the same rows differ by much less than one from half of them:
    # 4 standard errors of a blob mean from the smallest blob within one part
    # (unit variance: 1 / sqrt(rows)), about 0.25 here -- 80 times less than the
    # distance between blobs, so a mismatched component fails by far.
    smallest = min(np.bincount(blob[rows], minlength=3).min() for rows in _split(len(X), 2))
    tolerance = 4.0 / np.sqrt(smallest)
    np.testing.assert_allclose(by_location(merged), by_location(whole), atol=tolerance)
    # and both found the blobs (the one fit is not itself off)
    truth = np.array([[X[blob == k].mean(0) for k in range(3)]])[0]
    np.testing.assert_allclose(
        by_location(whole), truth[np.lexsort(truth.T[::-1])], atol=tolerance
    )
    np.testing.assert_allclose(np.sort(merged.weights_), np.sort(whole.weights_), atol=0.02)
    _assert_merged_reads(merged, est, X[:300])


# -- dask -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n_blocks", [1, 4])
@pytest.mark.parametrize(("factory", "needs_y"), ENTRIES)
def test_dask_fit(factory, needs_y, n_blocks):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    from sklearn_onlinegauss import dask as og_dask

    est = factory()
    X, y = _data(300)
    rows = len(X) // n_blocks
    dX = da.from_array(X, chunks=(rows, N_FEATURES))
    dy = da.from_array(y, chunks=rows) if needs_y else None
    assert dX.numblocks == (n_blocks, 1)
    with dask.config.set(scheduler="synchronous"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = og_dask.fit(est, dX, dy)
        if _exact(est):
            reference = _fit(clone(est), X, y, needs_y)
        elif n_blocks == 1:  # one block: one partial_fit of all the rows
            reference = _partial_fit(clone(est), X, y, needs_y)
        else:  # a weighted average of parts: nothing to equal
            reference = None
    assert type(fitted) is type(est)
    assert not est.__sklearn_is_fitted__()  # the template is not modified
    assert fitted.n_samples_seen_ == len(X)
    if reference is not None:
        _assert_same_estimate(fitted, reference, X)
    _assert_merged_reads(fitted, est, X)


VIAS = ["merge", "dask-4-blocks"]


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize(("factory", "needs_y"), ENTRIES)
def test_merged_estimator_streams_on(factory, needs_y, via):
    """What merge (or dask.fit, which merges) returns takes more partial_fit calls.

    For the exact schedules it is then the fit of all the rows seen, to rounding.
    """
    est = factory()
    X, y = _data(300)
    old, new = slice(0, 250), slice(250, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if via == "merge":
            halves = _split(250, 2)
            merged = merge([_fit(clone(est), X[r], y[r], needs_y) for r in halves])
        else:
            dask = pytest.importorskip("dask")
            da = pytest.importorskip("dask.array")
            from sklearn_onlinegauss import dask as og_dask

            dy = da.from_array(y[old], chunks=63) if needs_y else None
            with dask.config.set(scheduler="synchronous"):
                merged = og_dask.fit(est, da.from_array(X[old], chunks=(63, N_FEATURES)), dy)
        _partial_fit(merged, X[new], y[new], needs_y)
        _partial_fit(merged, X[new], y[new], needs_y)  # the streaming path as well
    if getattr(est, "learn_outliers", True):
        assert merged.n_samples_seen_ == 350
    else:  # the rows a fitted detector flags are not learned
        assert 300 <= merged.n_samples_seen_ < 350
    _assert_merged_reads(merged, est, X)
    if _exact(est):
        rows = np.r_[np.arange(300), np.arange(250, 300)]
        _assert_same_estimate(merged, _fit_quietly(clone(est), X[rows], y[rows], needs_y), X)


# -- a failed call changes nothing ----------------------------------------------------------


def _with_nan(X):
    X = X.copy()
    X[7, 1] = np.nan
    return X


BAD_BATCHES = {
    "nan": lambda X: _with_nan(X[:50]),
    "wrong-n-features": lambda X: X[:50, :2],
}


PATHS = ["streaming", "after-set-params"]


def _failed_call_cases():
    for name, factory, needs_y in REGISTRY:
        for bad in BAD_BATCHES:
            for path in PATHS:
                yield pytest.param(factory, needs_y, bad, path, id=f"{name}-{bad}-{path}")


def _failing_call(factory, needs_y, bad, path):
    """A fitted estimator (after ``set_params`` of a rate for the validated path) and
    the call that must fail on it."""
    est, X, y = _fitted(factory, needs_y)
    if path == "after-set-params":  # the validated path rather than the streaming one
        est.set_params(**_rate_changes(est)[0])

    def call():
        with pytest.raises(ValueError):
            _partial_fit(est, BAD_BATCHES[bad](X), y[:50], needs_y)

    return est, X, y, call


@pytest.mark.parametrize(("factory", "needs_y", "bad", "path"), list(_failed_call_cases()))
def test_failed_partial_fit_changes_nothing(factory, needs_y, bad, path):
    est, X, y, call = _failing_call(factory, needs_y, bad, path)
    untouched = copy.deepcopy(est)
    before = dict(vars(est))
    call()
    after = vars(est)
    assert after.keys() == before.keys()
    for name, value in before.items():  # the very objects, or equal ones
        assert after[name] is value or pickle.dumps(after[name]) == pickle.dumps(value), name
    # and it streams on as if the call had not been made
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _partial_fit(est, X[:50], y[:50], needs_y)
        _partial_fit(untouched, X[:50], y[:50], needs_y)
    _assert_reads_equal(est, untouched, X)


@pytest.mark.parametrize(("factory", "needs_y", "bad", "path"), list(_failed_call_cases()))
def test_failed_partial_fit_leaves_the_pickle_unchanged(factory, needs_y, bad, path):
    est, _, _, call = _failing_call(factory, needs_y, bad, path)
    before = pickle.dumps(est)
    call()
    assert pickle.dumps(est) == before


# -- set_params between calls ---------------------------------------------------------------


def _other(value, options):
    return next(option for option in options if option != value)


def _structural_changes(est):
    """``(params, name the error must give)`` changing what the learned state means."""
    if isinstance(est, OnlineGaussian):
        return [
            (
                {"covariance_type": _other(est.covariance_type, ["spherical", "full"])},
                "covariance_type",
            )
        ]
    if isinstance(est, OnlineGaussianClassifier):
        changes = [({"covariance": _other(est.covariance, ["per-class", "shared"])}, "covariance")]
        if est.covariance == "per-class":  # shared needs 'full'
            changes.append(({"covariance_type": "diag"}, "covariance_type"))
        return changes
    if isinstance(est, OnlineGaussianMixture):
        return [
            ({"n_components": est.n_components + 1}, "n_components"),
            (
                {"covariance_type": _other(est.covariance_type, ["spherical", "full"])},
                "covariance_type",
            ),
        ]
    if isinstance(est, OnlineEllipticEnvelope):
        if est.estimator is None:
            return [
                (
                    {"estimator": OnlineGaussian(covariance_type="diag")},
                    "estimator__covariance_type",
                )
            ]
        other = _other(est.estimator.covariance_type, ["diag", "full"])
        return [({"estimator__covariance_type": other}, "estimator__covariance_type")]
    raise AssertionError(f"no structural parameter listed for {type(est).__name__}")


def _rate_changes(est):
    """Parameter changes the next call takes as they are (rates, regularization)."""
    if isinstance(est, OnlineEllipticEnvelope):
        if est.estimator is None:
            return [
                {"estimator": OnlineGaussian(learning_rate="constant", eta0=0.1)},
                {"estimator": OnlineGaussian(reg_covar=1e-3)},
                {"contamination": 0.2},
            ]
        return [
            {"estimator__learning_rate": "constant", "estimator__eta0": 0.1},
            {"estimator__reg_covar": 1e-3},
            {"contamination": 0.2},
        ]
    if isinstance(getattr(est, "shrinkage", None), str):  # needs the exact schedule
        return [{"reg_covar": 1e-3}, {"eta0": 0.05}]
    if isinstance(est, OnlineGaussian | OnlineGaussianClassifier | OnlineGaussianMixture):
        return [{"learning_rate": "constant", "eta0": 0.1}, {"reg_covar": 1e-3}, {"eta0": 0.05}]
    raise AssertionError(f"no rate listed for {type(est).__name__}")


def _structural_cases():
    for name, factory, needs_y in REGISTRY:
        for i, (_, param) in enumerate(_structural_changes(factory())):
            yield pytest.param(factory, needs_y, i, id=f"{name}-{param}")


def _rate_cases():
    for name, factory, needs_y in REGISTRY:
        for i, change in enumerate(_rate_changes(factory())):
            yield pytest.param(factory, needs_y, i, id=f"{name}-{'-'.join(change)}")


@pytest.mark.parametrize(("factory", "needs_y", "i"), list(_structural_cases()))
def test_structural_change_is_refused_by_partial_fit_and_changes_nothing(factory, needs_y, i):
    est, X, y = _fitted(factory, needs_y)
    change, name = _structural_changes(est)[i]
    reads = _reads(est, X)
    est.set_params(**change)
    before = pickle.dumps(est)
    # the message names it with its values (the detector's: its density's parameter)
    with pytest.raises(ValueError, match=rf"\b{name}="):
        _partial_fit(est, X[:50], y[:50], needs_y)
    assert pickle.dumps(est) == before
    # set back, it continues as if nothing had been tried
    est.set_params(**{k: factory().get_params()[k] for k in change})
    for read, value in _reads(est, X).items():
        np.testing.assert_array_equal(value, reads[read], err_msg=read)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _partial_fit(est, X[:50], y[:50], needs_y)


@pytest.mark.parametrize(("factory", "needs_y", "i"), list(_rate_cases()))
def test_rate_change_is_taken_by_the_next_call(factory, needs_y, i):
    est, X, y = _fitted(factory, needs_y)
    change = _rate_changes(est)[i]
    unchanged = pickle.loads(pickle.dumps(est))
    est.set_params(**change)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _partial_fit(est, X[:50], y[:50], needs_y)
        _partial_fit(unchanged, X[:50], y[:50], needs_y)
    params = est.get_params()
    assert all(params[k] is v or params[k] == v for k, v in change.items())
    _reads(est, X)
    # the new schedule is the one the call took: a constant rate of 0.1 weighs 50 new
    # rows far more than the exact schedule's 50 / 350
    if "learning_rate" in change or "estimator__learning_rate" in change:
        a, b = _learned(est), _learned(unchanged)
        assert any(not np.allclose(a[k], b[k], rtol=1e-6) for k in a)
    # flagging more of the stream is a higher threshold on the scores
    if "contamination" in change:
        assert est.offset_ > unchanged.offset_


# -- weights are relative ---------------------------------------------------------------

WEIGHT_SCALES = [1e-3, 1 / 300, 7.0]

#: Entries whose estimate depends on the number of rows, where a weight counts as that many
#: rows (scikit-learn's meaning of sample_weight; user guide, "Mini-batches and weights"):
#: the Ledoit-Wolf intensity takes the total weight as n. Repeated rows are checked for them
#: by scikit-learn's check_sample_weight_equivalence above.
_COUNTS_ROWS = {
    "classifier-ledoit-wolf",
    "gaussian-ledoit-wolf-diag",
    "classifier-ledoit-wolf-diag",
}


def _weight_scale_cases():
    for name, factory, needs_y in REGISTRY:
        if name in _COUNTS_ROWS:
            continue
        for how in ("fit", "partial_fit"):
            for c in WEIGHT_SCALES:
                yield pytest.param(factory, needs_y, how, c, id=f"{name}-{how}-{c:.4g}")


def _estimates(est):
    """What the estimator learned that must not depend on the weights' units."""
    estimates = {k: v for k, v in _learned(est).items() if k != "class_count_"}  # a weight
    if isinstance(est, OnlineEllipticEnvelope):
        estimates["offset_"] = est.offset_
    return estimates


def _weighted(est, X, y, needs_y, how, w):
    """``est`` fitted on ``X`` with weights ``w`` (None: unit), by ``fit`` or in 6 chunks."""
    if "random_state" in est.get_params():  # the same shuffles for both weightings
        est.set_params(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "fit":
            return est.fit(X, y, sample_weight=w) if needs_y else est.fit(X, sample_weight=w)
        for rows in np.array_split(np.arange(len(X)), 6):
            weights = None if w is None else w[rows]
            if not needs_y:
                est.partial_fit(X[rows], sample_weight=weights)
            elif est.__sklearn_is_fitted__():
                est.partial_fit(X[rows], y[rows], sample_weight=weights)
            else:
                est.partial_fit(X[rows], y[rows], classes=CLASSES, sample_weight=weights)
        return est


@pytest.mark.parametrize(("factory", "needs_y", "how", "c"), list(_weight_scale_cases()))
def test_scaling_the_weights_changes_no_estimate(factory, needs_y, how, c):
    # Issue 29: weights are relative. c * 1 rounds by at most eps / 2, and each
    # weighted sum of the n rows by at most about n eps of its largest term: so
    # every estimate equals the unit-weight one to n eps of its array's size.
    X, y = _data(300)
    unit = _estimates(_weighted(factory(), X, y, needs_y, how, None))
    scaled = _estimates(_weighted(factory(), X, y, needs_y, how, np.full(len(X), c)))
    tolerance = len(X) * np.finfo(float).eps
    for name, expected in unit.items():
        size = np.max(np.abs(expected))
        np.testing.assert_allclose(
            scaled[name], expected, rtol=0, atol=tolerance * size, err_msg=name
        )
