"""The ``onlinegauss`` command line: its parser, and the one place errors become exit codes."""

import argparse
import os
import sys

from .. import __version__
from . import commands, kinds, reads
from .readers import DataError

EXIT_INTERRUPTED = commands.EXIT_INTERRUPTED
#: What a program killed by SIGPIPE returns, as ``yes | head`` does.
EXIT_BROKEN_PIPE = 141

_FILES = (
    "a .csv or .tsv file (also .gz, .bz2, .xz, .zst or .lz4 compressed), a .parquet file, a "
    ".feather or .arrow file, a directory of Parquet files, an .npy array, or - for CSV on "
    "standard input"
)
#: The end of every --help: what the exit status says.
_EXIT_STATUS = """exit status:
  0    done
  1    bad data: a file or a model that cannot be used as it is (missing,
       unreadable, a bad value or row, a column it lacks, too few rows)
  2    bad usage: an option, a value or a combination of them that the
       command does not take, whatever the files hold
  130  interrupted (Ctrl-C); fit keeps what it learned before, and saves it
  141  the reader of standard output went away (| head)
an error is one line on standard error, "onlinegauss: error: ..." (for 2, after
a usage line)."""


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


_MODELS = {
    kinds.GAUSSIAN: "OnlineGaussian, one Gaussian",
    kinds.MIXTURE: "OnlineGaussianMixture, --n-components Gaussians",
    kinds.CLASSIFIER: "OnlineGaussianClassifier, a Gaussian per class of --target",
    kinds.OUTLIER: "OnlineEllipticEnvelope, a Gaussian and a threshold on its distances",
}

#: The estimator options of ``fit``, by group: ``dest -> (type or None, sentence)``;
#: the kinds that take each, and its default for each, come from :mod:`.kinds`.
_ESTIMATOR_OPTIONS = {
    "every model": {
        "covariance_type": (
            None,
            "structure of the covariance(s): full, any covariance; diag, a variance per "
            "feature (independent features); spherical, one variance for every feature; "
            "tied, one full covariance shared by all components (mixture only)",
        ),
        "learning_rate": (
            None,
            "step size after t rows: optimal, 1/t (the exact running estimate); constant, "
            "eta0 (forgets: a memory of about 1/eta0 rows); invscaling, eta0 / t**power_t "
            "(--power-t); adaptive, eta0 as constant (only fit on data in memory, from "
            "Python, divides it by 5 when it stalls; gaussian and outlier only)",
        ),
        "eta0": (
            float,
            "rate of the constant, invscaling and adaptive schedules (for natural and "
            "constant: the fraction of the estimate each row replaces)",
        ),
        "power_t": (float, "exponent of the invscaling schedule, eta0 / t**power_t"),
        "average": (
            "average",
            "Polyak-Ruppert averaging of the iterates: yes, no, or a number, the weight "
            "(rows) from which it starts",
        ),
        "reg_covar": (float, "what the estimate gets where the data do not determine it"),
        "shrinkage": (
            "shrinkage",
            "shrink the covariance toward a multiple of the identity: ledoit-wolf, oas (not "
            "mixture), or an intensity in [0, 1] (for when rows are few for the features)",
        ),
        "batch_size": (
            "batch_size",
            "rows per step, or auto (not mixture); with the natural solver and the optimal "
            "schedule, and for the classifier: speed only",
        ),
    },
    "gaussian and outlier (the Gaussian)": {
        "solver": (
            None,
            "update rule: natural, the natural gradient (exact, affine-invariant); "
            "riemannian, geodesic steps on the positive-definite matrices; sgd and adam, "
            "Euclidean gradient ascent in the coordinates of --parametrization",
        ),
        "parametrization": (
            None,
            "coordinates of the sgd and adam steps: cholesky, the log-Cholesky factor of the "
            "covariance; precision, that of the precision; covariance, the covariance itself "
            "(ignored by natural and riemannian)",
        ),
    },
    "mixture": {
        "n_components": ("positive", "number of Gaussians"),
        "init_size": (
            "positive",
            "rows of the warm-up by batch EM, before online EM takes over",
        ),
        "random_state": (int, "seed of the warm-up's initialization, for a repeatable fit"),
    },
    "classifier": {
        "covariance": (
            None,
            "per-class, one covariance per class (quadratic boundaries); shared, one pooled "
            "covariance (linear boundaries)",
        ),
    },
    "outlier": {
        "contamination": (float, "the fraction of the stream to flag as outliers, in (0, 0.5]"),
        "threshold": (
            None,
            "quantile, the contamination quantile of the stream's own distances; chi2, the "
            "chi-squared quantile, right for Gaussian rows only",
        ),
    },
}


