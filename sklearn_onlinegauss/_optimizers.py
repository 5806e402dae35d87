"""Update rules on plain tuples of arrays, in the ``init`` / ``update`` style of optax.

An optimizer turns a gradient (of the log-likelihood, to be *ascended*) into
the step to add to the parameters.  It holds hyperparameters only; its state
(Adam's moment estimates) is returned to the caller, who stores it.
"""

from typing import NamedTuple

import numpy as np

__all__ = ["OPTIMIZERS", "SGD", "Adam", "AdamState"]


class SGD:
    """Plain gradient ascent: ``step = lr * grad``."""

    #: Whether ``update`` reads the mean of each row's squared gradient.
    row_squares = False

    def init(self, params):
        return ()

    def update(self, grads, state, lr, squares=None):
        return tuple(lr * g for g in grads), state


class AdamState(NamedTuple):
    count: int
    m: tuple
    v: tuple


class Adam:
    """Adam (Kingma & Ba, 2015) with bias correction, as in MLPRegressor.

    ``step = lr * m_hat / (sqrt(v_hat) + epsilon)`` with ``m_hat``, ``v_hat``
    the bias-corrected first and second moment estimates of the gradient.
    One difference: ``v`` averages ``squares``, the mean of each row's own
    squared gradient, where MLPRegressor squares the batch's mean gradient.
    Near the optimum the mean gradient of ``b`` rows is ``sqrt(b)`` times
    smaller than one row's, so the batch's square would make every step of a
    batch of 100 ten times longer than its rows' rates ask. One row at a
    time the two rules agree. Without ``squares`` it squares ``grads``.
    """

    row_squares = True

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def init(self, params):
        zeros = tuple(np.zeros_like(p) for p in params)
        return AdamState(0, zeros, zeros)

    def update(self, grads, state, lr, squares=None):
        b1, b2 = self.beta_1, self.beta_2
        count = state.count + 1
        squares = tuple(g * g for g in grads) if squares is None else squares
        m = tuple(b1 * mi + (1 - b1) * g for mi, g in zip(state.m, grads, strict=True))
        v = tuple(b2 * vi + (1 - b2) * s for vi, s in zip(state.v, squares, strict=True))
        c1, c2 = 1 - b1**count, 1 - b2**count
        steps = tuple(
            lr * (mi / c1) / (np.sqrt(vi / c2) + self.epsilon) for mi, vi in zip(m, v, strict=True)
        )
        return steps, AdamState(count, m, v)


#: Public solver name -> factory taking the estimator's Adam hyperparameters.
OPTIMIZERS = {
    "sgd": lambda beta_1, beta_2, epsilon: SGD(),
    "adam": Adam,
}
