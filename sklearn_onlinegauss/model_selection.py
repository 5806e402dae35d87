"""Choosing parameters on a stream: the prequential (predict-then-learn) score.

On a stream, a setting is judged by how well the model learned from the rows so far
predicts the rows that come next: each chunk is scored by the model of every row
before it, then learned (Dawid, 1984; river's ``evaluate.progressive_val_score``).
:func:`prequential_score` runs that loop in one pass; :class:`PrequentialSplit` and
:func:`make_prequential_scorer` give it to :class:`~sklearn.model_selection.GridSearchCV`
(user guide: "Choosing parameters on a stream").
"""

import copy
from numbers import Integral

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.validation import _num_features, _num_samples

from ._threads import blas_threads_for

__all__ = ["PrequentialSplit", "make_prequential_scorer", "prequential_score"]


def _positive_int(value, name, low=1):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


def _check_partial_fit(estimator):
    if not hasattr(estimator, "partial_fit"):
        raise TypeError(
            f"The prequential score learns chunk by chunk with partial_fit, which "
            f"{type(estimator).__name__} does not have (a Pipeline has none: scale the stream "
            "with a fitted scaler, or not at all for the natural solver)."
        )


def _predict_then_learn(estimator, X, y, start, chunk_size, scorer):
    """Score each chunk of rows ``start:`` with ``estimator``, then learn it (in place).

    Returns the chunks' scores and their sizes.
    """
    n_samples, scores, sizes = _num_samples(X), [], []
    with blas_threads_for(chunk_size * _num_features(X) ** 2):  # many small calls: one thread
        for begin in range(start, n_samples, chunk_size):
            rows = slice(begin, min(begin + chunk_size, n_samples))
            X_chunk, y_chunk = _safe_indexing(X, rows), _rows(y, rows)
            scores.append(scorer(estimator, X_chunk, y_chunk))
            sizes.append(rows.stop - rows.start)
            if rows.stop < n_samples:  # the last chunk's update would never be scored
                estimator.partial_fit(X_chunk, y_chunk)
    return np.asarray(scores, dtype=float), np.asarray(sizes)


def _rows(y, rows):
    return None if y is None else _safe_indexing(y, rows)


def prequential_score(
    estimator, X, y=None, *, chunk_size=50, warm_up=None, scoring=None, per_chunk=False
):
    """The prequential score of ``estimator`` on the stream ``X``: predict, then learn.

    A clone of ``estimator`` learns the first ``warm_up`` rows with
    ``partial_fit``; then each chunk of ``chunk_size`` rows, in the stream's
    order, is scored by the model of every row before it and learned. One pass,
    no row scored by a model that has seen it.

    Parameters
    ----------
    estimator : estimator with ``partial_fit``
        Cloned: the estimator passed is left as it is.
    X : array-like of shape (n_samples, n_features)
        The stream, in its order.
    y : array-like of shape (n_samples,), default=None
        Targets, for a classifier or a labelled detector; ``None`` for a density.
    chunk_size : int, default=50
        Rows scored by the same model. Keep it well below the memory of the
        settings compared (about ``1 / eta0`` rows for a constant rate): a chunk
        predicts up to ``chunk_size`` rows ahead.
    warm_up : int, default=None
        Rows learned before the first chunk is scored (None: one chunk), so that
        no score is of a model that has not started.
    scoring : str, callable or None, default=None
        As in :func:`~sklearn.model_selection.cross_val_score`; None: the
        estimator's ``score`` (mean log-likelihood for the densities, accuracy
        for the classifier and the detector).
    per_chunk : bool, default=False
        Return every chunk's score, not their mean.

    Returns
    -------
    score : float or ndarray of shape (n_chunks,)
        The mean over the scored rows of the chunks' scores (each chunk weighted
        by its rows), or the chunks' scores with ``per_chunk=True``.

    See Also
    --------
    make_prequential_scorer : The same loop as a scorer, for ``GridSearchCV``.
    """
    X, y = indexable(X, y)
    chunk_size = _positive_int(chunk_size, "chunk_size")
    warm_up = chunk_size if warm_up is None else _positive_int(warm_up, "warm_up")
    n_samples = _num_samples(X)
    if warm_up >= n_samples:
        raise ValueError(
            f"warm_up={warm_up} leaves no row to score in a stream of {n_samples} rows: "
            "pass a smaller warm_up (or chunk_size, its default) or a longer stream."
        )
    _check_partial_fit(estimator)
    scorer = check_scoring(estimator, scoring=scoring)
    estimator = clone(estimator)
    first_fit = {"classes": np.unique(y)} if is_classifier(estimator) else {}
    head = slice(0, warm_up)
    estimator.partial_fit(_safe_indexing(X, head), _rows(y, head), **first_fit)
    scores, sizes = _predict_then_learn(estimator, X, y, warm_up, chunk_size, scorer)
    return scores if per_chunk else float(np.average(scores, weights=sizes))


def _learned_as_stream(estimator):
    """Whether ``fit`` learned its rows as the stream would: one pass, in order."""
    estimator = getattr(estimator, "estimator_", estimator)  # the detector's density
    exact = getattr(estimator, "_one_pass_is_exact", None)
    if exact is None:  # not of this family: the user's word (documented)
        return True
    return exact() or (estimator.n_iter_ == 1 and not getattr(estimator, "shuffle", False))