class _Help(argparse.HelpFormatter):
    """Each help as written (a default is part of its sentence), the exit statuses as laid out."""

    def _fill_text(self, text, width, indent):
        if text.startswith("exit status:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _parser():
    parser = argparse.ArgumentParser(
        prog="onlinegauss",
        description="Fit a Gaussian, a Gaussian mixture, a Gaussian classifier or an outlier "
        "detector to a file too big for memory, and score files with it.",
        epilog=_EXIT_STATUS,
        formatter_class=_Help,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="print the version"
    )
    sub = parser.add_subparsers(required=True, metavar="{fit,score,demo}")
    _fit_parser(sub)
    _score_parser(sub)
    _demo_parser(sub)
    return parser


def _command(sub, name, help, description):
    return sub.add_parser(
        name, help=help, description=description, epilog=_EXIT_STATUS, formatter_class=_Help
    )


def _fit_parser(sub):
    fit = _command(
        sub,
        "fit",
        "stream a file through partial_fit",
        "Stream a file through the partial_fit of the --model estimator, chunk by chunk, and "
        "print a summary of what it learned (rows, features, where it is saved, condition "
        "number, smallest and largest variance; --show adds the matrices, --json gives "
        "everything). The progress line on standard error gives the prequential score: "
        "each chunk read by the model of the rows before it, before it learns from them "
        "(the first chunk's second half by a model of its first half). An option of another "
        "kind of model than --model's is refused.",
    )
    fit.add_argument("path", help=_FILES)
    fit.add_argument(
        "--model",
        default=kinds.GAUSSIAN,
        choices=list(kinds.ESTIMATORS),
        help="what to fit: "
        + "; ".join(f"{k}: {v}" for k, v in _MODELS.items())
        + f" (default: {kinds.GAUSSIAN})",
    )
    for group_name, options in _ESTIMATOR_OPTIONS.items():
        group = fit.add_argument_group(f"options of {group_name}")
        for dest, (kind, text) in options.items():
            _estimator_option(group, dest, kind, text)
    _label_options(fit.add_argument_group("the classifier's labels"))
    _reading_options(fit)
    fit.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip invalid rows instead of refusing the file at the first (an empty field "
        "or missing value, a line of the wrong number of fields, text in a column of numbers, "
        "a NaN or infinite value, no label); the summary says how many, and where the first "
        "were",
    )
    fit.add_argument(
        "--output",
        "-o",
        help="save the fitted model here: a .npz file that loads without running code "
        "(sklearn_onlinegauss.load_model reads it), with the header's names of the columns "
        "(default: not saved)",
    )
    fit.add_argument("--json", action="store_true", help="print the result as JSON")
    fit.add_argument(
        "--show", action="store_true", help="print the learned matrices after the summary"
    )
    fit.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    fit.set_defaults(command=commands.fit)


def _label_options(classifier):
    classifier.add_argument(
        "--target",
        help="the column of the labels (needed by --model classifier): its name in the "
        "header, or its 0-based position, negative from the end (-1: the last column, as "
        "in an .npy file); the features are the other columns, or --columns",
    )
    classifier.add_argument(
        "--classes",
        type=_classes,
        help="comma-separated, every label of the stream (default: the labels found by a "
        "first pass over the target column; needed on standard input, which is read once). "
        "Labels are numbers when every class is one, else text",
    )


def _estimator_option(group, dest, kind, text):
    takes = kinds.OPTION_KINDS[dest]
    if takes != kinds.ALL:
        text += f" [{', '.join(takes)}]"
    text += " " + kinds.defaults_text(dest)
    types = {
        "shrinkage": _shrinkage,
        "batch_size": _batch_size,
        "average": _average,
        "positive": _whole,
        None: None,
        int: int,
        float: float,
    }
    options = {"help": text, "type": types[kind]}
    if kind == "average":
        options["metavar"] = "{yes,no,WEIGHT}"
    if kind is None:
        options["choices"] = kinds.choices(dest)
    group.add_argument(kinds.flag(dest), **options)


def _score_parser(sub):
    score = _command(
        sub,
        "score",
        "per-row reads of a saved model, as CSV",
        "Write reads of the model for every row, as CSV: first the kind's own column, "
        + "; ".join(
            f"{kind}: {reads.PRIMARY[kind]} ({reads.READS[reads.PRIMARY[kind]][kind]})"
            for kind in kinds.ESTIMATORS
        )
        + ". Each option adds its read; one the model's kind has not is refused. A model "
        "fitted on a file with a header takes its columns by name. Nothing is written "
        "before the model, the reads, the columns and the first chunk (--chunk-size rows) "
        "are checked; a bad row in a later chunk stops the command with exit status 1, "
        "after the rows of the chunks before it were written.",
    )
    score.add_argument("model", help="a model saved by 'onlinegauss fit --output'")
    score.add_argument(
        "--allow-pickle",
        action="store_true",
        help="also accept a pickle or joblib file, such as an estimator saved from Python: "
        "loading one runs whatever code it holds, so only for files you trust",
    )
    score.add_argument("path", help=_FILES)
    for dest, meanings in reads.READS.items():
        if dest == "log_likelihood":
            continue
        score.add_argument(
            reads.flag(dest),
            action="store_true",
            help="add " + "; ".join(f"{kind}: {text}" for kind, text in meanings.items()),
        )
    _reading_options(score)
    score.set_defaults(command=commands.score)


def _demo_parser(sub):
    demo = _command(
        sub,
        "demo",
        "the textbook update against the library's solvers",
        "The original question: gradient ascent on N(0, 1) one sample at a time, the "
        "textbook update next to the library's solvers; then a 5-D stream.",
    )
    demo.add_argument(
        "--output",
        "-o",
        dest="plot",
        default="temporary",
        help="where to save the figure (needs matplotlib); 'temporary' is a new temporary "
        "directory, whose path is printed (default: temporary)",
    )
    demo.add_argument(
        "--no-plot",
        dest="plot",
        action="store_const",
        const=None,
        help="make no figure (only the printed comparison)",
    )
    demo.set_defaults(command=commands.demo)


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
        help="whether the first row names the columns: yes, no, or auto, when none of its "
        "fields is a number (default: auto)",
    )
    parser.add_argument(
        "--chunk-size",
        type=_rows,
        default=10_000,
        help="rows read at a time (default: 10000)",
    )


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


def _batch_size(text):
    return "auto" if text == "auto" else _whole(text)


def _average(text):
    """yes / no, or the weight from which averaging starts (its estimator checks the range)."""
    flags = {"yes": True, "true": True, "no": False, "false": False}
    if text.lower() in flags:
        return flags[text.lower()]
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"{text!r}: use yes, no or a number of rows")


def _names(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no column")
    return names


def _classes(text):
    labels = [label.strip() for label in text.split(",") if label.strip()]
    if not labels:
        raise argparse.ArgumentTypeError(f"{text!r} names no class")
    return labels


def _whole(text, what="a whole number"):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give {what}, at least 1")
    return value


def _rows(text):
    return _whole(text, "a whole number of rows")
