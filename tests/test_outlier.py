"""OnlineEllipticEnvelope: the threshold it learns, against EllipticEnvelope's rule."""

import pickle

import numpy as np
import pytest
from scipy.special import betaincinv
from scipy.stats import chi2
from sklearn.covariance import EllipticEnvelope, EmpiricalCovariance
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

from sklearn_onlinegauss import OnlineEllipticEnvelope, OnlineGaussian
from sklearn_onlinegauss._quantiles import DistanceHistogram, pool_distances, upper_quantile


def _gaussian(n, d, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 5.0


def _batch_rule(train, X, contamination):
    """EllipticEnvelope's rule on the maximum-likelihood Gaussian of all of ``train``."""
    empirical = EmpiricalCovariance().fit(train)
    offset = np.percentile(-empirical.mahalanobis(train), 100 * contamination)
    return np.where(-empirical.mahalanobis(X) >= offset, 1, -1)


@pytest.mark.parametrize("contamination", [0.01, 0.05, 0.1])
@pytest.mark.parametrize("d", [2, 10])
def test_streamed_gaussian_rows_are_flagged_at_the_contamination(contamination, d):
    # 1e4 rows in batches of 100; the quantile's standard error is at most
    # sqrt(0.1 * 0.9 / 1e4) = 0.3 points, the tolerance (1 point) over 3 of them.
    X = _gaussian(10_000, d, seed=d)
    detector = OnlineEllipticEnvelope(contamination=contamination)
    for chunk in np.array_split(X, 100):
        detector.partial_fit(chunk)
    flagged = np.mean(detector.predict(X) == -1)
    assert abs(flagged - contamination) <= 0.01
    assert np.mean(detector.predict(X) == _batch_rule(X, X, contamination)) >= 0.99


@pytest.mark.parametrize("contamination", [0.01, 0.05, 0.1])
@pytest.mark.parametrize("scale", [3.0, 0.3])
def test_a_constant_rate_recalibrates_after_the_scale_shifts(contamination, scale):
    # eta0 = 0.001 keeps about 2000 rows: the threshold's and the measured
    # fraction's standard errors are then 0.7 and 0.5 points at most.
    rng = np.random.default_rng(int(scale * 10) + int(contamination * 100))
    eta0 = 0.001
    detector = OnlineEllipticEnvelope(
        OnlineGaussian(learning_rate="constant", eta0=eta0), contamination=contamination
    )
    for _ in range(100):
        detector.partial_fit(rng.normal(size=(100, 5)))
    for _ in range(int(10 / eta0) // 100):  # 10 / eta0 rows after the shift
        detector.partial_fit(scale * rng.normal(size=(100, 5)))
    flagged = []
    for _ in range(40):  # then score, and learn, 4000 rows as they come
        X = scale * rng.normal(size=(100, 5))
        flagged.append(detector.predict(X) == -1)
        detector.partial_fit(X)
    assert abs(np.mean(flagged) - contamination) <= 0.02


def test_heavy_tailed_stream_agrees_with_the_batch_rule():
    rng = np.random.default_rng(0)
    X = rng.standard_t(4, size=(20_000, 10)) @ rng.normal(size=(10, 10))
    for contamination in (0.01, 0.05, 0.1):
        detector = OnlineEllipticEnvelope(contamination=contamination)
        for chunk in np.array_split(X, 200):
            detector.partial_fit(chunk)
        assert np.mean(detector.predict(X) == _batch_rule(X, X, contamination)) >= 0.99
        assert abs(np.mean(detector.predict(X) == -1) - contamination) <= 0.01


@pytest.mark.parametrize("contamination", [0.01, 0.025, 0.05, 0.1])
def test_breast_cancer_against_elliptic_envelope(contamination):
    X, y = load_breast_cancer(return_X_y=True)
    benign = X[y == 1]
    ours = OnlineEllipticEnvelope(contamination=contamination).fit(benign)
    theirs = EllipticEnvelope(support_fraction=1, contamination=contamination, random_state=0).fit(
        benign
    )
    assert roc_auc_score(y, ours.score_samples(X)) >= roc_auc_score(y, theirs.score_samples(X))
    assert np.mean(ours.predict(X) == _batch_rule(benign, X, contamination)) >= 0.99
    assert abs(np.mean(ours.predict(benign) == -1) - contamination) <= 1 / len(benign) + 0.003


def test_decision_function_score_samples_and_offset():
    X = _gaussian(3000, 3, seed=1)
    detector = OnlineEllipticEnvelope(contamination=0.05).fit(X)
    np.testing.assert_allclose(detector.score_samples(X), -detector.mahalanobis(X))
    np.testing.assert_allclose(
        detector.decision_function(X), detector.score_samples(X) - detector.offset_
    )
    np.testing.assert_array_equal(
        detector.predict(X), np.where(detector.decision_function(X) >= 0, 1, -1)
    )
    np.testing.assert_array_equal(detector.fit_predict(X), detector.predict(X))
    y = detector.predict(X)
    assert detector.score(X, y) == 1.0
    chi = OnlineEllipticEnvelope(contamination=0.05, threshold="chi2").fit(X)
    assert chi.offset_ == pytest.approx(-chi2.ppf(0.95, 3))


def test_histogram_quantile_of_gaussian_distances_is_the_in_sample_quantile():
    # One batch scored by its own MLE: the quantile read back is the batch's own,
    # to the grid's resolution (0.37% of -ln p).
    X = _gaussian(5000, 4, seed=2)
    distances = OnlineGaussian().fit(X).mahalanobis(X)
    histogram = pool_distances(DistanceHistogram.empty(), distances, 4, 1 / len(X), 0.0)
    assert histogram.effective_rows == pytest.approx(len(X))
    for fraction in (0.01, 0.1, 0.5):
        expected = np.quantile(distances, 1 - fraction)
        assert upper_quantile(histogram, fraction, 4) == pytest.approx(expected, rel=0.01)


def test_a_level_on_a_gap_between_filled_bins_reads_its_middle_whatever_the_scale():
    # Issue 29: 0.1 of the mass lies in bin 200 and 0.9 in bin 100, nothing between:
    # the level 0.1 falls on bin 200's lower edge, and rounding (a sum of 1 / 300
    # weights, a level a few eps off) must not move the read to either end of the gap.
    mass = np.zeros(DistanceHistogram.empty().mass.shape)
    mass[[100, 200]] = 0.9, 0.1
    reads = [
        upper_quantile(DistanceHistogram(mass * scale, 1e-4), fraction, 3)
        for scale in (1.0, 1 / 300, 7.0)
        for fraction in (0.1, 0.1 * (1 + 4e-16), 0.1 * (1 - 4e-16))
    ]
    np.testing.assert_allclose(reads, reads[0], rtol=1e-13)
    ends = [upper_quantile(DistanceHistogram(mass, 1e-4), f, 3) for f in (0.1 + 1e-9, 0.1 - 1e-9)]
    assert ends[0] < reads[0] < ends[1]  # the middle of the gap, not an end


def test_the_streamed_threshold_does_not_depend_on_the_scale_of_the_weights():
    # The figures: -7.287 for weights w, -5.315 for w / 300.
    rng = np.random.default_rng(23)
    X = rng.normal(size=(23, 3)) @ np.array([[2, 0, 0], [1, 1, 0], [0, 0.5, 3]]) + 100
    w = rng.integers(1, 4, 23).astype(float)
    a = OnlineEllipticEnvelope().partial_fit(X, sample_weight=w)
    b = OnlineEllipticEnvelope().partial_fit(X, sample_weight=w / 300)
    assert b.offset_ == pytest.approx(a.offset_, rel=1e-12)


def test_outliers_kept_out_of_the_update_do_not_drag_the_gaussian():
    rng = np.random.default_rng(3)
    clean = OnlineEllipticEnvelope(contamination=0.1)
    robust = OnlineEllipticEnvelope(contamination=0.1, learn_outliers=False)
    naive = OnlineEllipticEnvelope(contamination=0.1)
    clean.partial_fit(rng.normal(size=(1000, 2)))
    for detector in (robust, naive):
        detector.partial_fit(rng.normal(size=(1000, 2)))  # a clean start
    flagged = []
    for _ in range(100):
        X = rng.normal(size=(100, 2))
        X[:5] = rng.normal(loc=[30, -30], size=(5, 2))  # 5% gross outliers
        flagged.append(robust.predict(X) == -1)
        for detector in (robust, naive):
            detector.partial_fit(X)
    assert np.linalg.norm(robust.location_) < 0.1 < 1.0 < np.linalg.norm(naive.location_)
    assert np.linalg.eigvalsh(naive.covariance_).max() > 50
    # Learning only the rows inside the threshold truncates the inliers: their
    # covariance comes out smaller (the user guide measures it,
    # benchmarks/outlier_lock.py), and a little more than the contamination is
    # flagged, the outliers among it.
    eigenvalues = np.linalg.eigvalsh(robust.covariance_)
    assert np.all((0.7 < eigenvalues) & (eigenvalues < 1.0))
    assert 0.1 <= np.mean(flagged[-20:]) <= 0.13
    assert np.mean(flagged[-20:], axis=0)[:5].min() == 1.0


def test_a_failed_call_changes_nothing():
    X = _gaussian(500, 3, seed=4)
    detector = OnlineEllipticEnvelope(learn_outliers=False).partial_fit(X)
    before = pickle.dumps(detector)
    bad = X[:10].copy()
    bad[2, 1] = np.inf
    with pytest.raises(ValueError):
        detector.partial_fit(bad)
    with pytest.raises(ValueError):
        detector.partial_fit(X[:, :2])
    assert pickle.dumps(detector) == before
    restored = pickle.loads(before)
    np.testing.assert_array_equal(restored.decision_function(X), detector.decision_function(X))


def test_merge_save_load_and_the_command_line_keep_the_detector():
    pytest.importorskip("pyarrow", reason="the command line reads CSV with the 'cli' extra")
    import os
    import subprocess
    import sys
    import tempfile

    from sklearn_onlinegauss import load_model, merge, save_model

    X = np.random.default_rng(5).standard_t(4, size=(4000, 3))
    whole = OnlineEllipticEnvelope(contamination=0.05)
    for chunk in np.array_split(X, 40):
        whole.partial_fit(chunk)
    parts = [OnlineEllipticEnvelope(contamination=0.05) for _ in range(4)]
    for part, rows in zip(parts, np.array_split(X, 4), strict=True):
        for chunk in np.array_split(rows, 10):
            part.partial_fit(chunk)
    merged = merge(parts)
    assert isinstance(merged, OnlineEllipticEnvelope)
    assert np.mean(merged.predict(X) == whole.predict(X)) >= 0.99
    with pytest.raises(ValueError, match="one kind"):
        merge([OnlineGaussian().fit(X), merged])
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "detector.npz")
    save_model(merged, path)
    loaded = load_model(path)
    assert isinstance(loaded, OnlineEllipticEnvelope) and loaded.offset_ == merged.offset_
    np.testing.assert_array_equal(loaded.decision_function(X), merged.decision_function(X))
    data = os.path.join(folder, "rows.csv")
    np.savetxt(data, X[:5], delimiter=",")
    scored = subprocess.run(
        [sys.executable, "-m", "sklearn_onlinegauss", "score", path, data],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert scored[0] == "log_likelihood"  # the density's, not the detector's score
    np.testing.assert_allclose(
        np.array(scored[1:], dtype=float), merged.estimator_.score_samples(X[:5])
    )


def test_tail_probabilities_are_scipy_stats_beta_and_chi2():
    from scipy.stats import beta

    from sklearn_onlinegauss._quantiles import _distance, upper_tail

    distances = np.array([0.0, 0.5, 3.0, 12.0, 40.0, 98.0])
    for d, n in [(2, 100.0), (10, 500.0), (30, 357.0)]:
        x = np.clip(distances / (n - 1), 0, 1)
        np.testing.assert_allclose(
            upper_tail(distances, d, n), beta.sf(x, d / 2, (n - d - 1) / 2), rtol=1e-10
        )
        for p in (0.5, 0.1, 0.01, 1e-6):
            expected = (n - 1) * beta.isf(p, d / 2, (n - d - 1) / 2)
            assert _distance(p, d, n) == pytest.approx(expected, rel=1e-9)
    assert _distance(0.05, 3, 3.0) == pytest.approx(chi2.isf(0.05, 3))


def test_contamination_takes_effect_after_fit_as_after_partial_fit():
    X = np.random.default_rng(8).normal(size=(4000, 3))
    fitted = OnlineEllipticEnvelope(contamination=0.1).fit(X)
    streamed = OnlineEllipticEnvelope(contamination=0.1)
    for chunk in np.array_split(X, 8):
        streamed.partial_fit(chunk)
    for detector in (fitted, streamed):
        detector.set_params(contamination=0.02)
        # The histogram's quantile: within a bin (0.45%) and the sampling error.
        assert np.mean(detector.predict(X) == -1) == pytest.approx(0.02, abs=0.006)
    fitted.set_params(contamination=0.1)  # back to the exact threshold of fit
    assert np.mean(fitted.predict(X) == -1) == pytest.approx(0.1, abs=1 / len(X))


def test_the_density_settings_follow_the_rule_of_the_density():
    X = np.random.default_rng(9).normal(size=(600, 3))
    detector = OnlineEllipticEnvelope(OnlineGaussian()).fit(X)
    detector.set_params(estimator__covariance_type="diag")
    for call in (lambda: detector.partial_fit(X), lambda: detector.covariance_):
        with pytest.raises(ValueError, match="estimator__covariance_type='full' -> 'diag'"):
            call()
    detector.set_params(estimator__covariance_type="full", estimator__reg_covar=1e-3)
    detector.partial_fit(X)
    assert detector.estimator_.reg_covar == 1e-3
    with pytest.raises(ValueError, match="eta0"):
        OnlineEllipticEnvelope(OnlineGaussian(eta0=-1.0)).fit(X)


@pytest.mark.parametrize("scale", [1 / 300, 0.01, 7.0])
def test_weights_are_relative_in_fit_and_partial_fit(scale):
    # Weights of 1/300 once gave fit a threshold at the smallest distance
    # (99.7% flagged): a weight k counted as k rows, so 300 rows of 1/300 were one.
    X = _gaussian(300, 3, seed=10)
    rng = np.random.default_rng(10)
    w, counts = rng.uniform(0.5, 2.0, size=len(X)), rng.integers(1, 4, len(X)).astype(float)
    for weights in (np.ones(len(X)), w, counts):  # counts: the threshold on a row, exactly
        for learn_outliers in (True, False):
            pair = [OnlineEllipticEnvelope(learn_outliers=learn_outliers) for _ in range(2)]
            for detector, k in zip(pair, (1.0, scale), strict=True):
                detector.fit(X, sample_weight=k * weights)
            assert pair[1].offset_ == pytest.approx(pair[0].offset_, rel=1e-9)
            np.testing.assert_allclose(pair[1].covariance_, pair[0].covariance_, rtol=1e-9)
            for detector, k in zip(pair, (1.0, scale), strict=True):
                for chunk in np.array_split(np.arange(len(X)), 6):
                    detector.partial_fit(X[chunk], sample_weight=k * weights[chunk])
            assert pair[1].offset_ == pytest.approx(pair[0].offset_, rel=1e-9)
            np.testing.assert_allclose(pair[1].covariance_, pair[0].covariance_, rtol=1e-9)
    unit = OnlineEllipticEnvelope().fit(X)
    scaled = OnlineEllipticEnvelope().fit(X, sample_weight=np.full(len(X), scale))
    assert scaled.offset_ == pytest.approx(unit.offset_, rel=1e-12)
    assert np.mean(scaled.predict(X) == -1) == pytest.approx(0.1, abs=1 / len(X))


def test_learning_only_inliers_does_not_lock_onto_its_first_chunks():
    # Chunks of 20 at d = 30: the first two are learned whole (the Gaussian is
    # not determined before n_features + 1 rows); every later row is judged by
    # the law of a new row's distance (F), not the in-sample one, which flagged
    # every row once (and a flagged row is never learned). The tolerance, 2
    # points: 3 standard errors of the fraction (binomial, 20,000 fresh rows:
    # 0.2 points; the threshold, a quantile of about 5000 rows: 0.4) plus the
    # 0.5 points a fresh row's distance is scored above a learned one's at
    # 150 rows per feature.
    d, rng = 30, np.random.default_rng(11)
    A = rng.normal(size=(d, d))
    detector = OnlineEllipticEnvelope(contamination=0.1, learn_outliers=False)
    for i in range(250):
        detector.partial_fit(rng.normal(size=(20, d)) @ A + 5.0)
        if i == 1:
            assert detector.n_samples_seen_ == 40
    assert 0.85 * 5000 < detector.n_samples_seen_ < 0.95 * 5000
    fresh = rng.normal(size=(20_000, d)) @ A + 5.0
    assert np.mean(detector.predict(fresh) == -1) == pytest.approx(0.1, abs=0.02)
    # breast_cancer's benign rows in chunks of 20 (94% flagged once): 3
    # binomial standard errors of the fraction of 357 rows flagged, 1.6 points.
    X, y = load_breast_cancer(return_X_y=True)
    benign = X[y == 1]
    detector = OnlineEllipticEnvelope(contamination=0.1, learn_outliers=False)
    for chunk in np.array_split(benign, len(benign) // 20):
        detector.partial_fit(chunk)
    assert np.mean(detector.predict(benign) == -1) == pytest.approx(0.1, abs=0.048)


def test_the_rows_learned_before_the_gaussian_is_determined_are_effective_weight():
    # Weights are relative: 31 rows of which one holds almost all the weight
    # are about one row, so the next chunk is still learned whole.
    d, rng = 30, np.random.default_rng(12)
    w = np.full(31, 1e-6)
    w[0] = 1.0
    detector = OnlineEllipticEnvelope(learn_outliers=False)
    detector.partial_fit(rng.normal(size=(31, d)), sample_weight=w)
    detector.partial_fit(rng.normal(size=(31, d)) * 100.0)
    assert detector.n_samples_seen_ == 62


# -- dist_ and support_: EllipticEnvelope's, over fit's rows -------------------------------


def test_dist_and_support_have_elliptic_envelopes_meaning_over_fits_rows():
    X = _gaussian(400, 3, seed=5)
    detector = OnlineEllipticEnvelope(contamination=0.1).fit(X)
    envelope = EllipticEnvelope(contamination=0.1, random_state=0).fit(X)
    for est in (detector, envelope):  # the same identities hold for both
        # dist_: the squared distances of the fit's rows under the fitted estimate ...
        np.testing.assert_allclose(est.dist_, est.mahalanobis(X), rtol=1e-10)
        # ... whose contamination quantile is offset_ ...
        assert est.offset_ == pytest.approx(np.percentile(-est.dist_, 10.0), rel=1e-10)
        # ... and support_: the rows the location and covariance are the moments of
        # (scikit-learn >= 1.9 scales the covariance by a consistency factor).
        assert est.support_.dtype == bool and est.support_.shape == (400,)
        inside = X[est.support_]
        np.testing.assert_allclose(est.location_, inside.mean(axis=0), rtol=1e-10)
        ratio = est.covariance_ / EmpiricalCovariance().fit(inside).covariance_
        np.testing.assert_allclose(ratio, ratio[0, 0], rtol=1e-10)
    assert detector.support_.all()  # fit learns every row: the density is not reweighted
    np.testing.assert_allclose(detector.covariance_, np.cov(X.T, bias=True), rtol=1e-10)


def test_support_leaves_out_rows_of_zero_weight():
    X = _gaussian(200, 2, seed=1)
    w = np.ones(200)
    w[:20] = 0.0
    detector = OnlineEllipticEnvelope().fit(X, sample_weight=w)
    np.testing.assert_array_equal(detector.support_, w > 0)
    assert detector.dist_.shape == (200,)


def test_dist_and_support_are_defined_after_fit_only():
    X = _gaussian(300, 2, seed=2)
    streamed = OnlineEllipticEnvelope().partial_fit(X)
    fitted = OnlineEllipticEnvelope().fit(X)
    assert hasattr(fitted, "dist_") and hasattr(fitted, "support_")
    assert pickle.loads(pickle.dumps(fitted)).dist_.shape == (300,)
    fitted.partial_fit(X[:10])  # the density moved: fit's distances are no longer its
    for detector in (streamed, fitted, OnlineEllipticEnvelope()):
        assert not hasattr(detector, "dist_") and not hasattr(detector, "support_")
    with pytest.raises(AttributeError, match="defined after fit"):
        _ = streamed.dist_


@pytest.mark.parametrize("p", [1e-250, 1e-300, 5e-324, 0.0])
def test_a_threshold_in_the_histograms_last_bin_is_finite(p):
    # The last bin holds rows beyond every in-sample distance (p underflowing): its level
    # is the largest in-sample distance, n - 1, where scipy's inverse returns NaN.
    from sklearn_onlinegauss._quantiles import _distance

    d, n = 3, 18.18
    assert _distance(p, d, n) == pytest.approx(n - 1, rel=1e-12)
    assert _distance(1e-30, d, n) == pytest.approx(
        (n - 1) * (1 - betaincinv((n - d - 1) / 2, d / 2, 1e-30)), rel=1e-12
    )


def test_a_stream_whose_quantile_is_past_every_in_sample_distance_keeps_a_finite_offset():
    # Found by the state machine (tests/test_state_machine.py's detector stream, values at
    # 1e-5, learn_outliers=False, weights with zeros): two rows of the second chunk lie
    # beyond every in-sample distance, and the threshold read NaN.
    mixing = np.array([[2, 0, 0], [1, 1, 0], [0, 0.5, 3]])

    def rows(seed, n):
        return (np.random.default_rng(seed).normal(size=(n, 3)) @ mixing + 100) * 1e-5

    w = np.random.default_rng(244).integers(0, 3, 12).astype(float)
    w[0] = 1.0
    det = OnlineEllipticEnvelope(learn_outliers=False)
    det.partial_fit(rows(244, 12), sample_weight=w).partial_fit(rows(248, 11))
    assert np.isfinite(det.offset_)
    assert det.offset_ == pytest.approx(-(det._histogram.effective_rows - 1), rel=1e-12)
