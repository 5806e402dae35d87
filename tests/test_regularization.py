"""reg_covar never alters a determined estimate, and fills the rest in each feature's units."""

import numpy as np
import pytest
from sklearn.covariance import EmpiricalCovariance

from benchmarks._experiments import random_gaussian
from sklearn_onlinegauss import OnlineGaussian
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
