"""The ``onlinegauss`` command: fit a Gaussian to a file too big for memory."""

import argparse
import json
import signal
import sys
import time

import numpy as np

from ._readers import ChunkReader, DataError

EXIT_DATA_ERROR = 1
EXIT_INTERRUPTED = 130


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except DataError as exc:
        print(f"onlinegauss: error: {exc}", file=sys.stderr)
        return EXIT_DATA_ERROR


def _parser():
    parser = argparse.ArgumentParser(
        prog="onlinegauss",
        description="Fit a multivariate Gaussian to a stream by gradient ascent.",
    )
    sub = parser.add_subparsers(required=True, metavar="{fit,score,demo}")

    fit = sub.add_parser("fit", help="stream a file through partial_fit")
    fit.add_argument("path", help=".npy, .csv or .tsv file, or - for CSV on standard input")
    fit.add_argument("--solver", default="natural", choices=["natural", "sgd", "adam"])
    fit.add_argument(
        "--parametrization", default="cholesky", choices=["cholesky", "precision", "covariance"]
    )
    fit.add_argument("--covariance-type", default="full", choices=["full", "diag", "spherical"])
    fit.add_argument(
        "--learning-rate",
        default="optimal",
        choices=["optimal", "constant", "invscaling", "adaptive"],
    )
    fit.add_argument("--eta0", type=float, default=0.01)
    fit.add_argument(
        "--reg-covar",
        type=float,
        default=1e-6,
        help="what the estimate gets where the data do not determine it (default: 1e-6)",
    )
    fit.add_argument(
        "--shrinkage",
        type=_shrinkage,
        default=None,
        help="ledoit-wolf, oas, or an intensity in [0, 1] (default: none)",
    )
    fit.add_argument("--batch-size", type=int, default=1000, help="rows per gradient step")
    fit.add_argument("--chunk-size", type=int, default=10_000, help="rows read at a time")
    fit.add_argument("--columns", type=_names, help="comma-separated names or 0-based indices")
    fit.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip and count rows with NaN or infinite values",
    )
    fit.add_argument("--output", "-o", help="save the fitted estimator here (joblib)")
    fit.add_argument("--json", action="store_true", help="print the result as JSON")
    fit.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    fit.set_defaults(command=_fit)

    score = sub.add_parser("score", help="per-row log-likelihoods under a saved model, as CSV")
    score.add_argument("model", help="a model saved by 'onlinegauss fit --output'")
    score.add_argument("path", help=".npy, .csv or .tsv file, or - for standard input")
    score.add_argument("--columns", type=_names)
    score.add_argument(
        "--mahalanobis", action="store_true", help="add the squared Mahalanobis distance"
    )
    score.add_argument("--chunk-size", type=int, default=10_000)
    score.set_defaults(command=_score)

    demo = sub.add_parser("demo", help="the textbook update against the library's solvers")
    demo.add_argument(
        "--output",
        "-o",
        dest="plot",
        default="temporary",
        help="where to save the figure (needs matplotlib; default: a new temporary "
        "directory, whose path is printed)",
    )
    demo.add_argument(
        "--no-plot", dest="plot", action="store_const", const=None, help="make no figure"
    )
    demo.set_defaults(command=_demo)
    return parser


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
    return [name.strip() for name in text.split(",") if name.strip()]


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


def _fit(args):
    from ._compat import InvalidParameterError
    from ._estimator import OnlineGaussian

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
    reader = ChunkReader(args.path, args.chunk_size, args.columns, args.skip_invalid)
    progress = _Progress(args.quiet)
    interrupted = False
    # Ctrl-C raises KeyboardInterrupt between chunks; the chunk being fitted
    # is either taken whole or not at all (a failed partial_fit changes nothing).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        for chunk in reader:
            if not len(chunk):
                continue
            # Prequential score for the progress display: each chunk is scored
            # before the model learns from it (a pass saved when nothing shows it).
            scored = est.score_samples(chunk) if hasattr(est, "t_") and not args.quiet else None
            est.partial_fit(chunk)
            progress.update(
                len(chunk),
                0.0 if scored is None else scored.sum(),
                0 if scored is None else len(scored),
            )
    except KeyboardInterrupt:
        interrupted = True
    except InvalidParameterError as exc:
        raise DataError(str(exc)) from None
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.close()
    if not hasattr(est, "t_"):
        raise DataError(f"{args.path}: no valid rows to fit")
    if args.output:
        import joblib

        joblib.dump(est, args.output)
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
        names = reader.feature_names or [str(i) for i in range(est.n_features_in_)]
        with np.printoptions(precision=6, suppress=False, linewidth=120):
            print("features:", ", ".join(names))
            print("location:", est.location_)
            print("covariance:\n", est.covariance_, sep="")
    if interrupted:
        print("interrupted: the model holds everything read before Ctrl-C", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _score(args):
    import joblib

    try:
        est = joblib.load(args.model)
    except FileNotFoundError:
        raise DataError(f"{args.model}: no such file") from None
    except ValueError as exc:  # e.g. a model of another version, which says so
        raise DataError(f"{args.model}: {exc}") from None
    except Exception as exc:  # a corrupt or foreign file: say so in one line
        raise DataError(f"{args.model}: not a saved model ({type(exc).__name__})") from None
    if not hasattr(est, "score_samples") or not hasattr(est, "n_features_in_"):
        raise DataError(f"{args.model}: not a fitted OnlineGaussian")
    reader = ChunkReader(args.path, args.chunk_size, args.columns)
    out = sys.stdout
    out.write("log_likelihood,mahalanobis\n" if args.mahalanobis else "log_likelihood\n")
    for chunk in reader:
        if chunk.shape[1] != est.n_features_in_:
            raise DataError(
                f"{args.path}: {chunk.shape[1]} columns, but the model has "
                f"{est.n_features_in_} features"
            )
        columns = [est.score_samples(chunk)]
        if args.mahalanobis:
            columns.append(est.mahalanobis(chunk))
        np.savetxt(out, np.column_stack(columns), fmt="%.17g", delimiter=",")
    return 0


def _demo(args):
    from ._demo import run

    run(plot=args.plot)
    return 0
