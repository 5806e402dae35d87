"""The ``onlinegauss`` command line: its parser, and the one place errors become exit codes."""

import argparse
import os
import sys

from . import commands
from .readers import DataError

EXIT_INTERRUPTED = commands.EXIT_INTERRUPTED
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
    from .._estimator import OnlineGaussian

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
    fit.set_defaults(command=commands.fit)

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
    score.set_defaults(command=commands.score)

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
    demo.set_defaults(command=commands.demo)
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
