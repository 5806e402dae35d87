"""Polyak-Ruppert averaging of the iterates, weighted by the sample weight of each step."""

from typing import NamedTuple

__all__ = ["Average", "update_average"]


class Average(NamedTuple):
    location: object
    covariance: object
    weight: float


def update_average(average, location, covariance, weight):
    """Fold the iterate ``(location, covariance)`` into the running average.

    ``average`` is an :class:`Average` or None (averaging not started yet).
    Averaging covariances is a convex combination, so the average stays
    positive definite.
    """
    if average is None:
        return Average(location.copy(), covariance.copy(), weight)
    total = average.weight + weight
    f = weight / total
    return Average(
        average.location + f * (location - average.location),
        average.covariance + f * (covariance - average.covariance),
        total,
    )
