"""Each update rule against a step computed by hand."""

import numpy as np
import pytest

from sklearn_onlinegauss._optimizers import SGD, Adam


def test_sgd_step_is_learning_rate_times_gradient():
    grads = (np.array([1.0, -2.0]), np.array([[0.5]]))
    steps, state = SGD().update(grads, SGD().init(grads), 0.1)
    np.testing.assert_allclose(steps[0], [0.1, -0.2])
    np.testing.assert_allclose(steps[1], [[0.05]])
    assert state == ()


def test_adam_two_steps_by_hand():
    adam = Adam(beta_1=0.9, beta_2=0.99, epsilon=1e-8)
    params = (np.zeros(1),)
    state = adam.init(params)
    step1, state = adam.update((np.array([2.0]),), state, 0.1)
    # m = 0.2, v = 0.04; m_hat = 2, v_hat = 4  -> 0.1 * 2 / (2 + 1e-8)
    assert step1[0][0] == pytest.approx(0.1 * 2 / (2 + 1e-8))
    step2, state = adam.update((np.array([-1.0]),), state, 0.1)
    m = 0.9 * 0.2 + 0.1 * -1.0
    v = 0.99 * 0.04 + 0.01 * 1.0
    expected = 0.1 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.99**2)) + 1e-8)
    assert step2[0][0] == pytest.approx(expected)
    assert state.count == 2


def test_adam_leaves_coordinates_with_zero_gradient_alone():
    # A diagonal model keeps zero off-diagonal gradients: those entries must not move.
    adam = Adam()
    grads = (np.array([[1.0, 0.0], [0.0, -3.0]]),)
    steps, _ = adam.update(grads, adam.init(grads), 0.5)
    assert steps[0][0, 1] == 0 and steps[0][1, 0] == 0
