"""OnlineGaussianMixture against GaussianMixture and OnlineGaussian."""

import pickle
import warnings

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_onlinegauss import OnlineGaussian, OnlineGaussianMixture, merge

STRUCTURES = ["full", "tied", "diag", "spherical"]


def _stream(model, X, size, passes=1, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(passes):
        for rows in np.array_split(rng.permutation(len(X)), max(1, len(X) // size)):
            model.partial_fit(X[rows])
    return model


def _assert_valid(model, X):
    """Finite, positive-definite components and finite scores."""
    covariances = model.covariances_
    if model.covariance_type in ("diag", "spherical"):
        assert np.all(np.isfinite(covariances)) and np.all(covariances > 0)
    else:
        for c in np.reshape(covariances, (-1, *covariances.shape[-2:])):
            np.linalg.cholesky(c)
    assert np.all(np.isfinite(model.score_samples(X)))
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)


def _separated(K, d, n, seed):
    """A well-separated mixture: components at least 10 standard deviations apart."""
    rng = np.random.default_rng(seed)
    mixing = [rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d) for _ in range(K)]
    spread = max(np.linalg.norm(a, 2) for a in mixing)
    while True:
        means = rng.normal(scale=4 * spread, size=(K, d))
        gaps = np.linalg.norm(means[:, None] - means[None], axis=-1) + np.eye(K) * 1e9
        if gaps.min() > 10 * spread:
            break
    weights = rng.dirichlet(np.full(K, 10.0))
    y = rng.choice(K, size=n, p=weights)
    noise = np.einsum("nij,nj->ni", np.array(mixing)[y], rng.normal(size=(n, d)))
    return means[y] + noise


@pytest.mark.parametrize("covariance_type", STRUCTURES)
@pytest.mark.parametrize("learning_rate", ["optimal", "invscaling", "constant"])
def test_one_component_is_online_gaussian(covariance_type, learning_rate):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 3)) @ rng.normal(size=(3, 3)) + 1e3
    settings = {"learning_rate": learning_rate, "eta0": 0.01, "power_t": 0.7}
    mixture = OnlineGaussianMixture(
        1, covariance_type=covariance_type, average=False, batch_size=37, **settings
    )
    single = OnlineGaussian(
        covariance_type="full" if covariance_type == "tied" else covariance_type, **settings
    )
    for chunk in np.array_split(X, [1, 10, 300, 301, 999, 1200]):  # across the warm-up's end
        mixture.partial_fit(chunk)
        single.partial_fit(chunk)
        np.testing.assert_allclose(mixture.means_[0], single.location_, rtol=1e-13)
        full = STRUCTURES_TO_FULL[covariance_type](mixture.covariances_, 3)
        np.testing.assert_allclose(full, single.covariance_, rtol=1e-12, atol=1e-12)
    assert mixture.weights_[0] == 1.0


STRUCTURES_TO_FULL = {
    "full": lambda c, d: c[0],
    "tied": lambda c, d: c,
    "diag": lambda c, d: np.diag(c[0]),
    "spherical": lambda c, d: c[0] * np.eye(d),
}


@pytest.mark.parametrize(("K", "d", "seed"), [(3, 2, 0), (4, 5, 1), (5, 10, 2), (3, 10, 3)])
def test_two_passes_in_batches_of_100_recover_gaussian_mixture(K, d, seed):
    X = _separated(K, d, 20_000, seed)
    batch = GaussianMixture(K, n_init=5, random_state=0).fit(X)
    online = _stream(OnlineGaussianMixture(K, n_init=5, random_state=seed), X, 100, passes=2)
    _assert_valid(online, X)
    order, match = linear_sum_assignment(
        ((batch.means_[:, None] - online.means_[None]) ** 2).sum(axis=-1)
    )
    # Tolerances: 4 standard errors of the maximum-likelihood estimates.
    n, weights = len(X), batch.weights_[order]
    counts = weights * n
    assert np.all(
        np.abs(online.weights_[match] - weights) <= 4 * np.sqrt(weights * (1 - weights) / n)
    )
    S = batch.covariances_[order]
    variances = np.diagonal(S, axis1=1, axis2=2)
    mean_se = np.sqrt(variances / counts[:, None])
    assert np.all(np.abs(online.means_[match] - batch.means_[order]) <= 4 * mean_se)
    covariance_se = np.sqrt(
        (variances[:, :, None] * variances[:, None, :] + S**2) / counts[:, None, None]
    )
    assert np.all(np.abs(online.covariances_[match] - S) <= 4 * covariance_se)


