"""Polyak-Ruppert averaging of the iterates, weighted by the sample weight of each step."""

from typing import NamedTuple

import numpy as np

from ._gaussians import Gaussians

__all__ = ["Averaged", "averaging_start", "update_average"]


class Averaged(NamedTuple):
    state: Gaussians
    weight: float


def update_average(average, state, weight):
    """Fold the iterate ``state`` (a :class:`Gaussians`) into the running average.

    ``average`` is an :class:`Averaged` or None (averaging not started yet).
    Every array of the state is averaged; for covariances (or variances) that
    is a convex combination, so the average stays positive definite.
    """
    if average is None:
        return Averaged(Gaussians(*(a.copy() for a in state)), weight)
    total = average.weight + weight
    f = weight / total
    return Averaged(
        Gaussians(*(a + f * (s - a) for a, s in zip(average.state, state, strict=True))), total
    )


def averaging_start(average):
    """Total weight from which to average the iterates, for an ``average`` parameter; None: never.

    ``True`` is from the start, ``False`` never, a number from that weight;
    ``average`` may be a numpy bool as well as a Python one.
    """
    if isinstance(average, (bool, np.bool_)):
        return 0.0 if average else None
    return average
