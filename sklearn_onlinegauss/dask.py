"""Parallel fitting on Dask: ``partial_fit`` on every block at once, reduced with :func:`merge`.

Needs the ``dask`` extra: ``pip install "sklearn-onlinegauss[dask]"``.

For sequential streaming over a Dask collection, ``dask_ml.wrappers.Incremental``
works as it is: ``Incremental(OnlineGaussian()).fit(X)`` calls ``partial_fit``
on one block after another. Its known limits: a Dask array chunked along the
columns must be rechunked first (``X.rechunk({1: -1})``); a full-length
``sample_weight`` is not split per block; and ``Incremental.score`` wants a
``y`` (score the wrapped ``estimator_`` instead).
"""

from numbers import Integral

import numpy as np
from sklearn.base import clone

from ._merge import merge

__all__ = ["fit"]


def fit(estimator, X, y=None, *, split_every=8):
    """Fit on a Dask array or DataFrame in parallel, one task per block of rows.

    Every block gets its own copy of `estimator` (settings only) and one
    ``partial_fit``; the fitted copies are combined with :func:`merge` in a
    tree of ``split_every``-way merges. With the default solver and schedule
    the result equals fitting all the rows in one process, to rounding; for
    the other solvers it is the weighted parameter average described in
    :func:`merge`. The computation runs on the active
    ``distributed.Client`` if there is one, else on Dask's default scheduler.

    Parameters
    ----------
    estimator : OnlineGaussian, OnlineGaussianClassifier, OnlineGaussianMixture or \
OnlineEllipticEnvelope
        Provides the settings; it is not modified.
    X : dask.array.Array or dask.dataframe.DataFrame
        Chunked by rows only: a Dask array must have a single chunk along
        its columns.
    y : dask.array.Array or dask.dataframe.Series, default=None
        The labels, for a classifier: chunked by rows as `X` is. Its
        classes are found first (one pass over `y`).
    split_every : int or None, default=8
        How many fitted blocks each merge task combines: at least 2 (None
        means 8).

    Returns
    -------
    estimator
        A new fitted estimator of `estimator`'s kind.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklearn_onlinegauss import OnlineGaussian
    >>> from sklearn_onlinegauss import dask as og_dask
    >>> X = np.random.default_rng(0).normal(size=(10_000, 3))
    >>> est = og_dask.fit(OnlineGaussian(), da.from_array(X, chunks=(2_500, 3)))
    >>> np.allclose(est.covariance_, np.cov(X.T, bias=True))
    True
    """
    import dask

    split_every = _checked_split_every(split_every)
    blocks = _row_blocks(X)
    labels, classes = _label_blocks(y, len(blocks))
    template = clone(estimator)
    fitted = [
        dask.delayed(_fit_block)(template, block, label, classes)
        for block, label in zip(blocks, labels, strict=True)
    ]
    (result,) = dask.compute(_merge_tree(fitted, split_every))
    if result is None:
        raise ValueError("X has no rows.")
    return result


def _merge_tree(fitted, split_every):
    """The delayed merge of ``fitted`` in a tree of ``split_every``-way merges."""
    import dask

    while len(fitted) > 1:
        fitted = [
            dask.delayed(_merge_fitted)(fitted[i : i + split_every])
            for i in range(0, len(fitted), split_every)
        ]
    return fitted[0]


def _checked_split_every(split_every):
    if split_every is None:
        return 8
    if isinstance(split_every, bool) or not isinstance(split_every, Integral) or split_every < 2:
        raise ValueError(
            f"split_every={split_every!r}: each merge task must combine at least 2 fitted "
            "blocks (an integer of at least 2, or None for 8)."
        )
    return split_every


def _row_blocks(X):
    """The delayed blocks of rows of a Dask array or DataFrame."""
    import dask.array as da

    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D Dask array, got {X.ndim} dimensions.")
        if X.numblocks[1] != 1:
            raise ValueError(
                f"X is chunked along its columns ({X.numblocks[1]} column blocks); "
                "rechunk it first: X.rechunk({1: -1})."
            )
        return list(X.to_delayed().ravel())
    if hasattr(X, "to_delayed") and hasattr(X, "npartitions"):
        return list(X.to_delayed())
    raise TypeError(
        f"X must be a Dask array or DataFrame, got {type(X).__name__}; "
        "for in-memory data use the estimator's own fit."
    )


def _label_blocks(y, n_blocks):
    """``(delayed label blocks, classes)``: Nones and None without labels."""
    if y is None:
        return [None] * n_blocks, None
    import dask
    import dask.array as da

    labels = list(y.to_delayed().ravel()) if isinstance(y, da.Array) else list(y.to_delayed())
    if len(labels) != n_blocks:
        raise ValueError(f"y has {len(labels)} blocks and X {n_blocks}: chunk them alike.")
    (classes,) = dask.compute(da.unique(y) if isinstance(y, da.Array) else y.unique())
    return labels, np.unique(np.asarray(classes))


def _fit_block(template, block, labels, classes):
    if len(block) == 0:
        return None
    if labels is None:
        return clone(template).partial_fit(block)
    return clone(template).partial_fit(block, labels, classes=classes)


def _merge_fitted(parts):
    parts = [part for part in parts if part is not None]
    return merge(parts) if parts else None