@pytest.mark.parametrize("seed", [0, 1])
def test_digits_held_out_likelihood_reaches_batch_em(seed):
    # On the 64 pixels, 10 full covariances from 1347 rows overfit (batch EM's
    # held-out score is below one Gaussian's): the comparison is on 20 principal
    # components, both at the default reg_covar (which then changes nothing).
    X, _ = load_digits(return_X_y=True)
    train, test = train_test_split(X, test_size=0.25, random_state=seed)
    pca = PCA(20, random_state=0).fit(train)
    train, test = pca.transform(train), pca.transform(test)
    batch = GaussianMixture(10, covariance_type="full", random_state=seed).fit(train)
    online = _stream(OnlineGaussianMixture(10, random_state=seed), train, 100, 20, seed)
    _assert_valid(online, test)
    assert online.score(test) >= batch.score(test) - 1.0
    assert online.score(test) > OnlineGaussian().fit(train).score(test) + 5  # not one blob


def test_a_component_without_data_is_kept_and_reported():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 2))
    far = [[0.0, 0.0], [1e3, 1e3]]  # no row is ever near the second mean
    model = OnlineGaussianMixture(2, means_init=far, init_size=500)
    with pytest.warns(ConvergenceWarning, match=r"Components \[1\] hold less than one row"):
        _stream(model, X, 100)
    with warnings.catch_warnings():  # said once, when it happens
        warnings.simplefilter("error")
        model.partial_fit(X[:100])
    assert model.weights_[1] == 0.0
    _assert_valid(model, X)
    np.testing.assert_array_equal(model.predict(X), 0)


def test_a_constant_rate_follows_a_moving_component():
    rng = np.random.default_rng(0)
    model = OnlineGaussianMixture(
        2, learning_rate="constant", eta0=0.01, average=False, random_state=0
    )
    centres = np.array([[-10.0, 0.0], [10.0, 0.0]])
    for shift in (0.0, 0.0, 5.0, 5.0, 5.0):
        X = centres[rng.integers(0, 2, 2000)] + rng.normal(size=(2000, 2)) + [0, shift]
        _stream(model, X, 100)
    np.testing.assert_allclose(np.sort(model.means_[:, 1]), [5, 5], atol=0.2)


def test_reads_match_gaussian_mixture_with_the_same_parameters():
    X = _separated(3, 4, 3000, 4)
    for covariance_type in STRUCTURES:
        ours = OnlineGaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
        theirs = GaussianMixture(3, covariance_type=covariance_type)
        theirs.weights_, theirs.means_ = ours.weights_, ours.means_
        theirs.covariances_ = ours.covariances_
        theirs.precisions_cholesky_ = ours.precisions_cholesky_
        theirs.converged_, theirs.n_features_in_ = True, 4
        np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-10)
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
        np.testing.assert_allclose(ours.bic(X), theirs.bic(X), rtol=1e-10)
        np.testing.assert_allclose(ours.aic(X), theirs.aic(X), rtol=1e-10)
        np.testing.assert_allclose(ours.precisions_, _precisions(theirs), rtol=1e-9)


def _precisions(gm):
    P = gm.precisions_cholesky_
    if gm.covariance_type == "full":
        return np.einsum("kij,klj->kil", P, P)
    if gm.covariance_type == "tied":
        return P @ P.T
    return P**2


def test_fit_converges_and_samples_look_like_the_data():
    X = _separated(3, 2, 5000, 5)
    model = OnlineGaussianMixture(3, n_init=3, random_state=0).fit(X)
    assert model.converged_ and model.n_iter_ == len(model.lower_bounds_) >= 2
    assert model.lower_bound_ == model.lower_bounds_[-1]
    samples, labels = model.sample(20_000)
    assert samples.shape == (20_000, 2) and np.bincount(labels, minlength=3).sum() == 20_000
    np.testing.assert_allclose(samples.mean(axis=0), X.mean(axis=0), atol=0.3)
    assert abs(model.score(samples) - model.score(X)) < 0.1


