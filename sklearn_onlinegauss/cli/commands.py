"""The commands: ``fit`` (with its progress display and Ctrl-C), ``score`` and ``demo``."""

import json
import signal
import sys
import time
import warnings

import numpy as np

from .._compat import InvalidParameterError
from .._persist import save_model
from . import kinds, reads
from .models import check_output, load
from .readers import ChunkReader, DataError, UsageError

EXIT_INTERRUPTED = 130


class _Progress:
    """tqdm on a terminal when it is installed, else a plain line: after the first chunk,
    then every few seconds, and at the end.

    ``label`` names the mean of the per-row values shown (each chunk's rows
    read by the model before it learns from them).
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
            self.bar.set_postfix_str(f"{self.label} {self._mean()}")
        elif not self.quiet and (not self.lines or time.perf_counter() - self.last > 2):
            self.last = time.perf_counter()
            self._line()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif not self.quiet and (not self.lines or self.rows != self.shown):
            self._line()

    def _mean(self):
        return f"{self.total / self.scored:.4g}" if self.scored else "n/a"

    def _line(self):
        self.lines, self.shown = self.lines + 1, self.rows
        rate = self.rows / max(time.perf_counter() - self.start, 1e-9)
        print(
            f"{self.rows} rows, {rate:,.0f} rows/s, {self.label} {self._mean()}",
            file=sys.stderr,
            flush=True,
        )


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
    scored = read(est, X, y) if fitted and not args.quiet else None
    if labels is None:
        est.partial_fit(X)
    else:
        est.partial_fit(X, y, classes=None if fitted else labels.classes)
    progress.update(
        len(X),
        0.0 if scored is None else float(np.sum(scored)),
        0 if scored is None else len(scored),
    )
    return len(X)


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
        "interrupted": interrupted,
        **learned,
        "params": kinds.params(est),
        "model": args.output,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(
        f"fitted {summary['n_samples_seen']} rows of {summary['n_features']} features"
        + (f" ({reader.n_skipped} invalid rows skipped)" if reader.n_skipped else "")
        + (f"; model saved to {args.output}" if args.output else "")
    )
    with np.printoptions(precision=6, suppress=False, linewidth=120):
        print("features:", ", ".join(reader.labels))
        if kind == kinds.CLASSIFIER:
            print(f"target: {reader.target_label}")
        for name, value in learned.items():
            value, name = np.asarray(value), name.replace("_", " ")
            if value.ndim > 1:
                print(f"{name}:\n", value, sep="")
            else:
                print(f"{name}:", value)


def score(args):
    est = load(args.model, args.allow_pickle)
    kind = kinds.kind_of(est)
    chosen = reads.chosen(kind, args)
    names = getattr(est, "feature_names_in_", None)
    # A model with named features takes its columns by name, unless told which.
    by_name = None if names is None or args.columns is not None else list(names)
    reader = _reader(args, args.path, by_name)
    out = sys.stdout
    out.write(",".join(map(reads.quoted, reads.header(kind, est, chosen))) + "\n")
    for k, chunk in enumerate(reader):
        if k == 0:
            _say_delimiter(reader)
        if chunk.shape[1] != est.n_features_in_:
            raise DataError(
                f"{args.path}: {chunk.shape[1]} columns, but the model has "
                f"{est.n_features_in_} features"
            )
        with warnings.catch_warnings():
            # The columns were matched by name above; the array has none.
            warnings.filterwarnings("ignore", "X does not have valid feature names")
            try:
                columns = reads.columns(kind, est, chosen, chunk)
            except ValueError as exc:  # values the model refuses (e.g. too large to square)
                raise DataError(f"{args.path}: {exc}") from None
        reads.write(out, columns)
    return 0


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
