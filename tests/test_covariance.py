import numpy as np
import pytest

from sklearn_onlinegauss._covariance import kl_divergence


def test_kl_divergence_of_a_known_pair():
    # KL(N(0, 1) || N(1, 4)) = log 2 + (1 + 1) / 8 - 1/2
    kl = kl_divergence(np.zeros(1), np.eye(1), np.ones(1), 4 * np.eye(1))
    assert kl == pytest.approx(np.log(2) + 2 / 8 - 0.5)
    assert kl_divergence(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2)) == 0
