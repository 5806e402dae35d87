"""The commands: ``fit`` (with its progress display and Ctrl-C), ``score`` and ``demo``."""

import json
import signal
import sys
import time
import warnings

import numpy as np

from .._persist import save_model
from .models import check_output, load
from .readers import ChunkReader, DataError, UsageError

EXIT_INTERRUPTED = 130


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


def fit(args):
    from .._compat import InvalidParameterError
    from .._estimator import OnlineGaussian

    if args.output:
        check_output(args.output, args.path)
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


def score(args):
    try:
        est = load(args.model, args.allow_pickle)
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
    from .._estimator import OnlineGaussian

    if isinstance(est, OnlineGaussian):
        return OnlineGaussian.score_samples(est, X)
    return est.score_samples(X)


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
