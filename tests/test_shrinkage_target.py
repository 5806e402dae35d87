"""Shrinkage toward the diagonal (``shrinkage_target='diag'``) against a batch reference.

The reference is the formula of the Theory page ("The diagonal target") in plain numpy on
all the rows: ``s = sum_{i != j} Var(s_ij) / sum_{i != j} s_ij^2``, with
``Var(s_ij) = (mean z_i^2 z_j^2 - s_ij^2) / n``, clipped to [0, 1].
"""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.model_selection import StratifiedKFold, cross_val_score

from sklearn_onlinegauss import OnlineGaussian, OnlineGaussianClassifier, merge
from sklearn_onlinegauss._compat import InvalidParameterError
from sklearn_onlinegauss._shrinkage import FourthMoments

DIAG = dict(shrinkage="ledoit-wolf", shrinkage_target="diag")
SIZES = [(2, 60), (10, 7), (10, 30), (40, 400), (150, 300)]


def _reference(X, w=None):
    """``(intensity, shrunk covariance)`` of all the rows, from the formula."""
    w = np.ones(len(X)) if w is None else np.asarray(w, dtype=float)
    n = w.sum()
    z = X - (w @ X) / n
    S = (w * z.T) @ z / n
    z2 = z * z
    fourths = (w * z2.T) @ z2 / n  # mean z_i^2 z_j^2
    off = ~np.eye(len(S), dtype=bool)
    delta = np.sum(S[off] ** 2)
    beta = np.sum(fourths[off] - S[off] ** 2) / n
    s = 0.0 if delta == 0 else float(np.clip(beta / delta, 0.0, 1.0))
    return s, (1 - s) * S + s * np.diag(np.diag(S))


