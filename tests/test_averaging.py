import numpy as np

from sklearn_onlinegauss._averaging import update_average
from sklearn_onlinegauss._gaussians import Gaussians


def test_running_average_is_the_weighted_mean_of_the_iterates():
    rng = np.random.default_rng(0)
    locations, covariances = rng.normal(size=(5, 1, 2)), rng.normal(size=(5, 1, 2, 2))
    weights = np.array([1.0, 3.0, 0.5, 2.0, 4.0])
    average = None
    for mu, cov, w in zip(locations, covariances, weights, strict=True):
        average = update_average(average, Gaussians(np.ones(1), mu, np.zeros_like(mu), cov), w)
    np.testing.assert_allclose(
        average.state.locations, np.average(locations, axis=0, weights=weights)
    )
    np.testing.assert_allclose(
        average.state.covariances, np.average(covariances, axis=0, weights=weights)
    )
    assert average.weight == weights.sum()
