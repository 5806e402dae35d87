"""A ``.npy`` array, memory-mapped, as :class:`~.readers.Piece` objects of ``chunk_size`` rows."""

import numpy as np

from .readers import DataError, Piece


def pieces(reader, labels_only):
    """The array's rows, ``chunk_size`` at a time, numbered from 1 (``row N`` in messages)."""
    try:
        data = np.load(reader.path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{reader.path}: not a readable .npy array ({exc})") from None
    if not isinstance(data, np.ndarray):  # np.load opened an .npz archive
        data.close()
        raise DataError(
            f"{reader.path}: an .npz archive of arrays, not one .npy array; save the "
            "array with np.save, or give the archive's array as its own file"
        )
    if data.ndim != 2 or data.dtype.kind not in "fiub":
        raise DataError(
            f"{reader.path}: expected a 2-D numeric array, got shape {data.shape} of "
            f"dtype {data.dtype}"
        )
    if data.shape[0] == 0:
        raise DataError(f"{reader.path}: the array has no rows")
    if data.shape[1] == 0:
        raise DataError(f"{reader.path}: the array has no columns")
    index = reader._select(None, data.shape[1])
    t = reader._target_index
    for start in range(0, data.shape[0], reader.chunk_size):
        rows = data[start : start + reader.chunk_size]
        y = None if t is None else np.asarray(rows[:, t], dtype=np.float64)
        X = None
        if not labels_only:
            X = np.asarray(rows if index is None else rows[:, index], dtype=np.float64)
        pos = np.arange(start, start + len(rows)) + 1
        yield Piece(X, y, pos, [], reader.name, "row")
