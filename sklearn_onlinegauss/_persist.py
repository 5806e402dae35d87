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
from sklearn.base import BaseEstimator

from ._averaging import Averaged
from ._gaussians import Gaussians
from ._optimizers import AdamState
from ._shrinkage import FourthMoments
from ._solvers import EuclideanState, PreconditionedState, TrackedState, WarmupState

__all__ = ["load_model", "save_model", "write_atomically"]

FORMAT = "sklearn-onlinegauss model"
VERSION = 2


def _classes():
    """The estimators a model file may hold, by name (imported when needed)."""
    from . import (
        OnlineEllipticEnvelope,
        OnlineGaussian,
        OnlineGaussianClassifier,
        OnlineGaussianMixture,
    )

    kinds = (
        OnlineGaussian,
        OnlineGaussianClassifier,
        OnlineGaussianMixture,
        OnlineEllipticEnvelope,
    )
    return {cls.__name__: cls for cls in kinds}


def _types():
    """The only types a model file may rebuild: the learned states' tuples."""
    from ._classes import ClassState
    from ._em import MixtureState
    from ._quantiles import DistanceHistogram

    kinds = (
        Gaussians,
        TrackedState,
        FourthMoments,
        WarmupState,
        EuclideanState,
        PreconditionedState,
        AdamState,
        Averaged,
        ClassState,
        MixtureState,
        DistanceHistogram,
    )
    return {cls.__name__: cls for cls in kinds}


def save_model(estimator, path):
    """Write a fitted estimator of sklearn-onlinegauss, atomically, as arrays and JSON.

    Every estimator of the family is saved with its settings and its whole
    learned state, so that :func:`load_model` gives one that reads the same
    and continues the stream bit for bit.

    Parameters
    ----------
    estimator : OnlineGaussian, OnlineGaussianClassifier, OnlineGaussianMixture \
or OnlineEllipticEnvelope
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
    if isinstance(estimator, BaseEstimator) and not estimator.__sklearn_is_fitted__():
        raise ValueError(f"save_model writes a fitted {type(estimator).__name__}: fit it first.")
    arrays = {}
    meta = {"format": FORMAT, "version": VERSION, **_export(estimator, arrays)}
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


def _export(estimator, arrays):
    """The estimator's class, settings and learned state as JSON, its arrays into ``arrays``.

    An unfitted estimator (a setting, such as the detector's ``estimator``) is
    its class and settings.
    """
    name = type(estimator).__name__
    if _classes().get(name) is not type(estimator):
        raise ValueError(
            "save_model writes a fitted estimator of sklearn-onlinegauss "
            f"({', '.join(_classes())}); got a {name}."
        )
    tree = {
        "class": name,
        "params": {k: _encode(v, arrays) for k, v in estimator.get_params(deep=False).items()},
    }
    if not estimator.__sklearn_is_fitted__():
        return tree
    names = getattr(estimator, "feature_names_in_", None)
    return {
        **tree,
        "n_features_in_": int(estimator.n_features_in_),
        "feature_names_in_": None if names is None else list(map(str, names)),
        "fitted": {
            k: _encode(vars(estimator)[k], arrays)
            for k in estimator._fitted_names
            if k in vars(estimator)
        },
    }


def load_model(path):
    """Read a model written by :func:`save_model`; nothing in the file is run.

    Raises a ValueError for any file that is not such a model (a pickle
    included), or one of another format version.
    """
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
    if meta.get("format") != FORMAT or meta.get("class") not in _classes():
        raise ValueError(f"{path} is not a model file of sklearn-onlinegauss.")
    if meta.get("version") != VERSION:
        raise ValueError(
            f"{path} is a model of format version {meta.get('version')!r}; this version of "
            f"sklearn-onlinegauss reads version {VERSION}: refit it."
        )
    return _import(meta, arrays)


def _import(meta, arrays):
    from ._base import STATE_FORMAT

    cls = _classes().get(meta["class"])
    if cls is None:
        raise ValueError(f"a model file may not hold a {meta['class']!r}")
    est = cls(**{k: _decode(v, arrays) for k, v in meta["params"].items()})
    if "fitted" not in meta:  # a setting
        return est
    est._validate_params()
    est._check_settings()
    est.n_features_in_ = meta["n_features_in_"]
    if meta["feature_names_in_"] is not None:
        est.feature_names_in_ = np.asarray(meta["feature_names_in_"], dtype=object)
    for name, value in meta["fitted"].items():
        if name not in est._fitted_names:
            raise ValueError(f"a model file of a {meta['class']} may not hold {name!r}")
        setattr(est, name, _decode(value, arrays))
    est._validated_params = est._param_values()
    est._format = STATE_FORMAT
    est._check_loaded()  # a readable model, or a ValueError now rather than later
    return est


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


def _encode(value, arrays):
    """A JSON tree for ``value``; its arrays go into ``arrays`` under new keys."""
    if isinstance(value, np.generic):  # kept a numpy scalar (np.float64 is a float too)
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"array": key, "scalar": True}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        if value.dtype == object:  # labels as Python strings
            arrays[key] = np.ascontiguousarray(value.astype(str))
            return {"array": key, "object": True}
        arrays[key] = np.ascontiguousarray(value)
        return {"array": key}
    if isinstance(value, BaseEstimator):
        return {"estimator": _export(value, arrays)}
    if isinstance(value, tuple) and type(value).__name__ in _types():
        fields = {name: _encode(getattr(value, name), arrays) for name in value._fields}
        return {"type": type(value).__name__, "fields": fields}
    if isinstance(value, tuple | list):
        return {type(value).__name__: [_encode(v, arrays) for v in value]}
    raise ValueError(f"cannot store a {type(value).__name__} in a model file")


def _decode(tree, arrays):
    if tree is None or isinstance(tree, bool | int | float | str):
        return tree
    if "array" in tree:
        array = arrays[tree["array"]]
        if tree.get("scalar"):
            return array[()]
        return array.astype(object) if tree.get("object") else array
    if "tuple" in tree:
        return tuple(_decode(v, arrays) for v in tree["tuple"])
    if "list" in tree:
        return [_decode(v, arrays) for v in tree["list"]]
    if "estimator" in tree:
        return _import(tree["estimator"], arrays)
    cls = _types().get(tree.get("type"))
    if cls is None:
        raise ValueError(f"a model file may not hold a {tree.get('type')!r}")
    return cls(**{name: _decode(v, arrays) for name, v in tree["fields"].items()})
