"""Model files that load without running code: the state's arrays and JSON, in one ``.npz``.

A pickle (and so a joblib file) can run any code when it is loaded, so a
model file from elsewhere is a program. :func:`save_model` writes the
estimator's hyperparameters and learned state as JSON plus plain float
arrays in a NumPy ``.npz`` archive, loaded with ``allow_pickle=False``, with a
SHA-256 checksum of the whole. :func:`load_model` rebuilds the estimator from
the types it knows, and checks everything before trusting it: the checksum
(an edited file is refused as such), and, for files written by other means,
the parameters (by the estimator's own validation), every learned attribute
(known, of the right type, shape and dtype, finite, counts non-negative,
covariances symmetric positive semi-definite; a curve of lower bounds or
losses may also hold the -inf or +inf of a pass with a row beyond float64)
and a read of the result.
Files are written atomically: to a temporary file in the same folder,
flushed to disk, then renamed over the old one, so an interrupted save leaves
the old file whole.
"""

import hashlib
import json
import os
import secrets
from numbers import Integral, Real
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
#: The keys of an estimator's JSON; the file's own (format, version, checksum) at the top.
_KEYS = {"class", "params", "n_features_in_", "feature_names_in_", "fitted"}
_FILE_KEYS = {"format", "version", "sha256"}


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


#: Fields a state tuple gained after the first files of this version, by type:
#: a file without one gets the value that reads it as the version that wrote
#: it did. Those versions' warm-up counted weight as rows: a unit of 1.
_ADDED = {"WarmupState": {"unit": 1.0}, "FourthMoments": {"cross3": None, "cross4": None}}

#: Each estimator's ``_state`` types, and how many Gaussians its moments hold (None: any).
_STATES = {
    "OnlineGaussian": (
        ("Gaussians", "TrackedState", "WarmupState", "EuclideanState", "PreconditionedState"),
        lambda est: 1,
    ),
    "OnlineGaussianClassifier": (("ClassState",), lambda est: None),
    "OnlineGaussianMixture": (("MixtureState",), lambda est: est.n_components),
}


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
        meta["sha256"] = _digest(meta, arrays)
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


