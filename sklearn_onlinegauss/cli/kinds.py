"""The four kinds ``fit --model`` makes: the options each takes, the estimator, its summary.

Every estimator option of ``fit`` defaults to None on the command line, so
that one given for a kind that does not take it is refused rather than
ignored; a kind's own defaults are its estimator's.
"""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from .._classifier import OnlineGaussianClassifier
from .._compat import InvalidParameterError
from .._estimator import OnlineGaussian
from .._mixture import OnlineGaussianMixture
from .._outlier import OnlineEllipticEnvelope
from .readers import DataError, UsageError

GAUSSIAN, MIXTURE, CLASSIFIER, OUTLIER = "gaussian", "mixture", "classifier", "outlier"
#: ``--model`` name -> the estimator it fits.
ESTIMATORS = {
    GAUSSIAN: OnlineGaussian,
    MIXTURE: OnlineGaussianMixture,
    CLASSIFIER: OnlineGaussianClassifier,
    OUTLIER: OnlineEllipticEnvelope,
}
ALL = tuple(ESTIMATORS)
#: The kinds whose settings are an OnlineGaussian's (the detector's density).
DENSITY = (GAUSSIAN, OUTLIER)

#: Each estimator option of ``fit`` (its ``dest``): the kinds that take it.
OPTION_KINDS = {
    "solver": DENSITY,
    "parametrization": DENSITY,
    "covariance_type": ALL,
    "learning_rate": ALL,
    "eta0": ALL,
    "power_t": ALL,
    "average": (GAUSSIAN, MIXTURE, OUTLIER),
    "reg_covar": ALL,
    "shrinkage": ALL,
    "batch_size": ALL,
    "n_components": (MIXTURE,),
    "init_size": (MIXTURE,),
    "random_state": (MIXTURE,),
    "covariance": (CLASSIFIER,),
    "target": (CLASSIFIER,),
    "classes": (CLASSIFIER,),
    "contamination": (OUTLIER,),
    "threshold": (OUTLIER,),
}
#: Options of the command, not of the estimator.
_NOT_PARAMS = ("target", "classes")
#: How the help shows a default that is not a value.
_SHOWN = {None: "none", False: "no", True: "yes"}
#: ... and where "none" would not say what it means.
_SHOWN_NONE = {"random_state": "a new seed each run"}


def flag(dest):
    return "--" + dest.replace("_", "-")


def _estimator_class(kind, dest):
    """The class whose parameter ``dest`` is (the detector's density's are OnlineGaussian's)."""
    if kind == OUTLIER and dest in OnlineGaussian._parameter_constraints:
        return OnlineGaussian
    return ESTIMATORS[kind]


def default(kind, dest):
    """The value ``kind`` takes for option ``dest`` when it is not given."""
    if dest in _NOT_PARAMS:
        return None
    return _estimator_class(kind, dest)().get_params()[dest]


def choices(dest):
    """The string values option ``dest`` takes for some kind, sorted."""
    found = set()
    for kind in OPTION_KINDS[dest]:
        found |= _string_options(kind, dest)
    return sorted(found)


def _string_options(kind, dest):
    constraints = _estimator_class(kind, dest)._parameter_constraints[dest]
    return {o for c in constraints if isinstance(c, StrOptions) for o in c.options}


def defaults_text(dest):
    """``(default: ...)`` for the help of ``dest``: one value, or each kind's."""
    values = {}
    for kind in OPTION_KINDS[dest]:
        values.setdefault(_shown(dest, default(kind, dest)), []).append(kind)
    if len(values) == 1:
        return f"(default: {next(iter(values))})"
    return "(default: " + "; ".join(f"{', '.join(k)}: {v}" for v, k in values.items()) + ")"


def _shown(dest, value):
    if value is None and dest in _SHOWN_NONE:
        return _SHOWN_NONE[dest]
    if isinstance(value, bool) or value is None:
        return _SHOWN[value]
    return str(value)


def _kinds_text(kinds):
    names = [f"--model {k}" for k in kinds]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def build(kind, args):
    """The unfitted estimator of ``kind`` with the options given; refuses another kind's.

    Raises a UsageError (exit 2) for an option or a value that is not one of
    ``kind``'s, or one its estimator refuses: the command line alone is wrong.
    """
    given = {d: getattr(args, d) for d in OPTION_KINDS if getattr(args, d, None) is not None}
    for dest, value in given.items():
        if kind not in OPTION_KINDS[dest]:
            raise UsageError(
                f"{flag(dest)} is an option of {_kinds_text(OPTION_KINDS[dest])}, "
                f"not of --model {kind}"
            )
        if dest not in _NOT_PARAMS and isinstance(value, str):
            options = _string_options(kind, dest)
            if value not in options:
                takes = ", ".join(sorted(options)) if options else "a number"
                raise UsageError(f"{flag(dest)} {value}: --model {kind} takes {takes}")
    if kind == CLASSIFIER and "target" not in given:
        raise UsageError("--model classifier needs --target, the column of the labels")
    params = dict(given)
    for name in _NOT_PARAMS:
        params.pop(name, None)
    if kind == OUTLIER:
        own = {k: params.pop(k) for k in ("contamination", "threshold") if k in params}
        estimator = detector(OnlineGaussian(**params), **own)
        parts = (estimator, estimator.estimator)
    else:
        estimator = ESTIMATORS[kind](**params)
        parts = (estimator,)
    try:
        for part in parts:  # refused now, before any row is read
            part._validate_params()
            part._check_settings()
    except InvalidParameterError as exc:
        raise UsageError(str(exc)) from None
    return estimator