def test_bad_input_is_refused_and_changes_nothing():
    X = _separated(3, 2, 500, 6)
    with pytest.raises(ValueError, match="Expected n_samples >= n_components"):
        OnlineGaussianMixture(3).fit(X[:2])
    for settings, message in [
        ({"weights_init": [0.5, 0.6, 0.1]}, "sum to 1"),
        ({"means_init": np.zeros((2, 2))}, "means_init must be finite with shape"),
        ({"precisions_init": -np.ones((3, 2)), "covariance_type": "diag"}, "positive"),
        ({"precisions_init": np.array([[[1, 2], [2, 1]]] * 3)}, "positive definite"),
    ]:
        with pytest.raises(ValueError, match=message):
            OnlineGaussianMixture(3, **settings).fit(X)
    model = OnlineGaussianMixture(3, random_state=0).partial_fit(X)
    before = pickle.dumps(model)
    bad = X[:10].copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.partial_fit(bad)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :1])
    with pytest.raises(ValueError, match="n_components=3 -> 2"):
        model.set_params(n_components=2).partial_fit(X)
    model.set_params(n_components=3)
    assert pickle.dumps(model) == before


def test_warm_up_keeps_rows_until_init_size_then_drops_them():
    X = _separated(2, 3, 1000, 7)
    model = OnlineGaussianMixture(2, init_size=250, random_state=0)
    model.partial_fit(X[:100])
    assert len(model._state.kept) == 100
    model.partial_fit(X[100:300])
    assert model._state.kept is None and model.n_samples_seen_ == 300
    # The warm-up is batch EM on its rows: however they arrive, the same start.
    at_once = OnlineGaussianMixture(2, init_size=250, random_state=0).partial_fit(X[:300])
    np.testing.assert_allclose(model.means_, at_once.means_, rtol=1e-10)


def test_pipelines_grid_search_clone_and_pickle():
    X = _separated(3, 3, 2000, 8)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), OnlineGaussianMixture(random_state=0)),
        {"onlinegaussianmixture__n_components": [1, 3]},
        cv=3,
    ).fit(X)
    assert search.best_params_ == {"onlinegaussianmixture__n_components": 3}
    model = OnlineGaussianMixture(3, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.score_samples(X), model.score_samples(X))
    assert not hasattr(clone(model), "_state")


