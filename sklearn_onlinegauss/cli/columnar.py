"""Parquet and Feather (Arrow IPC) files, or a directory of them, through pyarrow's readers.

A Parquet file is memory-mapped and read by
``pyarrow.parquet.ParquetFile.iter_batches`` on one thread, of the columns
used only, a record batch of ``chunk_size`` rows at a time; a Feather file
is memory-mapped and read a record batch at a time; the files of a
directory are found by ``pyarrow.dataset`` and read one after the other, in
the order of their paths. Rows are numbered from 1 in each file (``row N``
in messages). The columns of a batch are copied into one C-ordered float64
block: a floating-point column without nulls as it is, any other through
:func:`~.arrow.floats`, which finds its bad rows.
"""

from pathlib import Path

import numpy as np

from .arrow import floats, labels, pyarrow
from .readers import _ARROW, DataError, Piece, listed

#: The pyarrow types whose columns without nulls are copied as they are (no cast).
_FLOATS = ("double", "float")


def pieces(reader, labels_only):
    """The rows of ``reader.path``, as :class:`~.readers.Piece` objects."""
    header = used = None
    for name, source in _sources(reader):
        names = getattr(source, "schema_arrow", None) or source.schema
        names = names.names
        if header is None:
            header = names
            index = reader._select(header, len(header))
            features = [header[i] for i in (range(len(header)) if index is None else index)]
            t = reader._target_index
            target = None if t is None else header[t]
            used = ([] if labels_only else features) + ([] if target is None else [target])
        missing = [column for column in used if column not in names]
        if missing:
            raise DataError(
                f"{name}: no column {listed(map(repr, missing))} (columns: {listed(names)})"
            )
        start = 1
        for batch in _batches(name, source, used, reader.chunk_size):
            for offset in range(0, batch.num_rows, reader.chunk_size):
                rows = batch.slice(offset, reader.chunk_size)
                pos = np.arange(start, start + rows.num_rows)
                start += rows.num_rows
                yield _piece(name, rows, pos, [] if labels_only else features, target)


def _piece(name, batch, pos, features, target):
    bad, X, y = {}, None, None
    if features:
        # one C-ordered block, each column copied straight into its place
        X = np.empty((batch.num_rows, len(features)))
        for j, column in enumerate(features):
            values = batch.column(column)
            if values.null_count == 0 and values.type in _FLOATS:  # no cast, no bad row
                X[:, j] = values.to_numpy()
                continue
            try:
                X[:, j], why = floats(values, repr(column), missing="missing value")
            except TypeError as exc:
                raise DataError(f"{name}: {exc}") from None
            for row, text in why.items():
                bad.setdefault(row, text)
    if target is not None:
        y, why = labels(batch.column(target))
        for row, text in why.items():
            bad.setdefault(row, text)
    return Piece(X, y, pos, sorted((int(pos[r]), text) for r, text in bad.items()), name, "row")


def _sources(reader):
    """``(name, source)`` of each file: a ``ParquetFile`` or an IPC reader."""
    pa = pyarrow()
    if reader.format != "directory":
        yield reader.name, _open(reader.path, reader.format)
        return
    import pyarrow.dataset as ds

    files = [p for p in Path(reader.path).rglob("*") if p.is_file()]
    arrow = files and all(p.suffix.lower() in _ARROW for p in files)
    try:
        found = sorted(ds.dataset(reader.path, format="ipc" if arrow else "parquet").files)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{reader.name}: not a directory of Parquet files ({exc})") from None
    if not found:
        raise DataError(f"{reader.name}: no Parquet or Feather file in the directory")
    for path in found:
        yield path, _open(path, "arrow" if arrow else "parquet")


def _open(path, format):
    pa = pyarrow()
    try:
        if format == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path, memory_map=True)
        source = pa.memory_map(str(path))
        try:
            return pa.ipc.open_file(source)
        except pa.ArrowInvalid:  # not the file format: the stream format, maybe
            source.seek(0)
            return pa.ipc.open_stream(source)
    except (OSError, pa.ArrowException) as exc:
        what = "Parquet" if format == "parquet" else "Arrow IPC (Feather version 2)"
        raise DataError(f"{path}: not a readable {what} file ({exc})") from None


def _batches(name, source, columns, size):
    """The record batches of one file, pyarrow's errors as one DataError line."""
    pa = pyarrow()
    try:
        if hasattr(source, "iter_batches"):  # Parquet
            batches = source.iter_batches(batch_size=size, columns=columns, use_threads=False)
        elif hasattr(source, "num_record_batches"):  # the IPC file format
            batches = (source.get_batch(i) for i in range(source.num_record_batches))
        else:  # the IPC stream format
            batches = iter(source)
        yield from batches
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{name}: cannot be read ({exc})") from None
