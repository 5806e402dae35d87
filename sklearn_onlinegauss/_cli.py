"""The ``onlinegauss`` command: fit a Gaussian to a file too big for memory."""

import argparse
import json
import os
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ._persist import load_model, save_model
from ._readers import ChunkReader, DataError, UsageError

EXIT_INTERRUPTED = 130
#: What a program killed by SIGPIPE returns, as ``yes | head`` does.
EXIT_BROKEN_PIPE = 141

_FILES = (
    ".npy, .csv or .tsv file (also .gz, .bz2 or .xz compressed), or - for CSV on standard input"
)


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except DataError as exc:
        print(f"onlinegauss: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # before fitting began, or after it ended
        print("onlinegauss: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and let Python's
        # final flush write nowhere instead of failing again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


#: The estimator's choices the command offers, with a sentence each; their
#: defaults and options come from OnlineGaussian itself (:func:`_choice`).
_CHOICES = {
    "solver": "update rule: the natural gradient (exact, affine-invariant), or Euclidean "
    "gradient ascent (sgd, adam) in the coordinates of --parametrization",
    "parametrization": "coordinates of the sgd and adam steps: log-Cholesky factor of the "
    "covariance or of the precision, or the covariance itself (ignored by natural)",
    "covariance_type": "structure of the covariance",
    "learning_rate": "schedule: optimal is 1/t (the exact running estimate), constant forgets "
    "at rate eta0, invscaling is eta0 / t**power_t",
}


def _choice(name):
    """``(default, options)`` of OnlineGaussian's string parameter ``name``."""
    from ._estimator import OnlineGaussian

    (options,) = OnlineGaussian._parameter_constraints[name]
    return OnlineGaussian().get_params()[name], sorted(options.options)


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default after its sentence."""


def _parser():
    parser = argparse.ArgumentParser(
        prog="onlinegauss",
        description="Fit a multivariate Gaussian to a stream by gradient ascent.",
        formatter_class=_Help,
    )
    sub = parser.add_subparsers(required=True, metavar="{fit,score,demo}")

    fit = sub.add_parser(
        "fit",
        help="stream a file through partial_fit",
        description="Stream a file through OnlineGaussian.partial_fit, chunk by chunk, and "
        "print (or save) the fitted Gaussian.",
        formatter_class=_Help,
    )
    fit.add_argument("path", help=_FILES)
    for name, text in _CHOICES.items():
        default, options = _choice(name)
        fit.add_argument(
            "--" + name.replace("_", "-"), default=default, choices=options, help=text
        )
    fit.add_argument(
        "--eta0",
        type=float,
        default=0.01,
        help="rate of the constant, invscaling and adaptive schedules (for natural and "
        "constant: the fraction of the estimate each row replaces)",
    )
    fit.add_argument(
        "--reg-covar",
        type=float,
        default=1e-6,
        help="what the estimate gets where the data do not determine it",
    )
    fit.add_argument(
        "--shrinkage",
        type=_shrinkage,
        default=None,
        help="shrink the covariance toward a multiple of the identity: ledoit-wolf, oas, or "
        "an intensity in [0, 1] (for when rows are few for the features)",
    )
    fit.add_argument(
        "--batch-size", type=int, default=1000, help="rows per gradient step (natural: speed only)"
    )
    _reading_options(fit)
    fit.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip and count rows with NaN or infinite values instead of refusing the file",
    )
    fit.add_argument(
        "--output",
        "-o",
        help="save the fitted model here: a .npz file that loads without running code "
        "(sklearn_onlinegauss.load_model reads it), with the header's names of the columns",
    )
    fit.add_argument("--json", action="store_true", help="print the result as JSON")
    fit.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    fit.set_defaults(command=_fit)

    score = sub.add_parser(
        "score",
        help="per-row log-likelihoods under a saved model, as CSV",
        description="Write the log-likelihood of every row under a saved model, as CSV. A "
        "model fitted on a file with a header takes its columns by name.",
        formatter_class=_Help,
    )
    score.add_argument("model", help="a model saved by 'onlinegauss fit --output'")
    score.add_argument(
        "--allow-pickle",
        action="store_true",
        help="also accept a pickle or joblib file, such as an OnlineGaussian saved from "
        "Python: loading one runs whatever code it holds, so only for files you trust",
    )
    score.add_argument("path", help=_FILES)
    score.add_argument(
        "--mahalanobis", action="store_true", help="add the squared Mahalanobis distance"
    )
    _reading_options(score)
    score.set_defaults(command=_score)

    demo = sub.add_parser(
        "demo",
        help="the textbook update against the library's solvers",
        description="The original question: gradient ascent on N(0, 1) one sample at a time, "
        "the textbook update next to the library's solvers; then a 5-D stream.",
        formatter_class=_Help,
    )
    demo.add_argument(
        "--output",
        "-o",
        dest="plot",
        default="temporary",
        help="where to save the figure (needs matplotlib); 'temporary' is a new temporary "
        "directory, whose path is printed",
    )
    demo.add_argument(
        "--no-plot", dest="plot", action="store_const", const=None, help="make no figure"
    )
    demo.set_defaults(command=_demo)
    return parser


def _reading_options(parser):
    parser.add_argument(
        "--columns",
        type=_names,
        help="comma-separated names or 0-based indices of the columns to use (default: all)",
    )
    parser.add_argument(
        "--delimiter",
        type=_delimiter,
        help="field delimiter of a text file, e.g. ';' or tab (default: a tab for .tsv, "
        "else guessed from the data, and said when it is not a comma)",
    )
    parser.add_argument(
        "--header",
        default="auto",
        choices=["auto", "yes", "no"],
        help="whether the first row names the columns; auto: when none of its fields is a number",
    )
    parser.add_argument("--chunk-size", type=_positive, default=10_000, help="rows read at a time")


def _delimiter(text):
    text = {"tab": "\t", "\\t": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a delimiter is one character, or 'tab'")
    return text


def _shrinkage(text):
    if text in ("ledoit-wolf", "oas"):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use ledoit-wolf, oas or a number in [0, 1]"
        ) from None


def _names(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no column")
    return names


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of rows, at least 1")
    return value


class _Progress:
    """tqdm on a terminal when it is installed, else a plain line every few seconds."""

    def __init__(self, quiet):
        self.quiet, self.rows, self.log_lik, self.scored = quiet, 0, 0.0, 0
        self.start = self.last = time.perf_counter()
        self.bar = None
        if not quiet and sys.stderr.isatty():
            try:
                from tqdm import tqdm

                self.bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr)
            except ImportError:
                pass

    def update(self, n_rows, log_lik_sum, n_scored):
        self.rows += n_rows
        self.log_lik += log_lik_sum
        self.scored += n_scored
        mean = f"{self.log_lik / self.scored:.4g}" if self.scored else "n/a"
        if self.bar is not None:
            self.bar.update(n_rows)
            self.bar.set_postfix_str(f"mean log-lik {mean}")
        elif not self.quiet and time.perf_counter() - self.last > 2:
            self.last = time.perf_counter()
            self._line(mean)

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif not self.quiet:
            self._line(f"{self.log_lik / self.scored:.4g}" if self.scored else "n/a")

    def _line(self, mean):
        rate = self.rows / max(time.perf_counter() - self.start, 1e-9)
        print(
            f"{self.rows} rows, {rate:,.0f} rows/s, mean log-likelihood {mean}",
            file=sys.stderr,
            flush=True,
        )


def _reader(args, path, names=None):
    return ChunkReader(
        path,
        args.chunk_size,
        args.columns,
        getattr(args, "skip_invalid", False),
        args.delimiter,
        args.header,
        names,
    )


def _say_delimiter(reader, quiet=False):
    if reader.guessed_delimiter is not None and not quiet:
        print(
            f"onlinegauss: delimiter {reader.guessed_delimiter!r} guessed from the data "
            "(set --delimiter to choose)",
            file=sys.stderr,
        )


def _fit(args):
    from ._compat import InvalidParameterError
    from ._estimator import OnlineGaussian

    if args.output:
        _check_output(args.output, args.path)
    est = OnlineGaussian(
        solver=args.solver,
        parametrization=args.parametrization,
        covariance_type=args.covariance_type,
        learning_rate=args.learning_rate,
        eta0=args.eta0,
        batch_size=args.batch_size,
        reg_covar=args.reg_covar,
        shrinkage=args.shrinkage,
    )
    reader = _reader(args, args.path)
    progress = _Progress(args.quiet)
    # Ctrl-C raises KeyboardInterrupt between chunks; the chunk being fitted
    # is either taken whole or not at all (a failed partial_fit changes nothing).
    ctrl_c = _CtrlC()
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:  # a shell's background job ignores Ctrl-C: so do we
        signal.signal(signal.SIGINT, ctrl_c)
    try:
        try:
            for k, chunk in enumerate(reader):
                if k == 0:
                    _say_delimiter(reader, args.quiet)
                if not len(chunk):
                    continue
                # Prequential score for the progress display: each chunk is scored
                # before the model learns from it (a pass saved when nothing shows it).
                shown = hasattr(est, "t_") and not args.quiet
                scored = est.score_samples(chunk) if shown else None
                est.partial_fit(chunk)
                progress.update(
                    len(chunk),
                    0.0 if scored is None else scored.sum(),
                    0 if scored is None else len(scored),
                )
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
    interrupted = ctrl_c.seen
    if not hasattr(est, "t_"):
        raise DataError(f"{args.path}: no valid rows to fit")
    if reader.feature_names is not None:
        # As if fitted on a DataFrame: scoring then takes the columns by name.
        est.feature_names_in_ = np.asarray(reader.feature_names, dtype=object)
    if args.output:
        try:
            save_model(est, args.output)
        except ValueError as exc:
            raise UsageError(f"--output: {exc}") from None
        except KeyboardInterrupt:
            print(
                f"interrupted while saving: {args.output} is as it was before",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
    summary = {
        "n_features": int(est.n_features_in_),
        "feature_names": reader.feature_names,
        "n_samples_seen": int(est.n_samples_seen_),
        "n_rows_skipped": reader.n_skipped,
        "interrupted": interrupted,
        "location": est.location_.tolist(),
        "covariance": est.covariance_.tolist(),
        "params": est.get_params(),
        "model": args.output,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"fitted {summary['n_samples_seen']} rows of {summary['n_features']} features"
            + (f" ({reader.n_skipped} invalid rows skipped)" if reader.n_skipped else "")
            + (f"; model saved to {args.output}" if args.output else "")
        )
        with np.printoptions(precision=6, suppress=False, linewidth=120):
            print("features:", ", ".join(reader.labels))
            print("location:", est.location_)
            print("covariance:\n", est.covariance_, sep="")
    if interrupted:
        print("interrupted: the model holds everything read before Ctrl-C", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _score(args):
    try:
        est = _load(args.model, args.allow_pickle)
    except FileNotFoundError:
        raise DataError(f"{args.model}: no such file") from None
    except ValueError as exc:  # not a model file, or of another version: it says so
        raise DataError(str(exc)) from None
    except Exception as exc:  # a corrupt or foreign pickle: say so in one line
        raise DataError(f"{args.model}: not a saved model ({type(exc).__name__})") from None
    if not hasattr(est, "score_samples") or not hasattr(est, "n_features_in_"):
        raise DataError(f"{args.model}: not a fitted OnlineGaussian")
    names = getattr(est, "feature_names_in_", None)
    # A model with named features takes its columns by name, unless told which.
    by_name = None if names is None or args.columns is not None else list(names)
    reader = _reader(args, args.path, by_name)
    out = sys.stdout
    out.write("log_likelihood,mahalanobis\n" if args.mahalanobis else "log_likelihood\n")
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
            columns = [_log_density(est, chunk)]
            if args.mahalanobis:
                columns.append(est.mahalanobis(chunk))
        np.savetxt(out, np.column_stack(columns), fmt="%.17g", delimiter=",")
    return 0


def _log_density(est, X):
    """The model's log-density of the rows; a detector's ``score_samples`` is another score."""
    from ._estimator import OnlineGaussian

    if isinstance(est, OnlineGaussian):
        return OnlineGaussian.score_samples(est, X)
    return est.score_samples(X)


def _load(path, allow_pickle):
    """A model file; a pickle only when allowed, since loading one runs its code."""
    with open(path, "rb") as file:
        head = file.read(4)
    if head.startswith(b"PK") or not allow_pickle:  # .npz files are zip archives
        return load_model(path)
    import joblib

    return joblib.load(path)


def _check_output(output, path):
    """Refuse, before any fitting, an output that cannot be written or is the input."""
    target = Path(output)
    if target.is_dir():
        raise UsageError(f"--output {output} is a directory; give a file name")
    if not target.parent.is_dir():
        raise UsageError(f"--output {output}: the directory {target.parent} does not exist")
    if path != "-" and target.exists() and os.path.samefile(target, path):
        raise UsageError(f"--output {output} is the input file; choose another name")


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


def _demo(args):
    from ._demo import run

    run(plot=args.plot)
    return 0
