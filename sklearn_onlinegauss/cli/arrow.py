"""Arrow columns as float64 features and text or number labels, with a reason for each bad row.

Every reader of the command line but ``.npy`` gets its rows from pyarrow as
record batches; these functions turn a batch's columns into what
``partial_fit`` takes. A column converts in one pyarrow cast; only a column
whose cast fails is read value by value, to find which rows are bad and why.
"""

import numpy as np

__all__ = ["floats", "labels", "pyarrow"]

#: The end of the message for a byte that is not UTF-8.
ICONV = "convert it first, e.g. iconv -f latin1 -t utf-8 for a Latin-1 file"


def pyarrow():
    """The pyarrow module, or a one-line error that says how to install it."""
    try:
        import pyarrow
        import pyarrow.compute  # noqa: F401  (the casts below)
    except ImportError:
        from .readers import DataError

        raise DataError(
            "reading this file needs pyarrow: pip install 'sklearn-onlinegauss[cli]'"
        ) from None
    return pyarrow


def floats(column, label, missing="empty field", blanks=None):
    """``(values, reasons)``: a column as float64, and ``{row: why}`` for rows it cannot give.

    ``values`` holds NaN where ``reasons`` has a row. ``missing`` names a
    null (an empty field of a text file, a missing value of a Parquet file).
    ``blanks``, a set, collects the labels of the columns of text whose
    numbers have blanks around them (``1, 2``): those are trimmed before the
    cast the next time, since a cast that fails costs milliseconds.
    A column of a type that is no number (a date, a list) raises TypeError.
    """
    pa = pyarrow()
    blanks = set() if blanks is None else blanks
    try:
        if label in blanks:
            column = pa.compute.utf8_trim_whitespace(column)
        cast = column.cast(pa.float64())
    except pa.ArrowNotImplementedError:  # no cast from this type: the whole column is wrong
        raise TypeError(f"column {label} holds {column.type}, not numbers") from None
    except pa.ArrowInvalid:  # blanks around the numbers, or text that is no number
        try:
            cast = pa.compute.utf8_trim_whitespace(column).cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # find the rows, one by one
            return _one_by_one(column, label, missing)
        blanks.add(label)
    values = cast.to_numpy(zero_copy_only=False)
    if not cast.null_count:
        return values, {}
    nulls = np.flatnonzero(cast.is_null().to_numpy(zero_copy_only=False))
    why = f"{missing} in column {label}"
    return values, dict.fromkeys(nulls.tolist(), why)


def _one_by_one(column, label, missing):
    pa = pyarrow()
    if pa.types.is_large_string(column.type):
        column = column.view(pa.large_binary())
    elif pa.types.is_string(column.type):
        column = column.view(pa.binary())
    values, reasons = np.full(len(column), np.nan), {}
    for row, value in enumerate(column.to_pylist()):
        if value is None:
            reasons[row] = f"{missing} in column {label}"
            continue
        try:
            values[row] = float(value)
        except ValueError:
            reasons[row] = _not_a_number(value, label)
    return values, reasons


def _not_a_number(value, label):
    if isinstance(value, str):
        return f"non-numeric value {value!r} in column {label}"
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {value[exc.start : exc.start + 1]!r}); {ICONV}"
    return f"non-numeric value {text!r} in column {label}"


def labels(column):
    """``(y, reasons)``: labels as stripped text (``''`` for none), or float64 for numbers.

    ``reasons`` gives the rows whose label is not UTF-8 text.
    """
    pa = pyarrow()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        try:
            return column.cast(pa.float64()).to_numpy(zero_copy_only=False), {}
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            column = column.cast(pa.string())
    try:
        column.validate(full=True)  # the CSV reader leaves UTF-8 to be checked here
    except pa.ArrowInvalid:
        return _labels_one_by_one(column)
    text = pa.compute.utf8_trim_whitespace(column).fill_null("")
    return np.asarray(text.to_numpy(zero_copy_only=False), dtype=str), {}


def _labels_one_by_one(column):
    pa = pyarrow()
    y, reasons = [], {}
    for row, value in enumerate(column.view(pa.binary()).to_pylist()):
        try:
            y.append("" if value is None else value.decode("utf-8").strip())
        except UnicodeDecodeError as exc:
            reasons[row] = f"not UTF-8 text (byte {value[exc.start : exc.start + 1]!r}); {ICONV}"
            y.append("")
    return np.asarray(y, dtype=str), reasons