def _digest(meta, arrays):
    """SHA-256 of the JSON (but its checksum) and of every array's dtype, shape and bytes."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps({k: v for k, v in meta.items() if k != "sha256"}, sort_keys=True).encode()
    )
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"\0{key}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


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


class _Refused(Exception):
    """A field of a model file that cannot be trusted: ``(field, why)``."""


def _refuse(field, why):
    raise _Refused(field, why)


def load_model(path):
    """Read a model written by :func:`save_model`; nothing in the file is run.

    Everything is checked before it is trusted: the checksum written with
    the file, the parameters (by the estimator's own validation), and every
    learned attribute (see the user guide's "Failure modes").

    Raises
    ------
    ValueError
        For any file that is not such a model (a pickle included), one of
        another format version, one changed after saving, and one whose
        contents are not a valid model: the message names the file and the
        field.
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
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a model file of sklearn-onlinegauss.")
    if meta.get("version") != VERSION:
        raise ValueError(
            f"{path} is a model of format version {meta.get('version')!r}; this version of "
            f"sklearn-onlinegauss reads version {VERSION}: refit it."
        )
    checksum = meta.get("sha256")
    if checksum is not None and checksum != _digest(meta, arrays):
        raise ValueError(
            f"{path} was changed after saving: its contents do not match the SHA-256 "
            "checksum save_model wrote with them. Restore the saved file, or refit."
        )
    try:
        unknown = sorted(meta.keys() - _KEYS - _FILE_KEYS)
        if unknown:
            _refuse(unknown[0], "not a field of a model file")
        if "fitted" not in meta:
            _refuse("fitted", "missing: the file holds no learned state")
        return _import({k: v for k, v in meta.items() if k in _KEYS}, arrays, "")
    except _Refused as exc:
        field, why = exc.args
        raise ValueError(f"{path}: {field}: {why}") from None


def _import(meta, arrays, where):
    """The estimator of an estimator's JSON, every field checked; ``where``: its path."""
    from ._base import STATE_FORMAT

    if not isinstance(meta, dict) or meta.keys() - _KEYS:
        _refuse(where.rstrip(".") or "class", "not an estimator's fields")
    cls = _classes().get(meta.get("class"))
    if cls is None:
        _refuse(f"{where}class", f"a model file may not hold a {meta.get('class')!r}")
    est = _settings(cls, meta.get("params"), arrays, where)
    if "fitted" not in meta:  # a setting
        return est
    _features(est, meta, where)
    fitted = meta["fitted"]
    if not isinstance(fitted, dict):
        _refuse(f"{where}fitted", "not the learned attributes")
    for name in fitted:
        if name not in cls._fitted_names:
            _refuse(f"{where}{name}", f"not a learned attribute of {cls.__name__}")
    optional = {getattr(cls, "_curve_name", None)}
    for name in cls._fitted_names:
        if name not in fitted and name not in optional:
            _refuse(f"{where}{name}", "missing")
    for name, value in fitted.items():
        setattr(est, name, _decode(value, arrays, f"{where}{name}"))
    _check_learned(est, where)
    est._validated_params = est._param_values()
    est._format = STATE_FORMAT
    try:
        est._check_loaded()  # a readable model, or refused now rather than at a read
    except Exception as exc:
        _refuse(f"{where}_state", f"cannot be read ({exc})")
    return est


def _settings(cls, params, arrays, where):
    """The unfitted estimator of these parameters, validated as ``fit`` validates them.

    A parameter the file lacks is the constructor's default: a file of an
    earlier version lacks the parameters added since, whose defaults do what
    that version did. One the estimator does not have is refused.
    """
    if not isinstance(params, dict):
        _refuse(f"{where}params", "missing")
    known = cls().get_params(deep=False)
    for name in sorted(params.keys() - known.keys()):
        _refuse(f"{where}params.{name}", f"not a parameter of {cls.__name__}")
    est = cls(**{k: _decode(v, arrays, f"{where}params.{k}") for k, v in params.items()})
    try:
        est._validate_params()
        est._check_settings()
    except (ValueError, TypeError) as exc:
        _refuse(f"{where}params", str(exc))
    return est


def _features(est, meta, where):
    n = meta.get("n_features_in_")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        _refuse(f"{where}n_features_in_", f"{n!r} is not a number of features")
    est.n_features_in_ = n
    names = meta.get("feature_names_in_")
    if names is None:
        return
    if not (
        isinstance(names, list) and len(names) == n and all(isinstance(s, str) for s in names)
    ):
        _refuse(f"{where}feature_names_in_", f"not {n} names")
    est.feature_names_in_ = np.asarray(names, dtype=object)


# -- the checks of a learned state ------------------------------------------------------


class _Context:
    """What the checks of one estimator's state need: its features and its structure."""

    def __init__(self, est):
        self.d = est.n_features_in_
        self.structure = getattr(est, "_structure", lambda: None)()


def _check_learned(est, where):
    """Refuse a learned attribute of the wrong type, shape, dtype, sign or symmetry."""
    ctx = _Context(est)
    # The parameters first: a state they do not describe is named as such.
    for name in sorted(est._fitted_names, key=lambda name: name != "_structure_"):
        if name not in vars(est):
            continue
        value, field = vars(est)[name], f"{where}{name}"
        if name not in _WORST_OF_CURVE:  # a curve's own check allows its infinity
            _walk(value, field, ctx)
        _ATTRIBUTES.get(name, _any)(est, value, field, ctx)


def _walk(value, field, ctx):
    """Every state tuple's own check, and finiteness of every number, throughout ``value``."""
    check = _TUPLES.get(type(value).__name__)
    if check is not None and isinstance(value, tuple):
        check(value, field, ctx)
        for name in value._fields:
            _walk(getattr(value, name), f"{field}.{name}", ctx)
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            _walk(item, f"{field}[{i}]", ctx)
    elif isinstance(value, np.ndarray | np.generic | float):
        array = np.asarray(value)
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            _refuse(field, "not finite")


def _any(est, value, field, ctx):
    """A learned attribute without a check of its own: the walk's checks only."""


def _count(est, value, field, ctx, integer=False):
    """A finite non-negative number (an integer if ``integer``)."""
    kinds = Integral if integer else Real
    if isinstance(value, bool | np.bool_) or not isinstance(value, kinds):
        _refuse(field, f"{value!r} is not {'an integer' if integer else 'a number'}")
    if not np.isfinite(value) or value < 0:
        _refuse(field, f"{value!r} is not a non-negative number")


def _whole(est, value, field, ctx):
    _count(est, value, field, ctx, integer=True)


#: The one infinity a curve may hold: that of a pass with a row beyond what
#: float64 can score (its log-density -inf), as the estimators document.
_WORST_OF_CURVE = {"lower_bounds_": -np.inf, "loss_curve_": np.inf}


def _curve(est, value, field, ctx):
    """A list of numbers, each finite or the curve's worst value (``_WORST_OF_CURVE``)."""
    if not isinstance(value, list) or not all(
        isinstance(v, Real) and not isinstance(v, bool | np.bool_) for v in value
    ):
        _refuse(field, "not a list of numbers")
    worst = _WORST_OF_CURVE[field.rsplit(".", 1)[-1]]
    for i, v in enumerate(value):
        if not (np.isfinite(v) or v == worst):
            _refuse(f"{field}[{i}]", f"{float(v)} is neither finite nor {worst}")


def _flag(est, value, field, ctx):
    if not isinstance(value, bool):
        _refuse(field, f"{value!r} is not True or False")


def _structure(est, value, field, ctx):
    try:
        est._check_structure()
    except (ValueError, TypeError) as exc:
        _refuse(field, f"the learned state and the parameters disagree: {exc}")


def _offset(est, value, field, ctx):
    if value is not None and not (
        isinstance(value, tuple) and len(value) == 2 and all(np.ndim(v) == 0 for v in value)
    ):
        _refuse(field, "not a (contamination, offset) pair")


def _density(est, value, field, ctx):
    if not (isinstance(value, BaseEstimator) and value.__sklearn_is_fitted__()):
        _refuse(field, "not a fitted estimator")
    if value.n_features_in_ != ctx.d:
        _refuse(field, f"fitted on {value.n_features_in_} features, not {ctx.d}")


def _state(est, value, field, ctx):
    """The state is of a type this estimator holds, and its moments are Gaussians."""
    types, count = _STATES[type(est).__name__]
    if type(value).__name__ not in types:
        _refuse(field, f"a {type(value).__name__} is not a learned state of {type(est).__name__}")
    try:
        moments = est._moments(value)
    except Exception:  # the state of another solver's settings
        moments = None
    if not isinstance(moments, Gaussians):
        _refuse(field, f"a {type(value).__name__} is not the state of these parameters")
    _gaussians(moments, f"{field} (its Gaussians)", ctx)
    K = count(est)
    if K is not None and len(moments.weights) != K:
        _refuse(field, f"{len(moments.weights)} Gaussians, where the parameters say {K}")
    average, where = vars(est).get("_average"), field.removesuffix("_state")
    if average is not None:
        if not isinstance(average, Averaged) or not isinstance(average.state, Gaussians):
            _refuse(f"{where}_average", "not an average of the state")
        if [np.shape(a) for a in average.state] != [np.shape(a) for a in moments]:
            _refuse(f"{where}_average", "not of the state's shapes")


_ATTRIBUTES = {
    "_state": _state,
    "t_": _count,
    "_histogram_weight": _count,
    "n_samples_seen_": _whole,
    "n_iter_": _whole,
    "n_steps_shrunk_": _whole,
    "_structure_": _structure,
    "loss_curve_": _curve,
    "lower_bounds_": _curve,
    "converged_": _flag,
    "_fitted_offset": _offset,
    "estimator_": _density,
}


def _floats(value, shape, field, non_negative=False):
    """``value`` is a float64 array of ``shape`` (finite: the walk checks), maybe >= 0."""
    if not isinstance(value, np.ndarray) or value.dtype != np.float64:
        what = type(value).__name__ if not isinstance(value, np.ndarray) else value.dtype
        _refuse(field, f"a {what}, not an array of float64")
    if value.shape != tuple(shape):
        _refuse(field, f"shape {value.shape}, expected {tuple(shape)}")
    if non_negative and np.any(value < 0):
        _refuse(field, "negative values")


def _spd(matrices, field):
    """Every matrix of ``matrices`` (k, d, d) is symmetric positive semi-definite.

    Up to rounding: asymmetry within ``4 d eps`` of the largest entry, and
    eigenvalues above minus that (a Cholesky factor of the matrix plus it).
    """
    eps = np.finfo(float).eps
    for k, matrix in enumerate(matrices[:1] if matrices.strides[0] == 0 else matrices):
        d = len(matrix)
        tolerance = 4 * d * eps * float(np.max(np.abs(matrix), initial=0.0))
        if np.max(np.abs(matrix - matrix.T), initial=0.0) > tolerance:
            _refuse(f"{field}[{k}]", "not symmetric")
        try:
            np.linalg.cholesky(matrix + (tolerance + np.finfo(float).tiny) * np.eye(d))
        except np.linalg.LinAlgError:
            _refuse(f"{field}[{k}]", "not positive semi-definite")


def _gaussians(g, field, ctx):
    if not isinstance(g.weights, np.ndarray) or g.weights.ndim != 1:
        _refuse(f"{field}.weights", "not a 1-D array")
    K, d = len(g.weights), ctx.d
    _floats(g.weights, (K,), f"{field}.weights", non_negative=True)
    if not np.isfinite(g.weights).all() or not g.weights.sum() > 0:
        _refuse(f"{field}.weights", "not finite non-negative weights of positive sum")
    _floats(g.origins, (K, d), f"{field}.origins")
    _floats(g.means, (K, d), f"{field}.means")
    _floats(g.covariances, ctx.structure.empty(K, d).covariances.shape, f"{field}.covariances")
    if not np.isfinite(g.covariances).all():
        _refuse(f"{field}.covariances", "not finite")
    _spd(np.asarray(ctx.structure.to_full(g)), f"{field}.covariances")


def _warmup(w, field, ctx):
    _floats(w.location, (ctx.d,), f"{field}.location")
    _floats(w.covariance, (ctx.d, ctx.d), f"{field}.covariance")
    if not np.isfinite(w.covariance).all():
        _refuse(f"{field}.covariance", "not finite")
    _spd(w.covariance[None], f"{field}.covariance")
    _count(None, w.weight, f"{field}.weight", ctx)
    _count(None, w.unit, f"{field}.unit", ctx)
    if not w.unit > 0:
        _refuse(f"{field}.unit", f"{w.unit!r} is not a positive weight")


def _fourth(f, field, ctx, K=None):
    if K is None:
        _floats(f.m3, (ctx.d,), f"{field}.m3")
        _count(None, f.m4, f"{field}.m4", ctx)
    else:
        _floats(f.m3, (K, ctx.d), f"{field}.m3")
        _floats(f.m4, (K,), f"{field}.m4", non_negative=True)
    if (f.cross3 is None) != (f.cross4 is None):
        _refuse(f"{field}.cross3", "cross3 and cross4 come together")
    if f.cross3 is None:  # files saved before the diagonal target's sums have neither
        return
    if K is None:
        _floats(f.cross3, (ctx.d,), f"{field}.cross3")
        _count(None, f.cross4, f"{field}.cross4", ctx)
    else:
        _floats(f.cross3, (K, ctx.d), f"{field}.cross3")
        _floats(f.cross4, (K,), f"{field}.cross4", non_negative=True)


def _tracked(t, field, ctx):
    if not isinstance(t.gaussians, Gaussians) or not isinstance(t.fourth, FourthMoments):
        _refuse(field, "not Gaussians with their fourth moments")
    _fourth(t.fourth, f"{field}.fourth", ctx)


def _euclidean(e, field, ctx):
    if not isinstance(e.params, tuple) or not e.params:
        _refuse(f"{field}.params", "not a tuple of arrays")
    for i, p in enumerate(e.params):
        _floats(p, np.shape(p), f"{field}.params[{i}]")
    shapes = [p.shape for p in e.params]
    if isinstance(e.optimizer, AdamState):
        for name in ("m", "v"):
            moments = getattr(e.optimizer, name)
            if not isinstance(moments, tuple) or [np.shape(m) for m in moments] != shapes:
                _refuse(f"{field}.optimizer.{name}", "not of the parameters' shapes")
    elif e.optimizer != ():
        _refuse(f"{field}.optimizer", "not an optimizer's state")
    if hasattr(e, "pilot") and not isinstance(e.pilot, WarmupState):
        _refuse(f"{field}.pilot", "not the pilot's moments")


def _adam(a, field, ctx):
    _whole(None, a.count, f"{field}.count", ctx)
    for i, (m, v) in enumerate(zip(a.m, a.v, strict=False)):
        _floats(m, np.shape(m), f"{field}.m[{i}]")
        _floats(v, np.shape(v), f"{field}.v[{i}]", non_negative=True)


def _averaged(a, field, ctx):
    _count(None, a.weight, f"{field}.weight", ctx)


def _classes_state(c, field, ctx):
    if not isinstance(c.gaussians, Gaussians):
        _refuse(f"{field}.gaussians", "not the classes' Gaussians")
    K = len(c.gaussians.weights)
    classes = c.classes
    if not isinstance(classes, np.ndarray) or classes.shape != (K,) or classes.dtype.kind == "c":
        _refuse(f"{field}.classes", f"not {K} labels")
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        _refuse(f"{field}.classes", "not finite")
    if len(np.unique(classes)) != K or not np.array_equal(np.unique(classes), classes):
        _refuse(f"{field}.classes", "not distinct labels in sorted order")
    _floats(c.counts, (K,), f"{field}.counts", non_negative=True)
    if c.fourth is not None:
        if not isinstance(c.fourth, FourthMoments):
            _refuse(f"{field}.fourth", "not the classes' fourth moments")
        _fourth(c.fourth, f"{field}.fourth", ctx, K)


def _mixture_state(m, field, ctx):
    if not isinstance(m.gaussians, Gaussians):
        _refuse(f"{field}.gaussians", "not the components' Gaussians")
    n = 0
    if m.kept is not None:
        n = len(m.kept) if isinstance(m.kept, np.ndarray) else -1
        _floats(m.kept, (n, ctx.d), f"{field}.kept")
    if m.kept_weights is not None:
        _floats(m.kept_weights, (n,), f"{field}.kept_weights", non_negative=True)
    _whole(None, m.fitted, f"{field}.fitted", ctx)
    if m.fitted > n:
        _refuse(f"{field}.fitted", f"{m.fitted} rows fitted of {n} kept")


def _histogram(h, field, ctx):
    _floats(h.mass, type(h).empty().mass.shape, f"{field}.mass", non_negative=True)
    _count(None, h.squares, f"{field}.squares", ctx)


#: Each state tuple's own check, by type name.
_TUPLES = {
    "Gaussians": _gaussians,
    "WarmupState": _warmup,
    "TrackedState": _tracked,
    "EuclideanState": _euclidean,
    "PreconditionedState": _euclidean,
    "AdamState": _adam,
    "Averaged": _averaged,
    "ClassState": _classes_state,
    "MixtureState": _mixture_state,
    "DistanceHistogram": _histogram,
}


def write_atomically(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    The old file stays whole until the new one is complete and on disk. The
    temporary file's name is chosen before it exists and it is created
    inside the ``try``, so that an error or interruption at any point once
    it exists (a Ctrl-C included) removes it.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give a file name to write to.")
    if not path.parent.is_dir():
        raise ValueError(f"{path.parent} is not a directory; create it first.")
    # 128 random bits: no other writer's file has this name.
    temporary = path.parent / f".{path.name}.{secrets.token_hex(16)}.tmp"
    try:
        with open(temporary, "xb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
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


def _decode(tree, arrays, field):
    """The value of a JSON tree, or refused (``field`` names it) if not one _encode writes."""
    if tree is None or isinstance(tree, bool | int | float | str):
        return tree
    if not isinstance(tree, dict) or len(tree) == 0:
        _refuse(field, "not a value a model file holds")
    if "array" in tree:
        array = arrays.get(tree["array"]) if isinstance(tree["array"], str) else None
        if array is None:
            _refuse(field, "its array is missing from the file")
        if tree.get("scalar"):
            if array.ndim != 0:
                _refuse(field, f"an array of shape {array.shape}, not a number")
            return array[()]
        if tree.get("object"):
            if array.dtype.kind != "U":
                _refuse(field, "not an array of labels")
            return array.astype(object)
        if array.dtype.kind not in "biuf" + ("U" if field.endswith(".classes") else ""):
            _refuse(field, f"an array of {array.dtype}, not of numbers")
        return array
    for kind, build in (("tuple", tuple), ("list", list)):
        if kind in tree:
            if not isinstance(tree[kind], list):
                _refuse(field, f"not a {kind}")
            return build(_decode(v, arrays, f"{field}[{i}]") for i, v in enumerate(tree[kind]))
    if "estimator" in tree:
        return _import(tree["estimator"], arrays, f"{field}.")
    cls = _types().get(tree.get("type"))
    if cls is None:
        _refuse(field, f"a model file may not hold a {tree.get('type')!r}")
    fields = tree.get("fields")
    if not isinstance(fields, dict):
        _refuse(field, f"a {cls.__name__} without its fields")
    added = _ADDED.get(cls.__name__, {})
    for name in (fields.keys() ^ set(cls._fields)) - added.keys():
        why = "missing" if name in cls._fields else f"not a field of {cls.__name__}"
        _refuse(f"{field}.{name}", why)
    decoded = {name: _decode(v, arrays, f"{field}.{name}") for name, v in fields.items()}
    return cls(**{**added, **decoded})