def test_no_warning_on_well_separated_data():
    X = _separated(3, 2, 3000, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _stream(OnlineGaussianMixture(3, n_init=3, random_state=0), X, 100)


def test_warm_start_continues_and_a_cold_fit_starts_afresh():
    X = _separated(3, 2, 3000, 10)
    model = OnlineGaussianMixture(3, n_init=3, random_state=0).fit(X)
    seen, t = model.n_samples_seen_, model.t_
    model.set_params(warm_start=True).fit(X[:500])
    assert model.n_samples_seen_ == seen + 500 and model.t_ > t
    before = pickle.dumps(model)
    with pytest.raises(ValueError, match="n_components=3 -> 2"):
        model.set_params(n_components=2).fit(X)  # a warm start of another layout
    assert pickle.dumps(model.set_params(n_components=3)) == before
    model.set_params(warm_start=False).fit(X[:500])
    assert model.n_samples_seen_ == 500


def test_a_stream_may_start_one_row_at_a_time():
    X = _separated(3, 2, 1500, 11)
    model = OnlineGaussianMixture(3, init_size=300, random_state=0)
    model.partial_fit(X[:1]).partial_fit(X[1:2])
    with pytest.raises(NotFittedError):
        model.predict(X[:1])
    for i in range(2, len(X)):
        model.partial_fit(X[i : i + 1])
    batch = OnlineGaussianMixture(3, init_size=300, random_state=0).partial_fit(X[:300])
    batch.partial_fit(X[300:])  # the same warm-up rows, then online EM in batches
    assert model.n_samples_seen_ == len(X)
    np.testing.assert_allclose(np.sort(model.weights_), np.sort(batch.weights_), atol=0.01)


def test_partial_fit_takes_sample_weights_as_repeated_rows():
    # One component: an integer weight k is k copies of the row, warm-up included.
    X = np.random.default_rng(12).normal(size=(900, 2))
    w = np.random.default_rng(13).integers(0, 4, len(X)).astype(float)
    weighted = OnlineGaussianMixture(1, init_size=300)
    for rows in np.array_split(np.arange(len(X)), 6):
        weighted.partial_fit(X[rows], sample_weight=w[rows])
    repeated = np.repeat(X, w.astype(int), axis=0)
    np.testing.assert_allclose(weighted.means_[0], repeated.mean(0), rtol=1e-10)
    np.testing.assert_allclose(weighted.covariances_[0], np.cov(repeated.T, bias=True), rtol=1e-9)
    assert weighted.n_samples_seen_ == np.count_nonzero(w)


@pytest.mark.parametrize("covariance_type", STRUCTURES)
def test_a_row_beyond_float64_is_minus_inf_and_the_mixture_stays_finite(covariance_type):
    # Every log-density of the far row is below float64: the row's score is
    # -inf, it goes to the nearest component in the metric, and its step
    # leaves a finite mixture (never the NaN of -inf minus -inf).
    rng = np.random.default_rng(20)
    base = np.concatenate([rng.normal(-3, 1, (150, 3)), rng.normal(3, 1, (150, 3))])
    for scale in (1e-140, 1e-70, 1e-5, 1.0, 1e70, 1e140):
        X = base * scale
        fitted = OnlineGaussianMixture(
            2, covariance_type=covariance_type, init_size=100, random_state=0
        ).fit(X)
        for size in (1e-150, 1e-100, 1.0, 1e100, 1e149):
            far = np.full((1, 3), size)
            scores = fitted.score_samples(far)
            assert not np.isnan(scores).any() and scores[0] < np.inf
            proba = fitted.predict_proba(far)
            assert np.all(np.isfinite(proba)) and proba.sum() == pytest.approx(1.0)
            if scores[0] == -np.inf:  # one of the components nearest in the metric
                distances = _scaled_mahalanobis(fitted, far[0])
                assert distances[fitted.predict(far)[0]] <= distances.min() * (1 + 1e-12)
                assert np.all(proba[0][distances > distances.min() * (1 + 1e-12)] == 0)
            model = pickle.loads(pickle.dumps(fitted))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # a component may be lost
                model.partial_fit(far)
            assert np.all(model.weights_ >= 0) and model.weights_.sum() == pytest.approx(1, 1e-15)
            assert np.all(np.isfinite(model.means_)) and not np.isnan(model.lower_bound_)
            assert np.all(np.isfinite(model.score_samples(X)))


def _scaled_mahalanobis(model, x):
    """Squared Mahalanobis distances of ``x`` to each component, over ``max |x|**2``."""
    d, precisions = len(x), model.precisions_
    if model.covariance_type == "tied":
        precisions = np.broadcast_to(precisions, (model.n_components, d, d))
    elif model.covariance_type == "diag":
        precisions = np.array([np.diag(p) for p in precisions])
    elif model.covariance_type == "spherical":
        precisions = precisions[:, None, None] * np.eye(d)
    u = (x - model.means_) / np.abs(x).max()
    return np.einsum("ki,kij,kj->k", u, precisions, u)


def test_a_row_beyond_float64_gets_lower_bound_minus_inf_in_its_pass():
    rng = np.random.default_rng(21)
    model = OnlineGaussianMixture(2, init_size=100, random_state=0)
    model.fit(rng.normal(size=(300, 3)) * 1e-5)
    far = np.full((1, 3), 1e149)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(np.concatenate([far, rng.normal(size=(5, 3)) * 1e-5]))
    assert model.lower_bound_ == -np.inf  # the far row was scored before its step
    assert np.all(np.isfinite(model.covariances_))


def test_no_component_starts_from_nothing_or_reads_a_made_up_gaussian():
    rng = np.random.default_rng(22)
    X = np.concatenate([rng.normal(-3, 1, (150, 3)), rng.normal(3, 1, (150, 3))]) + 10
    # Two distinct rows for three components: each starts from a row.
    twice = np.repeat(X[:2], 50, axis=0)
    for init_params in ("kmeans", "k-means++", "random_from_data"):
        with warnings.catch_warnings():  # k-means and the lost-component warnings
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = OnlineGaussianMixture(3, init_params=init_params, random_state=0).fit(twice)
        for mean in model.means_:
            assert np.any(np.all(mean == X[:2], axis=1))
        assert np.all(model.weights_ > 0) and model.weights_.sum() == pytest.approx(1)
        _assert_valid(model, twice)
    # A component of weight 0 keeps the Gaussian of the rows it started from.
    with pytest.warns(ConvergenceWarning, match=r"Components \[1\] hold less than one row"):
        model = OnlineGaussianMixture(2, weights_init=[1.0, 0.0], random_state=0).fit(X)
    assert model.weights_[1] == 0.0
    assert np.all(model.means_[1] > 5) and np.all(np.diag(model.covariances_[1]) > 0.1)
    assert np.all(model.predict_proba(X)[:, 1] == 0.0)
    _assert_valid(model, X)
    with pytest.warns(ConvergenceWarning, match=r"Components \[1\]"):
        other = OnlineGaussianMixture(2, weights_init=[1.0, 0.0], random_state=1).fit(X[::2])
    merged = merge([model, other])
    assert np.all(np.isfinite(merged.means_)) and merged.weights_.sum() == pytest.approx(1)
    _assert_valid(merged, X)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"weights_init": [0.5, 0.2, 0.3, 0.1]}, "weights_init must be finite with shape"),
        ({"weights_init": [0.5, 0.6, 0.1]}, "sum to 1"),
        ({"weights_init": [1.5, -0.25, -0.25]}, "non-negative"),
        ({"weights_init": [np.nan, 0.5, 0.5]}, "weights_init must be finite"),
        ({"means_init": np.zeros((3, 3)).tolist()}, "means_init must be finite with shape"),
        ({"precisions_init": [[[1, 2], [2, 1]]] * 3}, "positive definite"),
    ],
)
def test_init_parameters_are_refused_by_the_call_that_receives_them(settings, message):
    X = _separated(3, 2, 500, 23)
    rng = np.random.RandomState(0)
    model = OnlineGaussianMixture(3, init_size=100, random_state=rng, **settings)
    for call in (lambda: model.partial_fit(X[:1]), lambda: model.fit(X)):
        before, state = pickle.dumps(model.__dict__), rng.get_state()
        with pytest.raises(ValueError, match=message):
            call()  # before a component has a row: nothing would be drawn yet
        assert pickle.dumps(model.__dict__) == before
        np.testing.assert_array_equal(rng.get_state()[1], state[1])
    # Set between two calls of the warm-up: refused by the next one, nothing drawn.
    model = OnlineGaussianMixture(3, init_size=100, random_state=rng).partial_fit(X[:50])
    model.set_params(**settings)
    before, state = pickle.dumps(model.__dict__), rng.get_state()
    with pytest.raises(ValueError, match=message):
        model.partial_fit(X[50:51])
    assert pickle.dumps(model.__dict__) == before
    np.testing.assert_array_equal(rng.get_state()[1], state[1])
    # Set after the warm-up or after fit (state machine F3): refused all the same.
    for model in (
        OnlineGaussianMixture(3, init_size=100, random_state=rng).partial_fit(X[:200]),
        OnlineGaussianMixture(3, random_state=rng).fit(X),
    ):
        model.set_params(**settings)
        before, state = pickle.dumps(model.__dict__), rng.get_state()
        with pytest.raises(ValueError, match=message):
            model.partial_fit(X[:10])
        assert pickle.dumps(model.__dict__) == before
        np.testing.assert_array_equal(rng.get_state()[1], state[1])


