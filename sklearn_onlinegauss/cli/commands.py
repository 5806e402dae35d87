"""The commands: ``fit`` (with its progress display and Ctrl-C), ``score`` and ``demo``."""

import json
import signal
import sys
import time
import warnings

import numpy as np
from sklearn.base import clone

from .._compat import InvalidParameterError
from .._persist import save_model
from . import kinds, reads
from .models import check_output, load
from .readers import ChunkReader, DataError, UsageError, listed

EXIT_INTERRUPTED = 130


class _Progress:
    """tqdm on a terminal when it is installed, else a plain line: after the first chunk,
    then every few seconds, and at the end.

    ``label`` names the mean of the per-row values shown (each chunk's rows
    read by the model before it learns from them), left out while no row has
    been read so.
    """

    def __init__(self, quiet, label="mean log-likelihood"):
        self.quiet, self.label, self.rows, self.total, self.scored = quiet, label, 0, 0.0, 0
        self.start = self.last = time.perf_counter()
        self.bar, self.lines, self.shown = None, 0, 0
        if not quiet and sys.stderr.isatty():
            try:
                from tqdm import tqdm

                self.bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr)
            except ImportError:
                pass

    def update(self, n_rows, total, n_scored):
        self.rows += n_rows
        self.total += total
        self.scored += n_scored
        if self.bar is not None:
            self.bar.update(n_rows)
            if self.scored:
                self.bar.set_postfix_str(self._mean())
        elif not self.quiet and (not self.lines or time.perf_counter() - self.last > 2):
            self.last = time.perf_counter()
            self._line()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif not self.quiet and self.rows and (not self.lines or self.rows != self.shown):
            self._line()  # (nothing when no row was read: an error says why)

    def _mean(self):
        return f"{self.label} {self.total / self.scored:.4g} (prequential, {self.scored} rows)"

    def _line(self):
        self.lines, self.shown = self.lines + 1, self.rows
        rate = self.rows / max(time.perf_counter() - self.start, 1e-9)
        score = f", {self._mean()}" if self.scored else ""
        print(f"{_rows(self.rows)}, {rate:,.0f} rows/s{score}", file=sys.stderr, flush=True)


def _rows(n):
    return f"{n} row" if n == 1 else f"{n} rows"


def _reader(args, path, names=None, target=None):
    return ChunkReader(
        path,
        args.chunk_size,
        args.columns,
        getattr(args, "skip_invalid", False),
        args.delimiter,
        args.header,
        names,
        target,
    )


def _say_delimiter(reader, quiet=False):
    if reader.guessed_delimiter is not None and not quiet:
        print(
            f"onlinegauss: delimiter {reader.guessed_delimiter!r} guessed from the data "
            "(set --delimiter to choose)",
            file=sys.stderr,
        )


