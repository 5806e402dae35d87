"""Learning-rate schedules: the per-sample step size as a function of the weight seen.

``t`` counts samples (total sample weight) *including* the batch being
processed, so it survives mini-batching, ``partial_fit`` and pickling.  A batch
of weight ``w`` takes one step of size ``w * schedule(t, eta0, power_t)``, the
sum of the steps its samples would have taken one at a time.  With
``'optimal'`` that is ``w / t``: for the natural solver exactly the pooled
maximum-likelihood update, whatever the batch sizes.
"""

__all__ = ["SCHEDULES"]


def constant(t, eta0, power_t):
    """``eta0``: exponential forgetting with an effective memory of ~``1/eta0`` samples."""
    return eta0


def optimal(t, eta0, power_t):
    """``1 / t`` (Robbins-Monro): the running maximum-likelihood estimate."""
    return 1.0 / t


def invscaling(t, eta0, power_t):
    """``eta0 / t**power_t``; Robbins-Monro needs ``1/2 < power_t <= 1``."""
    return eta0 / t**power_t


#: Public name -> ``schedule(t, eta0, power_t) -> per-sample rate``.
#: ``'adaptive'`` is ``constant`` at a rate the estimator divides by 5 when
#: ``fit`` stops improving (the SGDRegressor rule).
SCHEDULES = {
    "optimal": optimal,
    "constant": constant,
    "invscaling": invscaling,
    "adaptive": constant,
}