class _PrequentialScorer:
    """The scorer of :func:`make_prequential_scorer`."""

    def __init__(self, scoring, chunk_size):
        self.scoring, self.chunk_size = scoring, chunk_size

    def __repr__(self):
        return f"make_prequential_scorer(scoring={self.scoring!r}, chunk_size={self.chunk_size})"

    def __call__(self, estimator, X, y=None, **kwargs):
        if kwargs:
            raise TypeError(f"the prequential scorer takes no {sorted(kwargs)}.")
        _check_partial_fit(estimator)
        if not _learned_as_stream(estimator):
            raise ValueError(
                f"{type(estimator).__name__}.fit made {estimator.n_iter_} shuffled epochs of "
                "the training rows, not one pass in the stream's order, so the state the "
                "prequential score continues is not the stream's. Set shuffle=False, "
                "max_iter=1, tol=None (one pass in order), or use prequential_score."
            )
        X, y = indexable(X, y)
        scorer = check_scoring(estimator, scoring=self.scoring)
        estimator = copy.deepcopy(estimator)  # the search's fitted estimator is left as is
        scores, sizes = _predict_then_learn(estimator, X, y, 0, self.chunk_size, scorer)
        return float(np.average(scores, weights=sizes))


def make_prequential_scorer(scoring=None, *, chunk_size=50):
    """A scorer that continues the fitted estimator over the test rows, predict-then-learn.

    Given an estimator fitted on the rows before a test fold (as
    :class:`PrequentialSplit` makes them), it scores the fold's first chunk of
    ``chunk_size`` rows, learns it with ``partial_fit`` (on a copy), scores the
    next, and so on: the fold's prequential score. ``fit`` must learn its rows as
    the stream does, in one pass in order: the exact default schedule and the
    classifier do; for the other schedules of :class:`OnlineGaussian` set
    ``shuffle=False, max_iter=1, tol=None`` (the scorer refuses, naming them,
    a fit of several shuffled epochs).

    Parameters
    ----------
    scoring : str, callable or None, default=None
        The score of each chunk, as in ``GridSearchCV``; None: the estimator's.
    chunk_size : int, default=50
        Rows scored by the same model.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None)``: the row-weighted mean of the chunks' scores.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_onlinegauss import OnlineGaussian
    >>> from sklearn_onlinegauss.model_selection import PrequentialSplit, make_prequential_scorer
    >>> rng = np.random.default_rng(0)
    >>> drift = np.cumsum(rng.normal(0, 0.05, (5000, 2)), axis=0)  # a random-walk mean
    >>> X = drift + rng.standard_normal((5000, 2))
    >>> tracker = OnlineGaussian(learning_rate="constant", shuffle=False, max_iter=1, tol=None)
    >>> search = GridSearchCV(
    ...     tracker, {"eta0": [0.003, 0.01, 0.03, 0.1, 0.3]},
    ...     scoring=make_prequential_scorer(chunk_size=25), cv=PrequentialSplit(4),
    ... ).fit(X)
    >>> search.best_params_  # the theory's best rate: sqrt(2 * 0.05**2 / (2 + 3)) = 0.032
    {'eta0': 0.03}
    """
    return _PrequentialScorer(scoring, _positive_int(chunk_size, "chunk_size"))


class PrequentialSplit(BaseCrossValidator):
    """Expanding windows in the stream's order: every row before a fold -> the fold.

    After ``warm_up`` rows, the rest of the stream is cut into ``n_splits``
    consecutive folds; split ``k`` trains on every row before fold ``k`` and
    tests on fold ``k``, so that each row after the warm-up is tested once, by a
    model of its past only (:class:`~sklearn.model_selection.TimeSeriesSplit`
    with its first window given). With the estimator's ``score``, a fold's score
    is the prequential score with the fold as chunk; with
    :func:`make_prequential_scorer`, chunks of the scorer's size. Never shuffled.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 1.
    warm_up : int, default=None
        Rows of the first training window (None: a share as large as a fold,
        ``n_samples // (n_splits + 1)``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_onlinegauss.model_selection import PrequentialSplit
    >>> for train, test in PrequentialSplit(3, warm_up=4).split(np.zeros((10, 1))):
    ...     print(train, test)
    [0 1 2 3] [4 5]
    [0 1 2 3 4 5] [6 7]
    [0 1 2 3 4 5 6 7] [8 9]
    """

    def __init__(self, n_splits=5, *, warm_up=None):
        self.n_splits = _positive_int(n_splits, "n_splits")
        self.warm_up = None if warm_up is None else _positive_int(warm_up, "warm_up")

    def get_n_splits(self, X=None, y=None, groups=None):
        """The number of splits, ``n_splits``."""
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays, in the stream's order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y, groups : ignored

        Yields
        ------
        train, test : ndarray
            Every row before the fold, and the fold.
        """
        n_samples = _num_samples(X)
        warm_up = n_samples // (self.n_splits + 1) if self.warm_up is None else self.warm_up
        if warm_up < 1 or n_samples - warm_up < self.n_splits:
            raise ValueError(
                f"PrequentialSplit(n_splits={self.n_splits}, warm_up={self.warm_up}) needs a "
                f"warm-up of at least one row and a row per fold after it; the stream has "
                f"{n_samples} rows."
            )
        for fold in np.array_split(np.arange(warm_up, n_samples), self.n_splits):
            yield np.arange(fold[0]), fold

    def _iter_test_indices(self, X=None, y=None, groups=None):
        for _, test in self.split(X, y, groups):
            yield test
