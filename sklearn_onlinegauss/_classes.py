"""A classifier's learned state: one Gaussian per class, its step with labels as row weights.

Also how two states merge, and the mathematics of the classifier's reads on plain arrays
and structures; :class:`PosteriorReads` writes its posterior reads once.
"""

import warnings
from typing import NamedTuple

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._compat import InvalidParameterError
from ._gaussians import Gaussians
from ._linalg import block_threads_for, solve_lower
from ._shrinkage import (
    FourthMoments,
    combine_fourth_moments,
    component_fourth,
    empty_fourth_moments,
    intensity,
    pool_labelled_fourth_moments,
    with_component,
)
from ._streaming import read_of_rows
from ._structures import SHARED, STRUCTURES
from .exceptions import outside_stacklevel

__all__ = [
    "ClassState",
    "Discriminants",
    "LinearForm",
    "PosteriorReads",
    "QuadraticForm",
    "background",
    "check_class_settings",
    "checked_priors",
    "class_intensities",
    "class_labels",
    "class_step",
    "finite_joint",
    "lda_coefficients",
    "linear_map",
    "labels_of",
    "log_posteriors",
    "log_priors_of",
    "merge_class_states",
    "of_every_class",
    "priors_of",
    "relative_ood",
    "seen_estimate",
    "sorted_classes",
    "warn_unseen",
]


# -- the learned state and the labels --------------------------------------------------


class ClassState(NamedTuple):
    """A classifier's learned state: the Gaussians of its classes and what it counts."""

    gaussians: Gaussians
    classes: np.ndarray
    counts: np.ndarray  # total sample weight seen of each class
    fourth: FourthMoments = None  # Ledoit-Wolf's sums per class, when gathered

    @classmethod
    def empty(cls, structure, classes, n_features, shrinkage):
        """The state of classes that have seen nothing."""
        K, d = len(classes), n_features
        gathers = shrinkage == "ledoit-wolf"
        fourth = empty_fourth_moments(d, K) if gathers else None
        return cls(structure.empty(K, d), classes, np.zeros(K), fourth)

    def with_classes(self, structure, classes):
        """This state among more ``classes`` (sorted, a superset): the new ones have seen nothing.

        Each class keeps its Gaussian, count and sums; a class of weight 0 takes part
        in no step and no read, so the state continues as if the new classes had been
        there from the start. A shared covariance (``SHARED``'s) is kept whole.
        """
        where = np.searchsorted(classes, self.classes)
        if not np.array_equal(np.asarray(classes)[where], self.classes):
            raise ValueError(f"{classes!r} does not hold every class of {self.classes!r}.")
        shrinkage = None if self.fourth is None else "ledoit-wolf"
        empty = ClassState.empty(structure, classes, self.gaussians.means.shape[1], shrinkage)

        def put(new, old):  # an array with a class axis: the old rows at their new places
            if old is None:
                return None
            new = new.copy()
            new[where] = old
            return new

        old, new = self.gaussians, empty.gaussians
        shared = structure is SHARED
        covariances = old.covariances if shared else put(new.covariances, old.covariances)
        gaussians = Gaussians(
            put(new.weights, old.weights),
            put(new.origins, old.origins),
            put(new.means, old.means),
            covariances,
        )
        fourth = None
        if self.fourth is not None:
            pairs = zip(empty.fourth, self.fourth, strict=True)
            fourth = FourthMoments(*(put(n, o) for n, o in pairs))
        return ClassState(gaussians, classes, put(empty.counts, self.counts), fourth)


class Labels(NamedTuple):
    classes: np.ndarray
    index: np.ndarray  # each row's class, as an index into classes


def class_labels(X, y, known, fit=False, classes=None):
    """:class:`Labels` of a call's ``y`` (``known``: the classes of the first call, or None)."""
    if known is None or not (type(y) is np.ndarray and y.ndim == 1):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
    # Later, a plain array of labels needs only to hold known classes.
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels.")
    if fit:
        return labels_of(np.unique(y), y)
    if known is None:
        if classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return labels_of(sorted_classes(classes), y)
    if classes is not None and not np.array_equal(classes, known):
        raise ValueError(f"classes={classes!r} is not the classes_ of the first call, {known!r}.")
    return labels_of(known, y)