def detector(density, **params):
    """OnlineEllipticEnvelope of the density ``density`` (the one place that composes it)."""
    return OnlineEllipticEnvelope(density, **params)


def kind_of(estimator):
    """The ``--model`` name of a loaded estimator, or None for one of no kind here."""
    for kind, cls in ESTIMATORS.items():
        if type(estimator) is cls:
            return kind
    return None


# -- labels ---------------------------------------------------------------------------


class Labels:
    """The classifier's classes, and how a file's labels become them.

    Labels are numbers when every class is one (integers when all are
    whole), else text: ``1`` and ``1.0`` in a CSV are then one class.
    """

    def __init__(self, raw):
        raw = np.asarray(raw)
        if not len(raw):
            raise DataError("the target column has no labels")
        try:
            values = raw.astype(np.float64)
        except ValueError:
            values = None
        if values is None or not np.isfinite(values).all():
            self.kind, self.classes = "text", np.unique(raw.astype(str))
        elif np.all(values == np.round(values)):
            self.kind, self.classes = "int", np.unique(values.astype(np.int64))
        else:
            self.kind, self.classes = "float", np.unique(values)

    def of(self, y, where):
        """The labels of a chunk, as classes are (their text for a text file)."""
        if self.kind == "text":
            return y.astype(str)
        try:
            values = y.astype(np.float64)
        except ValueError:
            bad = next(v for v in y if not _is_number(v))
            raise DataError(
                f"{where}: label {bad!r} is not a number, as the classes are"
            ) from None
        if self.kind == "int":
            if not np.all(values == np.round(values)):
                bad = values[values != np.round(values)][0]
                raise DataError(
                    f"{where}: label {bad!r} is not a whole number, as the classes are"
                )
            return values.astype(np.int64)
        return values


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- what a fit shows -----------------------------------------------------------------


def progress_read(kind):
    """``(label, read)``: what the progress display shows, ``read(est, X, y)`` per row.

    Each chunk is read before the model learns from it (prequential).
    """
    if kind == CLASSIFIER:
        return "accuracy", lambda est, X, y: est.predict(X) == y
    if kind == OUTLIER:
        return "mean log-likelihood", lambda est, X, y: est.estimator_.score_samples(X)
    return "mean log-likelihood", lambda est, X, y: est.score_samples(X)


def summary(kind, est):
    """The fitted model's estimates, as JSON-ready values (by name)."""
    if kind == CLASSIFIER:
        spread = (
            {"covariance": est.covariance_.tolist()}
            if est.covariance == "shared"
            else {"covariances": est.covariances_.tolist()}
        )
        return {
            "classes": est.classes_.tolist(),
            "class_count": est.class_count_.tolist(),
            "means": est.means_.tolist(),
            **spread,
        }
    if kind == MIXTURE:
        return {
            "weights": est.weights_.tolist(),
            "means": est.means_.tolist(),
            "covariances": est.covariances_.tolist(),
        }
    found = {"location": est.location_.tolist(), "covariance": est.covariance_.tolist()}
    if kind == OUTLIER:
        found["offset"] = float(est.offset_)
    return found


def params(est):
    """The estimator's settings as JSON (the detector's density as its own settings)."""
    found = est.get_params(deep=False)
    if isinstance(found.get("estimator"), OnlineGaussian):
        found["estimator"] = found["estimator"].get_params(deep=False)
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in found.items()}


def spread(kind, est):
    """``(covariances, parts)``: every Gaussian's full covariance, and what each is.

    ``covariances`` has shape ``(n_gaussians, n_features, n_features)``
    whatever the structure; ``parts`` names them (None for one Gaussian).
    """
    density = est.estimator_ if kind == OUTLIER else est
    covariances = np.asarray(density._structure().to_full(density._fitted()[0]))
    if kind == CLASSIFIER:
        parts = [f"class {c}" for c in est.classes_]
    elif kind == MIXTURE:
        parts = [f"component {k}" for k in range(len(covariances))]
    else:
        parts = None
    return covariances, parts
