"""reg_covar never alters a determined estimate, and fills the rest in each feature's units."""

import numpy as np
import pytest
from sklearn.covariance import EmpiricalCovariance

from benchmarks._experiments import random_gaussian
from sklearn_onlinegauss import (
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
    merge,
)
from sklearn_onlinegauss._covariance import kl_divergence
from sklearn_onlinegauss._regularization import component_magnitudes, regularize_matrix
from sklearn_onlinegauss._structures import SHARED, STRUCTURES


@pytest.mark.parametrize("condition", [1e8, 1e10])
def test_the_default_is_the_batch_mle_at_any_conditioning(condition):
    ratios = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        mu, cov = random_gaussian(rng, 10, condition)
        X = rng.multivariate_normal(mu, cov, size=1000)
        est = OnlineGaussian()
        for start in range(0, len(X), 100):
            est.partial_fit(X[start : start + 100])
        mle = EmpiricalCovariance().fit(X)
        ratios.append(
            kl_divergence(mu, cov, est.location_, est.covariance_)
            / kl_divergence(mu, cov, mle.location_, mle.covariance_)
        )
    np.testing.assert_array_less(ratios, 1.001)


def test_strongly_correlated_determined_data_get_the_mle_precision_and_scores():
    rng = np.random.default_rng(0)
    A = np.array([[1, 0, 0, 0], [1, 1e-3, 0, 0], [1, 0, 1e-3, 0], [1, 0, 0, 1e-3]])
    X = rng.normal(size=(3000, 4)) @ A.T
    ref = EmpiricalCovariance().fit(X)
    sd = np.sqrt(np.diag(ref.covariance_))
    assert np.linalg.eigvalsh(ref.covariance_ / np.outer(sd, sd))[0] < 1e-6  # below reg_covar
    est = OnlineGaussian().fit(X)
    np.testing.assert_allclose(est.precision_, ref.precision_, rtol=1e-6)
    np.testing.assert_allclose(est.mahalanobis(X), ref.mahalanobis(X), rtol=1e-6)
    assert est.mahalanobis(X).mean() == pytest.approx(4.0, rel=1e-6)
    assert est.score(X) == pytest.approx(ref.score(X), rel=1e-9)