def sorted_classes(classes):
    """The distinct ``classes``, sorted; a ValueError if they are of types that do not compare."""
    try:
        return np.unique(classes)
    except TypeError:
        raise ValueError(f"classes must be of one type, got {classes!r}.") from None


def labels_of(classes, y):
    """:class:`Labels` of ``y`` among the sorted ``classes``; a ValueError for others."""
    try:
        index = np.searchsorted(classes, y)
    except TypeError:  # labels of another type than the classes: numpy cannot order them
        raise ValueError(
            f"y's labels ({y[:3]!r}) cannot be compared with the classes {classes!r}: "
            "every label must be of the classes' type."
        ) from None
    index[index >= len(classes)] = 0
    # numpy < 1.25 compares arrays of str and int as one False/True (and warns): broadcast it.
    unknown = np.broadcast_to(classes[index] != y, np.shape(y))
    if unknown.any():
        raise ValueError(
            f"y has labels not in classes ({y[unknown][:3]!r}); pass every class of the "
            "stream in the first partial_fit's classes."
        )
    return Labels(classes, index)


# -- the step and the settings it needs ------------------------------------------------


def check_class_settings(covariance, covariance_type, shrinkage, learning_rate):
    """Refuse settings that mean nothing together (InvalidParameterError)."""
    if covariance == "shared" and covariance_type != "full":
        raise InvalidParameterError(
            "covariance='shared' is the pooled within-class covariance of "
            "LinearDiscriminantAnalysis and needs covariance_type='full'."
        )
    if isinstance(shrinkage, str) and (covariance_type != "full" or learning_rate != "optimal"):
        raise InvalidParameterError(
            f"shrinkage={shrinkage!r} estimates each covariance from all the data "
            "seen: it needs covariance_type='full' and learning_rate='optimal'."
        )
    if shrinkage == "ledoit-wolf" and covariance == "shared":
        raise InvalidParameterError(
            "shrinkage='ledoit-wolf' is per class: the Ledoit-Wolf intensity of the "
            "shared covariance needs every class's own covariance, which "
            "covariance='shared' does not keep. Use shrinkage='oas' (OAS of the "
            "class-centred rows) or a fixed intensity."
        )


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


def class_intensities(kind, state, t, shared, target="spherical"):
    """Each class's shrinkage intensity ``kind`` gives toward ``target`` (one for the shared
    covariance)."""
    if kind == "ledoit-wolf" and state.fourth is None:
        raise ValueError(
            "shrinkage='ledoit-wolf' needs sums gathered while fitting, and this "
            "classifier was fitted without it: refit with shrinkage='ledoit-wolf' set."
        )
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
                None if fourth is None else component_fourth(fourth, k),
                gaussians.means[k],
                target,
            )
            for k, n in enumerate(state.counts)
        ]
    )


# -- merging ---------------------------------------------------------------------------


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
    fourth = a.fourth
    wa, wb = a.gaussians.weights, b.gaussians.weights
    for k in np.flatnonzero(wb > 0):
        part = component_fourth(b.fourth, k)
        if wa[k] > 0:
            one = slice(k, k + 1)
            part = combine_fourth_moments(
                component_fourth(a.fourth, k),
                Gaussians(*(f[one] for f in a.gaussians)),
                part,
                Gaussians(*(f[one] for f in b.gaussians)),
                wb[k] / (wa[k] + wb[k]),
            )
        fourth = with_component(fourth, k, part)
    return fourth


# -- priors ----------------------------------------------------------------------------