@pytest.mark.parametrize("average", [False, True])
def test_weights_are_relative(average):
    # The default schedule pools row weights as shares: a constant factor on
    # every weight changes no estimate and no warning, in fit and partial_fit.
    rng = np.random.default_rng(24)
    X = np.concatenate([rng.normal(-3, 1, (150, 3)), rng.normal(3, 1, (150, 3))])
    w = rng.uniform(0.5, 2, len(X))

    def fitted(c, stream):
        model = OnlineGaussianMixture(
            2, init_size=100, batch_size=50, average=average, random_state=0
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if stream:
                for rows in np.array_split(np.arange(len(X)), 10):
                    model.partial_fit(X[rows], sample_weight=w[rows] * c)
            else:
                model.fit(X, sample_weight=w * c)
        return model, [str(warning.message) for warning in caught]

    for stream in (False, True):
        reference, said = fitted(1.0, stream)
        for c in (1e-3, 1 / 300, 7.0):
            model, warned = fitted(c, stream)
            assert warned == said
            for name in ("weights_", "means_", "covariances_"):
                np.testing.assert_allclose(
                    getattr(model, name), getattr(reference, name), rtol=1e-10, atol=1e-13
                )
            assert model.lower_bound_ == pytest.approx(reference.lower_bound_, rel=1e-12)
            assert model.n_iter_ == reference.n_iter_
