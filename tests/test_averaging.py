import numpy as np

from sklearn_onlinegauss._averaging import update_average


def test_running_average_is_the_weighted_mean_of_the_iterates():
    rng = np.random.default_rng(0)
    locations, covariances = rng.normal(size=(5, 2)), rng.normal(size=(5, 2, 2))
    weights = np.array([1.0, 3.0, 0.5, 2.0, 4.0])
    average = None
    for mu, cov, w in zip(locations, covariances, weights, strict=True):
        average = update_average(average, mu, cov, w)
    np.testing.assert_allclose(average.location, np.average(locations, axis=0, weights=weights))
    np.testing.assert_allclose(
        average.covariance, np.average(covariances, axis=0, weights=weights)
    )
    assert average.weight == weights.sum()