def fit(args):
    kind = args.model
    est = kinds.build(kind, args)  # before anything is read: a refused option costs nothing
    if args.output:
        check_output(args.output, args.path)
    reader = _reader(args, args.path, target=args.target)
    labels = None
    if kind == kinds.CLASSIFIER:
        # partial_fit needs every class on its first call: given, or one pass over the labels.
        labels = kinds.Labels(args.classes or reader.target_values())
    n_rows, interrupted = _stream(args, est, reader, labels)
    if not est.__sklearn_is_fitted__():
        if not n_rows:
            raise DataError(f"{args.path}: no valid rows to fit")
        raise DataError(f"{args.path}: {n_rows} valid rows, too few for --model {kind}")
    if reader.feature_names is not None:
        # As if fitted on a DataFrame: scoring then takes the columns by name.
        est.feature_names_in_ = np.asarray(reader.feature_names, dtype=object)
    if args.output and not _save(est, args.output):
        return EXIT_INTERRUPTED
    _print_fit(args, kind, est, reader, interrupted)
    if interrupted:
        print("interrupted: the model holds everything read before Ctrl-C", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _stream(args, est, reader, labels):
    """The file's chunks through ``partial_fit`` until its end or a Ctrl-C.

    Returns ``(rows learned, whether a Ctrl-C came)``. Ctrl-C raises
    KeyboardInterrupt between chunks; the chunk being fitted is either taken
    whole or not at all (a failed partial_fit changes nothing).
    """
    label, read = kinds.progress_read(args.model)
    progress = _Progress(args.quiet, label)
    ctrl_c = _CtrlC()
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:  # a shell's background job ignores Ctrl-C: so do we
        signal.signal(signal.SIGINT, ctrl_c)
    n_rows = 0
    try:
        try:
            for k, chunk in enumerate(reader):
                if k == 0:
                    _say_delimiter(reader, args.quiet)
                n_rows += _learn(args, est, reader, labels, chunk, read, progress)
        finally:
            ctrl_c.armed = False  # from here on a Ctrl-C is only noted
    except KeyboardInterrupt:
        pass
    except InvalidParameterError as exc:
        raise UsageError(str(exc)) from None
    except DataError:
        raise
    except ValueError as exc:  # values the estimator refuses (e.g. too large to square)
        raise DataError(f"{args.path}: {exc}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.close()
    return n_rows, ctrl_c.seen


def _learn(args, est, reader, labels, chunk, read, progress):
    """One chunk through ``partial_fit``, shown by ``progress``: the rows it had."""
    X, y = chunk if labels is not None else (chunk, None)
    if not len(X):
        return 0
    if labels is not None:
        y = labels.of(y, reader.name)
    # Prequential read for the progress display: each chunk is read before
    # the model learns from it (a pass saved when nothing shows it).
    fitted = est.__sklearn_is_fitted__()
    classes = None if labels is None else labels.classes
    scored = None
    if not args.quiet:
        scored = read(est, X, y) if fitted else _first_read(est, X, y, classes, read)
    if labels is None:
        est.partial_fit(X)
    else:
        est.partial_fit(X, y, classes=None if fitted else classes)
    progress.update(
        len(X),
        0.0 if scored is None else float(np.sum(scored)),
        0 if scored is None else len(scored),
    )
    return len(X)


def _first_read(est, X, y, classes, read):
    """The first chunk's second half read by a model of its first half (None if there is none).

    A copy learns the half, so the fit itself takes the file's chunks as they
    are; seeded, so that it draws nothing from NumPy's global generator. A
    half of no more rows than features, which leaves a covariance to the
    fill-in, gives no score.
    """
    half = len(X) // 2
    if half <= X.shape[1]:
        return None
    copy = clone(est)
    if "random_state" in copy.get_params(deep=False):
        copy.set_params(random_state=0)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a display: the fit itself says what it must
            if classes is None:
                copy.partial_fit(X[:half])
            else:
                copy.partial_fit(X[:half], y[:half], classes=classes)
            if not copy.__sklearn_is_fitted__():
                return None
            return read(copy, X[half:], None if y is None else y[half:])
    except (ValueError, ArithmeticError):  # too few rows for a model: no score yet
        return None


def _save(est, output):
    """Save the model to ``output``; False if a Ctrl-C stopped it (the old file is whole)."""
    try:
        save_model(est, output)
    except ValueError as exc:
        raise UsageError(f"--output: {exc}") from None
    except KeyboardInterrupt:
        print(f"interrupted while saving: {output} is as it was before", file=sys.stderr)
        return False
    return True


def _print_fit(args, kind, est, reader, interrupted):
    learned = kinds.summary(kind, est)
    summary = {
        "kind": kind,
        "n_features": int(est.n_features_in_),
        "feature_names": reader.feature_names,
        **({"target": reader.target_label} if kind == kinds.CLASSIFIER else {}),
        "n_samples_seen": int(est.n_samples_seen_),
        "n_rows_skipped": reader.n_skipped,
        "rows_skipped": reader.skipped,
        "interrupted": interrupted,
        **learned,
        "params": kinds.params(est),
        "model": args.output,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(
        f"fitted {_rows(summary['n_samples_seen'])} of {summary['n_features']} features"
        + (f" ({_rows(reader.n_skipped)} invalid, skipped)" if reader.n_skipped else "")
        + (f"; model saved to {args.output}" if args.output else "; not saved (no --output)")
    )
    if reader.n_skipped:
        more = reader.n_skipped - len(reader.skipped)
        print("skipped:", "; ".join(reader.skipped) + (f"; ... and {more} more" if more else ""))
    print("features:", listed(reader.labels))
    if kind == kinds.CLASSIFIER:
        counts = zip(est.classes_, est.class_count_, strict=True)
        print(
            f"target: {reader.target_label}; classes (rows):",
            listed(f"{c} ({n:g})" for c, n in counts),
        )
    if kind == kinds.MIXTURE:
        print("weights:", listed(f"{w:.3g}" for w in est.weights_))
    if kind == kinds.OUTLIER:
        print(f"offset: {est.offset_:.6g}")
    named = reader.feature_names or [f"column {i}" for i in reader.labels]
    for line in _spread_lines(kind, est, named):
        print(line)
    if args.show:
        _print_matrices(learned)


def _spread_lines(kind, est, labels):
    """The condition number and the extreme variances of the fitted covariance(s)."""
    covariances, parts = kinds.spread(kind, est)
    eigenvalues = np.linalg.eigvalsh(covariances)
    with np.errstate(divide="ignore", invalid="ignore"):
        conditions = np.where(
            eigenvalues[:, 0] > 0, eigenvalues[:, -1] / eigenvalues[:, 0], np.inf
        )
    variances = np.diagonal(covariances, axis1=1, axis2=2)
    worst = int(np.argmax(conditions))

    def where(k, j):
        return f"{labels[j]}" if parts is None else f"{parts[k]}, {labels[j]}"

    low = np.unravel_index(np.argmin(variances), variances.shape)
    high = np.unravel_index(np.argmax(variances), variances.shape)
    name = "covariance" if parts is None else "covariances"
    largest = "" if parts is None else "largest "
    at = "" if parts is None else f" ({parts[worst]})"
    return [
        f"{name}: {largest}condition number {conditions[worst]:.4g}{at}",
        f"variances: smallest {variances[low]:.4g} ({where(*low)}), "
        f"largest {variances[high]:.4g} ({where(*high)})",
    ]


def _print_matrices(learned):
    with np.printoptions(precision=6, suppress=False, linewidth=120):
        for name, value in learned.items():
            value, name = np.asarray(value), name.replace("_", " ")
            if value.ndim > 1:
                print(f"{name}:\n", value, sep="")
            else:
                print(f"{name}:", value)


def score(args):
    """Write the reads as CSV; nothing before the model, reads, columns and first chunk pass.

    A bad row in a later chunk still stops it (exit 1), the rows before its chunk written.
    """
    est = load(args.model, args.allow_pickle)
    kind = kinds.kind_of(est)
    chosen = reads.chosen(kind, args)
    names = getattr(est, "feature_names_in_", None)
    # A model with named features takes its columns by name, unless told which.
    by_name = None if names is None or args.columns is not None else list(names)
    reader = _reader(args, args.path, by_name)
    header = ",".join(map(reads.quoted, reads.header(kind, est, chosen))) + "\n"
    for k, chunk in enumerate(reader):
        if k == 0:
            _say_delimiter(reader)
        columns = _read_chunk(args, kind, est, chosen, chunk)
        if header:  # the first chunk is read: the output can begin
            sys.stdout.write(header)
            header = ""
        reads.write(sys.stdout, columns)
    sys.stdout.write(header)  # a file with a header and no rows: no rows to write
    return 0


def _read_chunk(args, kind, est, chosen, chunk):
    """The reads of one chunk, or a DataError that says why its rows cannot be read."""
    if chunk.shape[1] != est.n_features_in_:
        raise DataError(
            f"{args.path}: {chunk.shape[1]} columns, but the model has "
            f"{est.n_features_in_} features"
        )
    with warnings.catch_warnings():
        # The columns were matched by name above; the array has none.
        warnings.filterwarnings("ignore", "X does not have valid feature names")
        try:
            return reads.columns(kind, est, chosen, chunk)
        except ValueError as exc:  # values the model refuses (e.g. too large to square)
            raise DataError(f"{args.path}: {exc}") from None


class _CtrlC:
    """The SIGINT handler of a fit: KeyboardInterrupt while ``armed``, else only noted.

    SIGINT may reach another thread (BLAS's) than the one blocked reading, so
    Python may see it late, even after the input ended; it must still stop
    the fit, and never break the saving of what was learned.
    """

    def __init__(self):
        self.armed, self.seen = True, False

    def __call__(self, signum, frame):
        self.seen = True
        if self.armed:
            raise KeyboardInterrupt


def demo(args):
    from .demo import run

    run(plot=args.plot)
    return 0