def _data(d, n, seed=0, offset_in_sd=0.0):
    """Correlated data whose variances span about four orders of magnitude.

    Returned shifted by ``offset_in_sd`` standard deviations, and minus its first
    row for the reference (exact in float64; the intensity does not depend on it).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * np.logspace(-1, 1, d)
    X += offset_in_sd * np.sqrt(np.mean(X**2, axis=0))
    return X, X - X[0]


def _assert_same(est, reference, atol=1e-12):
    s, covariance = reference
    assert abs(est.shrinkage_ - s) <= atol
    scale = np.abs(covariance).max()
    np.testing.assert_allclose(est.covariance_, covariance, rtol=0, atol=atol * scale)


@pytest.mark.parametrize("d, n", SIZES)
@pytest.mark.parametrize("offset_in_sd", [0.0, 10.0])
def test_any_chunking_gives_the_batch_reference_to_1e12(d, n, offset_in_sd):
    X, exact = _data(d, n, offset_in_sd=offset_in_sd)
    reference = _reference(exact)
    assert 0 < reference[0] < 1 or n < d  # the intensity itself, or (n < d) its clip at 1
    for size in (1, 7, 100, n):
        est = OnlineGaussian(**DIAG, batch_size=size)
        for start in range(0, n, size):
            est.partial_fit(X[start : start + size])
        _assert_same(est, reference)
    _assert_same(OnlineGaussian(**DIAG).fit(X), reference)


def test_data_far_from_zero_give_the_reference_of_their_differences_from_the_first_row():
    # 1e6 standard deviations from 0: the sums are about the first row, so they are
    # those of the rows' differences from it, which the reference is given.
    X, exact = _data(30, 200, seed=1, offset_in_sd=1e6)
    for size in (1, 13, 200):
        _assert_same(OnlineGaussian(**DIAG, batch_size=size).fit(X), _reference(exact))


@pytest.mark.parametrize("size", [1, 7, 50])
def test_weights_give_the_weighted_reference_and_integers_the_repeated_rows(size):
    X, exact = _data(8, 50, seed=2)
    w = np.random.default_rng(3).uniform(0.1, 3.0, len(X))
    _assert_same(
        OnlineGaussian(**DIAG, batch_size=size).fit(X, sample_weight=w), _reference(exact, w)
    )
    counts = np.random.default_rng(4).integers(0, 4, len(X))
    repeated = np.repeat(exact, counts, axis=0)
    est = OnlineGaussian(**DIAG, batch_size=size).partial_fit(X, sample_weight=counts)
    _assert_same(est, _reference(repeated))


@pytest.mark.parametrize("n_parts", [2, 5])
def test_merged_parts_give_the_reference_on_all_the_data(n_parts):
    X, exact = _data(20, 300, seed=5, offset_in_sd=10.0)
    parts = [OnlineGaussian(**DIAG).fit(p) for p in np.array_split(X, n_parts)]
    _assert_same(merge(parts), _reference(exact))


@pytest.mark.parametrize("offset", [0.0, 1e3])
def test_each_class_is_shrunk_as_the_reference_on_its_rows(offset):
    X, y = load_wine(return_X_y=True)
    X = X + offset
    w = np.random.default_rng(6).uniform(0.5, 2.0, len(X))
    order = np.random.default_rng(7).permutation(len(X))
    for weights in (None, w):
        clf = OnlineGaussianClassifier(**DIAG)
        for rows in np.array_split(order, 9):
            sw = None if weights is None else weights[rows]
            clf.partial_fit(X[rows], y[rows], classes=[0, 1, 2], sample_weight=sw)
        parts = [
            OnlineGaussianClassifier(**DIAG).fit(
                X[rows], y[rows], sample_weight=None if weights is None else weights[rows]
            )
            for rows in np.array_split(order, 3)
        ]
        for est in (clf, merge(parts)):
            intensities = est._intensities(est._learned())
            for k in range(3):
                own = y == k
                s, covariance = _reference(
                    X[own] - X[own][0], None if weights is None else weights[own]
                )
                assert abs(intensities[k] - s) <= 1e-12
                scale = np.abs(covariance).max()
                np.testing.assert_allclose(
                    est.covariances_[k], covariance, rtol=0, atol=1e-12 * scale
                )


def test_a_fixed_intensity_keeps_each_variance_and_shrinks_the_covariances():
    X, y = load_wine(return_X_y=True)
    plain = OnlineGaussian().fit(X).covariance_
    shrunk = OnlineGaussian(shrinkage=0.3, shrinkage_target="diag").fit(X).covariance_
    np.testing.assert_array_equal(np.diag(shrunk), np.diag(plain))  # exactly
    off = ~np.eye(len(plain), dtype=bool)
    np.testing.assert_allclose(shrunk[off], 0.7 * plain[off], rtol=1e-15)
    # The shared covariance, too (LDA's pooled within-class covariance).
    within = OnlineGaussianClassifier(covariance="shared").fit(X, y).covariance_
    clf = OnlineGaussianClassifier(covariance="shared", shrinkage=0.3, shrinkage_target="diag")
    np.testing.assert_allclose(
        clf.fit(X, y).covariance_, 0.7 * within + 0.3 * np.diag(np.diag(within)), rtol=1e-14
    )
    # A diagonal covariance is its own target: nothing changes.
    diag = OnlineGaussian(covariance_type="diag").fit(X).covariance_
    same = OnlineGaussian(covariance_type="diag", shrinkage=0.3, shrinkage_target="diag")
    np.testing.assert_array_equal(same.fit(X).covariance_, diag)


def test_the_target_can_be_changed_after_fitting_from_the_same_sums():
    X, exact = _data(12, 80, seed=8)
    est = OnlineGaussian(shrinkage="ledoit-wolf").fit(X)
    spherical = est.covariance_
    _assert_same(est.set_params(shrinkage_target="diag"), _reference(exact))
    np.testing.assert_array_equal(
        est.set_params(shrinkage_target="spherical").covariance_, spherical
    )


def test_oas_toward_the_diagonal_is_refused_before_anything_is_learned():
    X, y = load_wine(return_X_y=True)
    for est, args in (
        (OnlineGaussian(shrinkage="oas", shrinkage_target="diag"), (X,)),
        (OnlineGaussianClassifier(shrinkage="oas", shrinkage_target="diag"), (X, y)),
    ):
        with pytest.raises(InvalidParameterError, match="shrinkage='oas' shrinks toward mu I"):
            est.fit(*args)
        assert not hasattr(est, "n_features_in_")
    with pytest.raises(InvalidParameterError, match="shrinkage_target"):
        OnlineGaussian(shrinkage_target="identity").fit(X)
    with pytest.raises(InvalidParameterError, match="per class"):  # as for mu I
        OnlineGaussianClassifier(covariance="shared", **DIAG).fit(X, y)


def test_a_state_saved_without_the_per_feature_sums_refuses_the_diagonal_target():
    # A learned state pickled before f3 and f4 were gathered: mu I still reads, the
    # diagonal target says to refit instead of reading sums it does not have.
    X, _ = _data(5, 40, seed=9)
    est = OnlineGaussian(shrinkage="ledoit-wolf").fit(X)
    fourth = est._state.fourth
    old = pickle.loads(pickle.dumps(est))
    old._state = old._state._replace(fourth=FourthMoments(fourth.m3, fourth.m4))
    np.testing.assert_array_equal(old.covariance_, est.covariance_)
    with pytest.raises(ValueError, match="refit"):
        _ = old.set_params(shrinkage_target="diag").covariance_


def test_on_wines_raw_features_the_diagonal_target_keeps_the_unshrunk_accuracy():
    # mu I on raw features (variances from 0.01 to 1e5) drops the accuracy to about
    # 0.5; the diagonal target keeps it within a point (user guide, "Shrinkage").
    X, y = load_wine(return_X_y=True)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    plain = cross_val_score(OnlineGaussianClassifier(), X, y, cv=cv).mean()
    diag = cross_val_score(OnlineGaussianClassifier(**DIAG), X, y, cv=cv).mean()
    spherical = cross_val_score(OnlineGaussianClassifier(shrinkage="ledoit-wolf"), X, y, cv=cv)
    assert abs(diag - plain) <= 0.01
    assert spherical.mean() < 0.6


def test_the_kl_table_of_the_shrinkage_page():
    # docs/shrinkage.rst (d = 50 of its table, 5 seeds): the diagonal target beats mu I
    # wherever the variances differ (and is within 35% of it where they do not), and the
    # MLE at n = 2d; at n = 5d it beats the MLE
    # at condition 10 but not at condition 1000, where mu I (variances equal) costs as
    # much: the intensity minimizes a Frobenius error, not the KL.
    from benchmarks.shrinkage import RATIOS, kl_row

    assert RATIOS == (0.5, 1, 2, 5)
    for condition in (10, 1000):
        spread = kl_row(50, condition, 1e3, 5)
        mle, spherical, diag = spread.values()
        assert (diag < 0.6 * spherical).all()
        assert diag[2] < mle[2]
        equal = kl_row(50, condition, 1, 5)
        ratio = equal["diagonal (ledoit-wolf)"] / equal["mu I (ledoit-wolf)"]
        assert (0.9 < ratio).all() and (ratio < 1.35).all()  # equal variances: about the same
        if condition == 10:
            assert diag[3] < mle[3]
        else:
            assert diag[3] > 1.5 * mle[3]
            assert equal["mu I (ledoit-wolf)"][3] > 1.5 * mle[3]


def test_model_files_keep_the_sums_of_both_targets(tmp_path):
    from sklearn_onlinegauss import load_model, save_model

    X, y = load_wine(return_X_y=True)
    for est in (OnlineGaussian(**DIAG).fit(X), OnlineGaussianClassifier(**DIAG).fit(X, y)):
        save_model(est, tmp_path / "model.npz")
        loaded = load_model(tmp_path / "model.npz")
        name = "covariance_" if isinstance(est, OnlineGaussian) else "covariances_"
        np.testing.assert_array_equal(getattr(loaded, name), getattr(est, name))
        loaded.set_params(shrinkage_target="spherical")
        np.testing.assert_array_equal(
            getattr(loaded, name), getattr(est.set_params(shrinkage_target="spherical"), name)
        )
    # A file of a state without the diagonal's sums (saved before them) loads; its diagonal
    # target asks for a refit.
    est = OnlineGaussian(shrinkage="ledoit-wolf").fit(X)
    est._state = est._state._replace(fourth=FourthMoments(*est._state.fourth[:2]))
    save_model(est, tmp_path / "old.npz")
    old = load_model(tmp_path / "old.npz")
    np.testing.assert_array_equal(old.covariance_, est.covariance_)
    with pytest.raises(ValueError, match="refit"):
        _ = old.set_params(shrinkage_target="diag").covariance_
