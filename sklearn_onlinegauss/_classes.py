"""A classifier's learned state: one Gaussian per class, its step with labels as row weights."""

from typing import NamedTuple

import numpy as np

from ._gaussians import Gaussians
from ._shrinkage import (
    FourthMoments,
    combine_fourth_moments,
    intensity,
    pool_labelled_fourth_moments,
)

__all__ = ["ClassState", "class_intensities", "class_step", "labels_of", "merge_class_states"]


class ClassState(NamedTuple):
    """A classifier's learned state: the Gaussians of its classes and what it counts."""

    gaussians: Gaussians
    classes: np.ndarray
    counts: np.ndarray  # total sample weight seen of each class
    fourth: FourthMoments = None  # Ledoit-Wolf's sums per class, when gathered


class _Labels(NamedTuple):
    classes: np.ndarray
    index: np.ndarray  # each row's class, as an index into classes


class Labels(NamedTuple):
    classes: np.ndarray
    index: np.ndarray  # each row's class, as an index into classes


def labels_of(classes, y):
    """:class:`Labels` of ``y`` among the sorted ``classes``; a ValueError for others."""
    index = np.searchsorted(classes, y)
    index[index >= len(classes)] = 0
    unknown = classes[index] != y
    if unknown.any():
        raise ValueError(
            f"y has labels not in classes ({y[unknown][:3]!r}); pass every class of the "
            "stream in the first partial_fit's classes."
        )
    return Labels(classes, index)


def class_step(structure, rate, labels):
    """The stream's step: each row weighs on its own class only, at the stream's rate."""

    def step(state, Xb, wb, t, rows):
        index = labels.index[rows]
        weights, retain = rate.pooling(t, wb, len(Xb))
        A = np.zeros((len(Xb), len(state.classes)))
        A[np.arange(len(Xb)), index] = weights
        gaussians = structure.step(state.gaussians, Xb, A, retain)
        counts = state.counts + np.bincount(index, weights=wb, minlength=len(state.counts))
        fourth = state.fourth
        if fourth is not None:
            fourth = pool_labelled_fourth_moments(fourth, Xb, A, index, gaussians)
        return ClassState(gaussians, state.classes, counts, fourth), False

    return step


def class_intensities(kind, state, t, shared):
    """Each class's shrinkage intensity ``kind`` gives (one for the shared covariance)."""
    gaussians = state.gaussians
    if shared:
        return intensity(kind, gaussians.covariances, t)
    fourth = state.fourth
    return np.array(
        [
            intensity(
                kind,
                gaussians.covariances[k],
                n,
                None if fourth is None else FourthMoments(fourth.m3[k], fourth.m4[k]),
                gaussians.means[k],
            )
            for k, n in enumerate(state.counts)
        ]
    )


def merge_class_states(structure, parts):
    """The parts' class states pooled class by class: ``(state, total weight)``."""
    total = sum(p.t_ for p in parts)
    merged = None
    for part in parts:
        state = part._state
        weights = state.gaussians.weights * (part.t_ / total)
        scaled = state._replace(gaussians=state.gaussians._replace(weights=weights))
        if merged is None:
            merged = scaled
            continue
        fourth = None if merged.fourth is None else _combine_class_fourth(merged, scaled)
        merged = ClassState(
            structure.combine(merged.gaussians, scaled.gaussians),
            merged.classes,
            merged.counts + scaled.counts,
            fourth,
        )
    return merged, total


def _combine_class_fourth(a, b):
    """Ledoit-Wolf's per-class sums of two class states, pooled class by class."""
    m3, m4 = a.fourth.m3.copy(), a.fourth.m4.copy()
    wa, wb = a.gaussians.weights, b.gaussians.weights
    for k in np.flatnonzero(wb > 0):
        if wa[k] == 0:
            m3[k], m4[k] = b.fourth.m3[k], b.fourth.m4[k]
            continue
        one = slice(k, k + 1)
        m3[k], m4[k] = combine_fourth_moments(
            FourthMoments(a.fourth.m3[k], a.fourth.m4[k]),
            Gaussians(*(f[one] for f in a.gaussians)),
            FourthMoments(b.fourth.m3[k], b.fourth.m4[k]),
            Gaussians(*(f[one] for f in b.gaussians)),
            wb[k] / (wa[k] + wb[k]),
        )
    return FourthMoments(m3, m4)