def checked_priors(priors, n_classes, warn=False):
    """User ``priors`` as probabilities, or a ValueError that says what is wrong.

    As :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`:
    priors that do not sum to 1 are renormalized, with a warning (``warn``).
    """
    try:
        p = np.asarray(priors, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"priors must be numbers, got {priors!r}.") from None
    if p.shape != (n_classes,):
        raise ValueError(
            f"priors must be one number per class ({n_classes}), got shape {p.shape}."
        )
    if not np.isfinite(p).all():
        raise ValueError(f"priors must be finite, got {p!r}.")
    if (p < 0).any():
        raise ValueError(f"priors must be non-negative, got {p!r}.")
    if not p.any():
        raise ValueError(f"priors must not all be zero, got {p!r}.")
    if warn and abs(p.sum() - 1.0) > 1e-5:
        warnings.warn(
            "The priors do not sum to 1. Renormalizing",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
    p = p / p.max()  # no overflow in the sum
    return p / p.sum()


def priors_of(priors, weights):
    """The class priors: the user's ``priors`` checked, or the classes' ``weights`` normalized."""
    if priors is not None:
        return checked_priors(priors, len(weights))
    return weights / weights.sum()


def log_priors_of(priors, seen, classes):
    """Log priors, -inf for a class not seen; a ValueError if no class seen has mass."""
    log_priors = np.full(len(seen), -np.inf)
    with np.errstate(divide="ignore"):
        log_priors[seen] = np.log(priors[seen])
    if np.isneginf(log_priors).all():
        raise ValueError(
            f"The priors give no mass to any class seen ({classes[seen].tolist()}): "
            "no class can be predicted. Set priors that give a class seen mass."
        )
    return log_priors


# -- the estimate of the classes seen --------------------------------------------------


def seen_estimate(structure, state, intensities, reg_covar, target="spherical"):
    """``(Gaussians, factor)`` of the classes of ``state`` seen, shrunk and regularized.

    ``intensities``: a float for every class, or an array of shape (n_classes,),
    toward ``target`` (``'spherical'``: ``mu I``; ``'diag'``: the diagonal).
    A class with no rows has no Gaussian: the estimate has one per class seen.
    """
    seen = state.counts > 0
    gaussians = structure.take(state.gaussians, seen)
    intensities = np.asarray(intensities)
    gaussians = structure.shrink(
        gaussians, intensities[seen] if intensities.ndim else intensities, target
    )
    return structure.regularized(gaussians, reg_covar)


def of_every_class(values, seen):
    """Values of the classes ``seen`` as rows of every class: zeros for one not seen."""
    out = np.zeros((len(seen), *values.shape[1:]))
    out[seen] = values
    return out


def warn_unseen(name, classes, seen):
    """A UserWarning naming the classes with no rows, if any."""
    if not seen.all():
        warnings.warn(
            f"{name} has seen no rows of classes {classes[~seen].tolist()}: they have no "
            "Gaussian, so their probability is 0, their distance inf, and they are not "
            "predicted.",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )


# -- joint log-likelihoods and the reads of them ---------------------------------------


class QuadraticForm(NamedTuple):
    """The classes' Gaussians as squared distances and joint log-likelihoods less log priors."""

    structure: object
    state: Gaussians  # of the classes seen
    factor: object
    terms: np.ndarray  # (n_classes,): each class's normalizer, 0 for a class not seen
    seen: np.ndarray  # (n_classes,) bool

    @classmethod
    def of(cls, structure, fitted, seen):
        """The form of ``fitted``, a ``(Gaussians, factor, normalizers)`` of the classes seen."""
        state, factor, normalizers = fitted
        return cls(structure, state, factor, of_every_class(normalizers, seen), seen)

    @property
    def centre(self):
        """ndarray of shape (n_features,): the mean of the class means, where every row scores."""
        return self.state.locations.mean(axis=0)

    def distances(self, X):
        """Squared distances of ``X`` (n_samples, n_features) to every class, inf to one not seen.

        Returns an ndarray of shape (n_samples, n_classes), laid out class by class.
        """
        found = self.structure.mahalanobis(self.state, self.factor, X)
        if self.seen.all():
            return found
        distances = np.full((len(self.seen), len(X)), np.inf)
        distances[self.seen] = found.T
        return distances.T

    def __call__(self, X):
        """``X``'s joint log-likelihoods less log priors, (n_samples, n_classes), to a constant."""
        joint = self.distances(X)
        joint += self.terms
        joint *= -0.5
        return joint


class LinearForm(NamedTuple):
    """A shared covariance's joint log-likelihoods, less the term common to every class."""

    centre: np.ndarray  # the mean of the class means, toward which finite_joint scores
    coef: np.ndarray  # (n_classes, d): precision times each mean about the centre
    intercept: np.ndarray  # about the origin: -inf for a class not seen

    @classmethod
    def of(cls, structure, fitted, seen):
        """The form of ``fitted``, a ``(Gaussians, factor, normalizers)`` of the classes seen.

        ``(x - c) coef' + b`` with ``c`` the centre, computed as ``x coef' +
        (b - c coef')``, with no pass that centres the rows: the centre is
        itself known to the rounding of the class means, ``eps |c|``, which
        moves the centred form's values as much as the products' rounding of
        ``x`` rather than ``x - c`` does.
        """
        state, factor, _ = fitted
        locations = state.locations
        precision = structure.precisions(factor, locations.shape[1])[0]
        centre = locations.mean(axis=0)
        coef = np.zeros((len(seen), len(centre)))
        coef[seen] = (locations - centre) @ precision
        intercept = np.full(len(seen), -np.inf)
        intercept[seen] = -0.5 * np.einsum("ij,ij->i", coef[seen], locations - centre)
        return cls(centre, coef, intercept - coef @ centre)

    def __call__(self, X):
        """``X``'s joint log-likelihoods less log priors, (n_samples, n_classes), to a constant.

        Laid out class by class (the transpose of a C-ordered array), as the
        quadratic form's: the reads' sums and maxima over the classes then run
        along contiguous rows.
        """
        joint = np.empty((len(self.coef), len(X))).T
        with np.errstate(over="ignore", invalid="ignore"):  # scored nearer by finite_joint
            with block_threads_for(joint.size * len(self.centre)):
                np.matmul(X, self.coef.T, out=joint)
            joint += self.intercept
        return joint


def lda_coefficients(fitted, seen, log_priors):
    """LinearDiscriminantAnalysis's ``(coef_, intercept_)`` of a shared covariance.

    ``fitted``: the ``(Gaussians, factor, normalizers)`` of the classes seen;
    ``log_priors`` of every class (-inf: not seen or of prior 0). Each class's
    ``coef`` is ``precision @ mean`` (zeros for one not seen), its intercept
    ``-mean' precision mean / 2 + log prior``; two classes give one row, the
    second's less the first's, as LDA's.
    """
    state, factor, _ = fitted
    locations = state.locations
    coef = np.zeros((len(seen), locations.shape[1]))
    L = factor[0]
    coef[seen] = solve_lower(L, solve_lower(L, locations.T), trans=True).T
    intercept = np.full(len(seen), -np.inf)
    intercept[seen] = -0.5 * np.einsum("ij,ij->i", coef[seen], locations) + log_priors[seen]
    if len(seen) == 2:
        return (coef[1] - coef[0])[None], np.array([intercept[1] - intercept[0]])
    return coef, intercept


class Discriminants(NamedTuple):
    """LDA's discriminant directions of a shared covariance, and their shares of variance."""

    scalings: np.ndarray  # (d, min(n_classes - 1, d)): the directions, as columns
    ratios: np.ndarray  # (min(n_classes - 1, d),): shares of the between-class variance

    @classmethod
    def of(cls, fitted, n_classes):
        """The discriminants of ``fitted`` (the classes seen) among ``n_classes`` classes.

        The generalized eigenvectors of the between-class scatter ``B`` (of the
        class means, weighted by the classes' weights) against the shared
        covariance ``W = L L'``, as ``eigh(B, W)`` of LDA's ``'eigen'`` solver:
        by the SVD of ``L^-1 M'`` (``B = M' M``), which forms neither ``B`` nor
        the total covariance it is the difference of. Each column has
        ``s' W s = 1``, in decreasing order of eigenvalue; its sign makes its
        largest entry (the first, of ties) positive.
        """
        state, factor, _ = fitted
        locations, L = state.locations, factor[0]
        d = locations.shape[1]
        weights = state.weights / state.weights.sum()
        spread = (locations - weights @ locations) * np.sqrt(weights)[:, None]
        m = min(n_classes - 1, d)
        whitened = solve_lower(L, spread.T)  # (d, classes seen)
        # Full U only when the classes seen span fewer directions than asked for:
        # the others, of eigenvalue 0, are any orthonormal completion.
        U, S, _ = np.linalg.svd(whitened, full_matrices=m > min(whitened.shape))
        scalings = solve_lower(L, U[:, :m], trans=True)
        largest = scalings[np.argmax(np.abs(scalings), axis=0), np.arange(m)]
        scalings *= np.where(largest < 0, -1.0, 1.0)
        values = np.zeros(m)
        values[: min(m, len(S))] = S[:m] ** 2
        total = np.sum(S**2)
        ratios = values / total if total > 0 else values  # no between-class variance: 0
        return cls(scalings, ratios)


def linear_map(X, W, b):
    """``X @ W + b``, with no NaN where float64 overflows.

    A column whose ``b`` is infinite is ``b`` (a class of prior 0 has log
    posterior -inf wherever the row). A row whose values overflow (an
    infinite sum or ``inf - inf``) is computed as ``s`` times the row, then
    divided by ``s`` (``s = 2**-64k``, the first that is finite): ``+-inf``
    where the value is beyond float64, by the sign of the linear form.
    """
    b = np.broadcast_to(np.asarray(b, dtype=float), (W.shape[1],))
    out = np.empty((W.shape[1], len(X))).T  # column by column: the checks run along rows
    with np.errstate(over="ignore", invalid="ignore"):
        np.matmul(X, W, out=out)
        out += b
    infinite = ~np.isfinite(b)
    finite = ~infinite
    if infinite.any():
        out[:, infinite] = b[infinite]
        bad = ~np.isfinite(out[:, finite]).all(axis=1)
    else:
        bad = ~np.isfinite(out).all(axis=1)
    for i in np.flatnonzero(bad):
        s = 1.0
        while True:
            s *= 2.0**-64
            with np.errstate(over="ignore", invalid="ignore"):
                near = (X[i] * s) @ W[:, finite]
            if np.isfinite(near).all():  # as s -> 0 the row is 0, which maps finitely
                break
        with np.errstate(over="ignore"):
            out[i, finite] = near / s + b[finite]
    return np.ascontiguousarray(out)


def finite_joint(joint_at, X, centre):
    """Joint log-likelihoods of the rows, up to a constant per row, finite at each row's max.

    A row float64 cannot score (every class -inf, an overflow, inf - inf) is
    scored at the point toward it from ``centre`` that it can, ``s`` times as
    far, and the differences stretched back by ``1 / s``: the posteriors' limit
    along the ray, one-hot but for exact ties (user guide).
    """
    joint = joint_at(X)
    for i in np.flatnonzero(~np.isfinite(joint.max(axis=1))):
        near, s = _nearer(joint_at, X[i], centre)
        with np.errstate(over="ignore"):
            joint[i] = (near - near.max()) / s
    return joint


def _nearer(score, x, centre):
    """``(score(row), s)`` at ``centre + s (x - centre)``, the first s = 2**-64k it scores."""
    s = 1.0
    while True:
        s *= 2.0**-64
        values = score((centre + (x - centre) * s)[None])[0]
        if np.isfinite(values.max()):  # as s -> 0 the row is the centre, which scores
            return values, s


def log_posteriors(joint):
    """Rows of joint log-likelihoods (each with a finite entry) as log posteriors, no NaN.

    C-ordered, whatever the layout of ``joint`` (which its reductions follow).
    """
    shifted = joint - joint.max(axis=1, keepdims=True)  # finite max: no inf - inf
    with np.errstate(under="ignore"):
        shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return np.ascontiguousarray(shifted)


def posteriors(joint):
    """Rows of joint log-likelihoods (each with a finite entry) as posteriors, C-ordered.

    ``exp`` of :func:`log_posteriors`, computed as ``exp(shifted) / sum``: one
    exponential per entry, and a row's largest entry is exactly ``1 / sum``.
    """
    shifted = joint - joint.max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return np.ascontiguousarray(shifted)


def first_largest(joint):
    """``np.argmax(joint, axis=1)``, faster for scores laid out class by class.

    numpy's ``argmax`` over the short axis of many rows runs an inner loop per
    row; with many more rows than classes this finds each row's largest score
    along contiguous rows instead, then the first class that has it: the
    largest of ``K - k`` over the classes ``k`` at the row's largest, so that
    the first of ties is kept.
    """
    n, K = joint.shape
    by_class = joint.T
    if n < 16 * K or not by_class.flags.c_contiguous:
        return np.argmax(joint, axis=1)
    top = by_class.max(axis=0)
    if np.isnan(top).any():  # argmax's first NaN
        return np.argmax(joint, axis=1)
    rank = np.arange(K, 0, -1, dtype=np.min_scalar_type(K))
    ranked = np.multiply(by_class == top, rank[:, None], dtype=rank.dtype)
    return K - ranked.max(axis=0).astype(np.intp)


class PosteriorReads:
    """A classifier's reads of its joint log-likelihoods, written once.

    As scikit-learn's ``DiscriminantAnalysisPredictionMixin``: the class that
    mixes it in has ``classes_`` and ``_joint_log_likelihood(X)``, the log
    prior plus log-density of each class, shape (n_samples, n_classes), up to
    a constant per row, finite at each row's maximum.
    """

    @read_of_rows
    def predict_log_proba(self, X):
        """Log of the class posterior probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            -inf for a class not seen or of prior 0; never NaN.
        """
        return log_posteriors(self._joint_log_likelihood(X))

    @read_of_rows
    def predict_proba(self, X):
        """Class posterior probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            In the order of ``classes_``; 0 for a class not seen.
        """
        return posteriors(self._joint_log_likelihood(X))

    @read_of_rows
    def decision_function(self, X):
        """Log posterior of each class up to a constant per row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            For two classes, the second's less the first's: their log odds.
        """
        joint = self._joint_log_likelihood(X)
        return joint[:, 1] - joint[:, 0] if joint.shape[1] == 2 else np.ascontiguousarray(joint)

    @read_of_rows
    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Of ``classes_``, never a class not seen.
        """
        return self.classes_[first_largest(self._joint_log_likelihood(X))]

    @read_of_rows
    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        return super().score(X, y, sample_weight=sample_weight)


# -- out-of-distribution scores --------------------------------------------------------


def background(structure, state, reg_covar):
    """``(structure, Gaussian, factor)`` of all the data: the classes' moments pooled."""
    weights = state.weights / state.weights.sum()
    centre = weights @ state.locations
    spread = (state.locations - centre) * np.sqrt(weights)[:, None]
    covariance = np.tensordot(weights, structure.to_full(state), axes=1)
    covariance += spread.T @ spread
    full = STRUCTURES["full"]
    pooled, factor = full.regularized(full.from_full(centre[None], covariance[None]), reg_covar)
    return full, pooled, factor


def relative_ood(pooled, distances_at, X):
    """Each row's largest distance to ``pooled`` (its background) less one to a class.

    ``distances_at(rows)``: squared distances to every class; +-inf beyond float64.
    """
    full, background, factor = pooled

    def closeness(rows):  # minus each relative distance
        base = full.mahalanobis(background, factor, rows)
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, scored nearer
            return base - distances_at(rows)

    centre = background.locations[0]
    values = closeness(X).max(axis=1)
    for i in np.flatnonzero(~np.isfinite(values)):
        near, s = _nearer(closeness, X[i], centre)
        with np.errstate(over="ignore"):
            values[i] = near.max() / (s * s)  # a difference of quadratics: s**2 nearer
    return values
