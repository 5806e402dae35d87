"""Model files that load without running code: the state's arrays and JSON, in one ``.npz``.

A pickle (and so a joblib file) can run any code when it is loaded, so a
model file from elsewhere is a program. :func:`save_model` writes the
estimator's hyperparameters and learned state as JSON plus plain float
arrays in a NumPy ``.npz`` archive, loaded with ``allow_pickle=False``;
:func:`load_model` rebuilds the estimator from the types it knows and
refuses anything else, and a file of another format version. Files are
written atomically: to a temporary file in the same folder, flushed to disk,
then renamed over the old one, so an interrupted save leaves the old file
whole.
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ._averaging import Averaged
from ._gaussians import Gaussians
from ._optimizers import AdamState
from ._shrinkage import FourthMoments
from ._solvers import EuclideanState, PreconditionedState, TrackedState, WarmupState

__all__ = ["load_model", "save_model", "write_atomically"]

FORMAT = "sklearn-onlinegauss model"
VERSION = 1
#: The only types a model file may rebuild.
_TYPES = {
    cls.__name__: cls
    for cls in (
        Gaussians,
        TrackedState,
        FourthMoments,
        WarmupState,
        EuclideanState,
        PreconditionedState,
        AdamState,
    )
}
_TYPES["Averaged"] = Averaged
_FITTED = ("t_", "n_samples_seen_", "n_steps_shrunk_", "n_iter_", "n_features_in_")


def save_model(estimator, path):
    """Write a fitted :class:`OnlineGaussian` or :class:`OnlineEllipticEnvelope`, atomically.

    Parameters
    ----------
    estimator : OnlineGaussian or OnlineEllipticEnvelope
        Fitted, with JSON-representable hyperparameters (``random_state``
        None or an int).
    path : str or path-like
        Where to write; an existing file is replaced only once the new one
        is complete.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn_onlinegauss import OnlineGaussian, load_model, save_model
    >>> est = OnlineGaussian().fit(np.random.default_rng(0).normal(size=(100, 2)))
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> save_model(est, path)
    >>> np.array_equal(load_model(path).covariance_, est.covariance_)
    True
    """
    name = type(estimator).__name__
    if name not in _CLASSES or type(estimator) is not _CLASSES[name]():
        raise ValueError(
            "save_model writes a fitted OnlineGaussian or OnlineEllipticEnvelope; "
            f"got a {name}. Other estimators pickle (joblib.dump)."
        )
    if not hasattr(estimator, "_state"):
        raise ValueError(f"save_model writes a fitted {name}: fit it first.")
    arrays = {}
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "class": name,
        "params": estimator.get_params(),
        "fitted": {name: _number(getattr(estimator, name)) for name in _FITTED},
        "feature_names_in_": (
            list(map(str, estimator.feature_names_in_))
            if hasattr(estimator, "feature_names_in_")
            else None
        ),
        "state": _encode(estimator._state, arrays),
        "average": _encode(estimator._average, arrays),
    }
    if hasattr(estimator, "_histogram"):  # a detector's threshold
        arrays["histogram"] = estimator._histogram.mass
        meta["threshold"] = {
            "squares": estimator._histogram.squares,
            "weight": estimator._histogram_weight,
            "fitted_offset": getattr(estimator, "_fitted_offset", None),
        }
    try:
        text = json.dumps(meta)
    except TypeError as exc:
        raise ValueError(
            f"save_model stores hyperparameters as JSON, and one is not ({exc}); "
            "set random_state to None or an int."
        ) from None
    arrays["meta.json"] = np.array(text)

    def write(file):
        np.savez(file, **arrays)

    write_atomically(path, write)


def load_model(path):
    """Read a model written by :func:`save_model`; nothing in the file is run.

    Raises a ValueError for any file that is not such a model (a pickle
    included), or one of another format version.
    """
    from ._estimator import _FORMAT

    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
            meta = json.loads(str(arrays.pop("meta.json")))
    except FileNotFoundError:
        raise
    except Exception as exc:  # not a zip, not our keys, not JSON: not a model file
        raise ValueError(
            f"{path} is not a model file of sklearn-onlinegauss ({type(exc).__name__}). A "
            "pickle or joblib file can run any code when loaded: load one only if you trust "
            "it, with joblib.load (the command line's --allow-pickle)."
        ) from None
    if meta.get("format") != FORMAT or meta.get("class") not in _CLASSES:
        raise ValueError(f"{path} is not a model file of sklearn-onlinegauss.")
    if meta.get("version") != VERSION:
        raise ValueError(
            f"{path} is a model of format version {meta.get('version')!r}; this version of "
            f"sklearn-onlinegauss reads version {VERSION}: refit it."
        )
    est = _CLASSES[meta["class"]]()(**meta["params"])
    est._validate_params()
    solver = est._make_solver()
    for name, value in meta["fitted"].items():
        setattr(est, name, value)
    if meta["feature_names_in_"] is not None:
        est.feature_names_in_ = np.asarray(meta["feature_names_in_"], dtype=object)
    est._state = _decode(meta["state"], arrays)
    est._average = _decode(meta["average"], arrays)
    est._solver, est._solver_structure = solver, est._structure()
    est._validated_params = est._param_values()
    est._format = _FORMAT
    if "threshold" in meta:
        from ._quantiles import DistanceHistogram

        threshold = meta["threshold"]
        est._histogram = DistanceHistogram(arrays["histogram"], float(threshold["squares"]))
        est._histogram_weight = float(threshold["weight"])
        if threshold["fitted_offset"] is not None:
            est._fitted_offset = float(threshold["fitted_offset"])
    est._fitted()  # a readable Gaussian, or a ValueError now rather than later
    return est


def _online_gaussian():
    from ._estimator import OnlineGaussian

    return OnlineGaussian


def _online_elliptic_envelope():
    from ._outlier import OnlineEllipticEnvelope

    return OnlineEllipticEnvelope


#: The classes a model file may hold, by name (imported when needed).
_CLASSES = {
    "OnlineGaussian": _online_gaussian,
    "OnlineEllipticEnvelope": _online_elliptic_envelope,
}


def write_atomically(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    The old file stays whole until the new one is complete and on disk; on
    any error or interruption the temporary file is removed.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give a file name to write to.")
    if not path.parent.is_dir():
        raise ValueError(f"{path.parent} is not a directory; create it first.")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _number(value):
    return value.item() if isinstance(value, np.generic) else value


def _encode(value, arrays):
    """A JSON tree for ``value``; its arrays go into ``arrays`` under new keys."""
    if value is None or isinstance(value, bool | int | float | np.generic):
        return _number(value)
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = np.ascontiguousarray(value, dtype=np.float64)
        return {"array": key}
    if isinstance(value, tuple) and type(value).__name__ in _TYPES:
        fields = {name: _encode(getattr(value, name), arrays) for name in value._fields}
        return {"type": type(value).__name__, "fields": fields}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, arrays) for v in value]}
    raise ValueError(f"cannot store a {type(value).__name__} in a model file")


def _decode(tree, arrays):
    if tree is None or isinstance(tree, bool | int | float):
        return tree
    if "array" in tree:
        return arrays[tree["array"]]
    if "tuple" in tree:
        return tuple(_decode(v, arrays) for v in tree["tuple"])
    cls = _TYPES.get(tree.get("type"))
    if cls is None:
        raise ValueError(f"a model file may not hold a {tree.get('type')!r}")
    return cls(**{name: _decode(v, arrays) for name, v in tree["fields"].items()})