def _undetermined(seed=0):
    """Fewer rows than features, a constant feature and a duplicated column."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(4, 7)) * [1, 10, 0.1, 1, 1, 5, 1] + 3
    X[:, 3] = 2.5  # constant
    X[:, 4] = 2 * X[:, 0] - 1  # collinear with feature 0
    return X


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_an_undetermined_estimate_is_filled_to_a_valid_gaussian(covariance_type):
    X = _undetermined()
    est = OnlineGaussian(covariance_type=covariance_type).fit(X)
    assert np.linalg.eigvalsh(est.covariance_)[0] > 0
    assert np.all(np.isfinite(est.score_samples(X)))
    if covariance_type != "spherical":
        assert est.covariance_[3, 3] == 1e-6  # has not varied: reg_covar, in its own units


@pytest.mark.parametrize("other", [0, 2, 3, 5])
@pytest.mark.parametrize("change", ["scale 1e-6", "scale 1e6", "shift 1e6"])
def test_changing_one_feature_never_changes_another_features_fill_in(other, change):
    X = _undetermined()
    Y = X.copy()
    if change.startswith("scale"):
        Y[:, other] *= float(change.split()[1])
    else:
        Y[:, other] += 1e6 * max(X[:, other].std(), 1.0)
    before = OnlineGaussian().fit(X).covariance_
    after = OnlineGaussian().fit(Y).covariance_
    keep = np.delete(np.arange(X.shape[1]), other)
    sd = np.sqrt(np.diag(before))[keep]
    # Each entry in its own features' units.
    np.testing.assert_allclose(
        after[np.ix_(keep, keep)] / np.outer(sd, sd),
        before[np.ix_(keep, keep)] / np.outer(sd, sd),
        rtol=0,
        atol=1e-12,
    )


@pytest.mark.parametrize("offset", [0.0, 1e7])
def test_one_row_gives_reg_covar_in_every_feature_whatever_its_offset(offset):
    est = OnlineGaussian().fit(np.array([[1.0, -2.0, 3.0]]) + offset)
    np.testing.assert_array_equal(est.covariance_, 1e-6 * np.eye(3))


@pytest.mark.parametrize("seed", range(5))
def test_as_many_rows_as_features_fill_in_the_same_way_for_any_chunking(seed):
    # n = d: rank d - 1, the last eigenvalue rounding. A Cholesky pivot of such a
    # matrix can come out at any size; the verdict must not depend on chunking.
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 12)) @ rng.normal(size=(12, 12))
    whole = OnlineGaussian().partial_fit(X)
    chunked = OnlineGaussian().partial_fit(X[:2]).partial_fit(X[2:7]).partial_fit(X[7:])
    sd = np.sqrt(np.diag(whole.covariance_))
    np.testing.assert_allclose(
        chunked.covariance_ / np.outer(sd, sd), whole.covariance_ / np.outer(sd, sd), atol=1e-9
    )
    assert np.all(np.isfinite(chunked.score_samples(X)))


def _states(rng, structure):
    """Determined, nearly singular, collinear, constant-feature, offset and mixed states."""
    A = rng.normal(size=(4, 4))
    collinear = rng.normal(size=(50, 3)) @ rng.normal(size=(3, 4))
    covariances = {
        "determined": A @ A.T + np.eye(4),
        "condition 1e12": (lambda Q: (Q * np.logspace(0, -12, 4)) @ Q.T)(np.linalg.qr(A)[0]),
        "collinear": np.cov(collinear.T, bias=True),
        "constant feature": np.diag([1.0, 2.0, 0.0, 3.0]),
        "nearly constant": np.diag([1.0, 2.0, 1e-40, 3.0]),
    }
    for name, cov in covariances.items():
        for offset in (0.0, 1e9):
            locations = np.full((2, 4), offset)
            yield name, STRUCTURES[structure].from_full(locations, np.array([cov, cov]))
    if structure == "full":  # one component clearly determined, the other not
        pair = np.array([covariances["determined"], covariances["collinear"]])
        yield "determined and collinear", STRUCTURES[structure].from_full(np.zeros((2, 4)), pair)


def _by_the_rule(structure, state, reg_covar):
    """The state filled in by the rule itself, matrix by matrix (no shortcut)."""
    magnitudes = component_magnitudes(state)
    if structure is SHARED:
        cov = regularize_matrix(magnitudes.max(axis=0), state.covariances, reg_covar)
        return state._replace(covariances=cov)
    pairs = zip(magnitudes, state.covariances, strict=True)
    covs = [regularize_matrix(m, c, reg_covar) for m, c in pairs]
    return state._replace(covariances=np.array(covs))


@pytest.mark.parametrize("structure", ["full", "tied"])
@pytest.mark.parametrize("reg_covar", [0.0, 1e-6])
def test_regularized_is_the_rule_then_its_factor(structure, reg_covar):
    # The read's shortcut (one Cholesky of the covariance, its pivots scaled to
    # the correlation's) gives what the rule gives, or defers to it.
    s = STRUCTURES[structure]
    for name, state in _states(np.random.default_rng(0), structure):
        try:
            expected = _by_the_rule(s, state, reg_covar)
            expected_factor = s.factor(expected)
        except ValueError as exc:
            with pytest.raises(ValueError, match=str(exc)[:40]):
                s.regularized(state, reg_covar)
            continue
        got, factor = s.regularized(state, reg_covar)
        np.testing.assert_array_equal(got.covariances, expected.covariances, err_msg=name)
        np.testing.assert_allclose(factor, expected_factor, rtol=1e-14, atol=0, err_msg=name)


# -- a constant stream: a spread below the data's own rounding is no spread ----------

_SCALES = [1e-100, 1e-10, 1.0, 1e10, 1e100]
_OFFSETS = [0.0, 1e6]


def _constant_rows(scale, offset, n=1000):
    """``0.1 * [1..5]`` in units of ``scale``, shifted by ``offset`` of them, ``n`` times."""
    return np.tile(scale * (0.1 * np.arange(1, 6) + offset), (n, 1))


def _fitted_ways(make, X, y=None):
    """The estimator fitted by ``fit``, by one ``partial_fit`` and in uneven chunks."""
    yield "fit", make().fit(X, y)
    yield "one partial_fit", make().partial_fit(X, y)
    est = make()
    for part in np.array_split(np.arange(len(X)), [7, 100, 333, 750]):
        est.partial_fit(X[part], None if y is None else y[part])
    yield "chunks", est
    halves = np.array_split(np.arange(len(X)), 2)
    parts = [make().fit(X[h], None if y is None else y[h]) for h in halves]
    yield "merged", merge(parts)


@pytest.mark.parametrize("scale", _SCALES)
@pytest.mark.parametrize("offset", _OFFSETS)
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_a_constant_stream_gets_the_fill_in_of_exactly_constant_data(
    scale, offset, covariance_type
):
    # Issue 29: 0.1 * [1..5] repeated gave the rounding of its mean (about 1e-31)
    # as its covariance, where [1..5] repeated gets reg_covar.
    X = _constant_rows(scale, offset)
    for how, est in _fitted_ways(lambda: OnlineGaussian(covariance_type=covariance_type), X):
        np.testing.assert_array_equal(est.covariance_, 1e-6 * np.eye(5), err_msg=how)
        np.testing.assert_array_equal(est.location_, X[0], err_msg=how)


def test_a_row_near_a_constant_stream_scores_as_near_exactly_constant_data():
    # The figures: -3.6e18 where [1..5] repeated gives about 30.
    X = 0.1 * np.tile(np.arange(1.0, 6.0), (1000, 1))
    expected = -2.5 * (np.log(2 * np.pi) + np.log(1e-6))  # at the mean, variance 1e-6
    for how, est in _fitted_ways(OnlineGaussian, X):
        assert est.score_samples(X[:1] + 1e-9)[0] == pytest.approx(expected, rel=1e-6), how


@pytest.mark.parametrize("scale", _SCALES)
@pytest.mark.parametrize("offset", _OFFSETS)
def test_values_a_few_roundings_apart_are_constant_at_any_scale(scale, offset):
    # Values that differ only in their last bits (the same value computed in
    # different ways) have not varied.
    value = scale * (0.1 * np.arange(1, 6) + offset)
    X = np.tile(value, (1000, 1))
    X[::3] = np.nextafter(value, np.inf)
    X[1::3] = np.nextafter(np.nextafter(value, -np.inf), -np.inf)
    for how, est in _fitted_ways(OnlineGaussian, X):
        np.testing.assert_array_equal(np.diag(est.covariance_), 1e-6, err_msg=how)


@pytest.mark.parametrize("scale", [*_SCALES, 1e20, 1e140])
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_rows_within_their_rounding_get_the_fill_in_of_identical_rows(scale, covariance_type):
    # State machine F9: at 1e20 and beyond, rows within 2 eps of [1, 2, 3] kept
    # their rounding (about 1e9) as 'diag' and 'spherical' variances, where
    # identical rows (and 'full') get reg_covar: the rule is every structure's.
    rng = np.random.default_rng(0)
    X = np.tile(scale * np.array([1.0, 2.0, 3.0]), (1000, 1))
    J = X * (1 + rng.integers(-2, 3, X.shape) * np.finfo(float).eps)
    make = lambda: OnlineGaussian(covariance_type=covariance_type)  # noqa: E731
    exact = make().partial_fit(X).covariance_
    for how, est in _fitted_ways(make, J):
        np.testing.assert_array_equal(est.covariance_, exact, err_msg=how)
        np.testing.assert_array_equal(np.diag(est.covariance_), 1e-6, err_msg=how)


@pytest.mark.parametrize("scale", _SCALES)
@pytest.mark.parametrize("offset", _OFFSETS)
def test_a_spread_of_1e3_roundings_is_a_spread_at_any_scale_and_count(scale, offset):
    # Not constant: values 1e3 rounding units apart are data, however many rows
    # there are (a threshold growing with the count of rows would take them for
    # rounding), and their covariance is the estimate itself.
    rng = np.random.default_rng(0)
    value = scale * (0.1 * np.arange(1, 6) + offset)
    X = value * (1 + 1e3 * np.finfo(float).eps * rng.standard_normal((20_000, 5)))
    reference = np.cov((X - value).T, bias=True)  # exact differences: an exact reference
    sd = np.sqrt(np.diag(reference))
    # Exact differences; sums of n terms round by at most n eps of the scatter.
    atol = len(X) * np.finfo(float).eps
    for how, est in _fitted_ways(OnlineGaussian, X):
        np.testing.assert_allclose(
            est.covariance_ / np.outer(sd, sd),
            reference / np.outer(sd, sd),
            atol=atol,
            err_msg=how,
        )


def _two_constant_groups(scale, offset, n=500):
    """Two constant groups of rows, shuffled, and their labels."""
    X = np.concatenate([_constant_rows(scale, offset, n), _constant_rows(-scale, offset, n)])
    order = np.random.default_rng(0).permutation(len(X))
    return X[order], np.repeat([0, 1], n)[order]


def _as_full(covariances, covariance_type, n_components=2, d=5):
    """``covariances_`` of a mixture or classifier, as (K, d, d) matrices."""
    c = np.asarray(covariances)
    if covariance_type == "diag":
        return np.stack([np.diag(v) for v in c])
    if covariance_type == "spherical":
        return c[:, None, None] * np.eye(d)
    return np.broadcast_to(c, (n_components, d, d))


def _assert_filled(covariances, reg_covar, how):
    """Two components of variance ``reg_covar`` (to the rounding of a mean of 5), 0 elsewhere."""
    expected = reg_covar * np.eye(5)[None].repeat(2, 0)
    eps = np.finfo(float).eps
    np.testing.assert_allclose(covariances, expected, rtol=4 * eps, atol=0, err_msg=how)


@pytest.mark.parametrize("scale", [1e-100, 1.0, 1e100])
@pytest.mark.parametrize("offset", _OFFSETS)
@pytest.mark.parametrize(
    "settings",
    [{"covariance_type": t} for t in ("full", "diag", "spherical")] + [{"covariance": "shared"}],
)
def test_constant_classes_get_the_fill_in_of_exactly_constant_data(scale, offset, settings):
    # The rule lives in the shared read pipeline: each class of a classifier is
    # one Gaussian. reg_covar in the data's units, so that every scale is alike.
    X, y = _two_constant_groups(scale, offset)
    reg = 1e-6 * scale**2
    make = lambda: OnlineGaussianClassifier(**settings, reg_covar=reg)  # noqa: E731
    chunked = make()
    for part in np.array_split(np.arange(len(X)), [7, 100, 333, 750]):
        chunked.partial_fit(X[part], y[part], classes=[0, 1])
    for how, est in [("fit", make().fit(X, y)), ("chunks", chunked)]:
        if "covariance" in settings:
            np.testing.assert_array_equal(est.covariance_, reg * np.eye(5), err_msg=how)
        else:
            got = _as_full(est.covariances_, settings["covariance_type"])
            _assert_filled(got, reg, how)
        np.testing.assert_array_equal(est.predict(X), y, err_msg=how)


@pytest.mark.parametrize("scale", [1e-100, 1.0, 1e100])
@pytest.mark.parametrize("offset", _OFFSETS)
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_constant_components_get_the_fill_in_of_exactly_constant_data(
    scale, offset, covariance_type
):
    # Each component of a mixture, in every structure.
    X, _ = _two_constant_groups(scale, offset)
    reg = 1e-6 * scale**2
    make = lambda: OnlineGaussianMixture(  # noqa: E731
        2, covariance_type=covariance_type, reg_covar=reg, init_size=100, random_state=0
    )
    for how, est in _fitted_ways(make, X):
        _assert_filled(_as_full(est.covariances_, covariance_type), reg, how)


@pytest.mark.parametrize("scale", [1e-100, 1.0, 1e100])
@pytest.mark.parametrize("offset", _OFFSETS)
def test_a_detectors_constant_density_gets_the_fill_in(scale, offset):
    X = _constant_rows(scale, offset)
    reg = 1e-6 * scale**2
    for how, est in _fitted_ways(lambda: OnlineEllipticEnvelope(OnlineGaussian(reg_covar=reg)), X):
        np.testing.assert_array_equal(est.estimator_.covariance_, reg * np.eye(5), err_msg=how)
