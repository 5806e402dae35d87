"""Model files: what load_model refuses, and the atomic save under an interrupt."""

import copy
import json
import pickle
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_onlinegauss import (
    OnlineEllipticEnvelope,
    OnlineGaussian,
    OnlineGaussianClassifier,
    OnlineGaussianMixture,
    _persist,
    load_model,
    save_model,
)

_RNG = np.random.default_rng(0)
X = _RNG.normal(size=(300, 3))
Y = _RNG.integers(0, 3, 300)

#: One fitted estimator per kind of learned state a file may hold.
MODELS = {
    "gaussian": lambda: OnlineGaussian().fit(X),
    "gaussian-ledoit-wolf": lambda: OnlineGaussian(shrinkage="ledoit-wolf").fit(X),
    "gaussian-adam": lambda: OnlineGaussian(solver="adam", max_iter=3, tol=None).fit(X),
    "gaussian-warming": lambda: OnlineGaussian(solver="sgd").partial_fit(X[:10]),
    "gaussian-whitened": lambda: OnlineGaussian(solver="adam", preconditioner="whiten").fit(X),
    "gaussian-averaged": lambda: OnlineGaussian(learning_rate="constant", average=True).fit(X),
    "classifier": lambda: OnlineGaussianClassifier(shrinkage="ledoit-wolf").fit(X, Y),
    "mixture": lambda: OnlineGaussianMixture(2, covariance_type="tied", random_state=0).fit(X),
    "detector": lambda: OnlineEllipticEnvelope().fit(X),
}
_SAVED = {}


def saved(kind, folder):
    """A model file of ``kind`` in ``folder``: ``(path, its JSON, its arrays)``."""
    if kind not in _SAVED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # adam's shrunk steps, EM's notes
            est = MODELS[kind]()
        save_model(est, folder / "fresh.npz")
        _SAVED[kind] = (folder / "fresh.npz").read_bytes()
    path = folder / f"{kind}.npz"
    path.write_bytes(_SAVED[kind])
    with np.load(path) as archive:
        arrays = dict(archive)
    return path, json.loads(str(arrays.pop("meta.json"))), arrays


def write(path, meta, arrays, checksum="none"):
    """Write ``meta`` and ``arrays`` as a model file: without a checksum (a file written
    by hand), ``'resigned'`` (its checksum recomputed), or ``'kept'`` (the old one)."""
    meta = dict(meta)
    if checksum == "none":
        meta.pop("sha256", None)
    elif checksum == "resigned":
        meta["sha256"] = _persist._digest(meta, arrays)
    np.savez(path, **arrays, **{"meta.json": np.array(json.dumps(meta))})


def _locate(meta, field):
    """``(container, key)`` of the JSON node of ``field`` (dotted, as load_model names it)."""
    parts = field.split(".")
    node = meta if parts[0] in ("params", "n_features_in_", "feature_names_in_") else None
    container, key = (meta, parts[0]) if node is meta else (meta["fitted"], parts[0])
    for part in parts[1:]:
        node = container[key]
        if list(node) == ["estimator"]:  # a nested estimator
            node = node["estimator"]
            container, key = (node, part) if part == "params" else (node["fitted"], part)
        elif "fields" in node:
            container, key = node["fields"], part
        else:
            container, key = node, part
    return container, key


def _scaled(node, arrays, factor):
    """The JSON node with every number in it times ``factor`` (arrays in place)."""
    if isinstance(node, dict) and "array" in node:
        arrays[node["array"]] = arrays[node["array"]] * factor
        return node
    if isinstance(node, dict):
        return {k: _scaled(v, arrays, factor) for k, v in node.items()}
    if isinstance(node, list):
        return [_scaled(v, arrays, factor) for v in node]
    return node * factor if isinstance(node, float | int) and not isinstance(node, bool) else node


def times(factor):
    def tamper(meta, arrays, container, key):
        container[key] = _scaled(container[key], arrays, factor)

    return tamper


def edit(function):
    def tamper(meta, arrays, container, key):
        array = container[key]["array"]
        arrays[array] = function(arrays[array])

    return tamper


def replace(value):
    def tamper(meta, arrays, container, key):
        container[key] = value

    return tamper


def delete(meta, arrays, container, key):
    del container[key]


def drop_array(meta, arrays, container, key):
    del arrays[container[key]["array"]]


def retype(name, **fields):
    """The node as another type, its fields renamed (``new=old``)."""

    def tamper(meta, arrays, container, key):
        old = container[key]["fields"]
        container[key] = {"type": name, "fields": {n: old[o] for n, o in fields.items()}}

    return tamper


def lift(field):
    """The node replaced by one of its own fields (a state one level down)."""

    def tamper(meta, arrays, container, key):
        container[key] = container[key]["fields"][field]

    return tamper


def _asymmetric(a):
    a = a.copy()
    a[..., 0, 1] += 0.5
    return a


_COV = "_state.covariances"
#: ``(kind, field tampered, how, the field refused, words of the refusal)``.
TAMPERED = [
    ("gaussian", _COV, times(np.nan), _COV, "not finite"),
    ("gaussian", _COV, times(-1.0), f"{_COV}[0]", "not positive semi-definite"),
    ("gaussian", _COV, edit(_asymmetric), f"{_COV}[0]", "not symmetric"),
    ("gaussian", _COV, edit(lambda a: a.astype(np.float32)), _COV, "not an array of float64"),
    ("gaussian", _COV, edit(lambda a: a[:, :2, :2]), _COV, "shape (1, 2, 2), expected (1, 3, 3)"),
    ("gaussian", _COV, edit(lambda a: a.astype(str)), _COV, "not of numbers"),
    ("gaussian", _COV, delete, _COV, "missing"),
    ("gaussian", _COV, drop_array, _COV, "missing from the file"),
    ("gaussian", "_state.weights", times(np.nan), "_state.weights", "not finite"),
    ("gaussian", "_state.weights", times(-1.0), "_state.weights", "negative"),
    ("gaussian", "_state.weights", times(0.0), "_state.weights", "positive sum"),
    ("gaussian", "_state.means", times(np.inf), "_state.means", "not finite"),
    ("gaussian", "_state.extra", replace(1.0), "_state.extra", "not a field of Gaussians"),
    ("gaussian", "_state", delete, "_state", "missing"),
    ("gaussian", "_state", replace({"type": "Popen", "fields": {}}), "_state", "'Popen'"),
    (
        "gaussian",
        "_state",
        retype("WarmupState", location="origins", covariance="covariances", weight="weights"),
        "_state.location",
        "shape (1, 3), expected (3,)",
    ),
    ("gaussian", "score_samples", replace(1), "score_samples", "not a learned attribute"),
    ("gaussian", "__class__", replace(1), "__class__", "not a learned attribute"),
    ("gaussian", "params.score_samples", replace(1), "params.score_samples", "not a parameter"),
    # A parameter missing is its default (a file of an earlier version): one
    # that does not describe the state is refused as a changed one is.
    (
        "mixture",
        "params.covariance_type",
        delete,
        "_structure_",
        "covariance_type='tied' -> 'full'",
    ),
    ("gaussian", "params.reg_covar", replace(-1.0), "params", "'reg_covar' parameter"),
    ("gaussian", "params.solver", replace("newton"), "params", "'solver' parameter"),
    ("gaussian", "params.covariance_type", replace("diag"), "_structure_", "disagree"),
    ("gaussian", "n_samples_seen_", replace(-3), "n_samples_seen_", "non-negative"),
    ("gaussian", "n_samples_seen_", replace(2.5), "n_samples_seen_", "not an integer"),
    ("gaussian", "t_", replace("300"), "t_", "not a number"),
    ("gaussian", "t_", replace(float("nan")), "t_", "not finite"),
    ("gaussian", "n_features_in_", replace(4), "_state.origins", "expected (1, 4)"),
    ("gaussian", "n_features_in_", replace("3"), "n_features_in_", "not a number of features"),
    ("gaussian", "feature_names_in_", replace(["a"]), "feature_names_in_", "not 3 names"),
    ("gaussian", "loss_curve_", replace({"list": [[1]]}), "loss_curve_[0]", "not a value"),
    (
        "gaussian-ledoit-wolf",
        "_state.gaussians.covariances",
        times(-1.0),
        "_state.gaussians.covariances[0]",
        "not positive semi-definite",
    ),
    ("gaussian-ledoit-wolf", "_state", lift("gaussians"), "_state", "not the state of these"),
    ("gaussian-ledoit-wolf", "_state.fourth.m4", times(-1.0), "_state.fourth.m4", "non-negative"),
    ("gaussian-adam", "_state.optimizer.v", times(-1.0), "_state.optimizer.v[0]", "negative"),
    ("gaussian-warming", "_state.unit", replace(0.0), "_state.unit", "not a positive weight"),
    ("gaussian-warming", "_state.unit", replace("1"), "_state.unit", "not a number"),
    ("gaussian-whitened", "_state.pilot.unit", replace(np.inf), "_state.pilot.unit", "inf is not"),
    ("gaussian-adam", "_state.params", times(np.nan), "_state.params[0]", "not finite"),
    (
        "gaussian-adam",
        "_state.optimizer.m",
        replace({"tuple": []}),
        "_state.optimizer.m",
        "not of the parameters' shapes",
    ),
    ("gaussian-averaged", "_average.weight", times(-1.0), "_average.weight", "non-negative"),
    (
        "gaussian-averaged",
        "_average.state.covariances",
        times(-1.0),
        "_average.state.covariances[0]",
        "not positive semi-definite",
    ),
    ("classifier", "_state.counts", times(-1.0), "_state.counts", "negative"),
    ("classifier", "_state.classes", edit(lambda a: a[::-1]), "_state.classes", "sorted"),
    ("classifier", "_state.fourth.m4", times(-1.0), "_state.fourth.m4", "negative"),
    (
        "classifier",
        "_state.gaussians.covariances",
        edit(_asymmetric),
        "_state.gaussians.covariances[0]",
        "not symmetric",
    ),
    ("classifier", "_state", lift("gaussians"), "_state", "a Gaussians is not a learned state"),
    ("mixture", "_state.gaussians.weights", times(np.nan), "_state.gaussians.weights", "finite"),
    (
        "mixture",
        "_state.gaussians.covariances",
        times(-1.0),
        "_state.gaussians.covariances[0]",
        "not positive semi-definite",
    ),
    ("mixture", "params.n_components", replace(3), "_structure_", "n_components=2 -> 3"),
    ("mixture", "converged_", replace("yes"), "converged_", "not True or False"),
    ("mixture", "_state.kept", replace({"array": "nowhere"}), "_state.kept", "missing"),
    (
        "detector",
        f"estimator_.{_COV}",
        times(-1.0),
        f"estimator_.{_COV}[0]",
        "not positive semi-definite",
    ),
    ("detector", "estimator_.t_", times(-1.0), "estimator_.t_", "non-negative"),
    ("detector", "_histogram.mass", times(-1.0), "_histogram.mass", "negative"),
    ("detector", "_histogram_weight", times(np.nan), "_histogram_weight", "not finite"),
    ("detector", "params.contamination", replace(0.9), "params", "'contamination' parameter"),
]

IDS = [f"{kind}-{field}-{i}" for i, (kind, field, *_) in enumerate(TAMPERED)]


def tampered(tmp_path, case, checksum="none"):
    """A model file tampered as ``TAMPERED[case]`` says: ``(path, field, words)``."""
    kind, field, how, refused, words = TAMPERED[case]
    path, meta, arrays = saved(kind, tmp_path)
    how(meta, arrays, *_locate(meta, field))
    write(path, meta, arrays, checksum)
    return path, refused, words


@pytest.mark.parametrize("checksum", ["none", "resigned"])
@pytest.mark.parametrize("case", range(len(TAMPERED)), ids=IDS)
def test_a_tampered_file_is_refused_naming_the_file_and_the_field(tmp_path, case, checksum):
    path, field, words = tampered(tmp_path, case, checksum)
    with pytest.raises(ValueError) as info:
        load_model(path)
    assert type(info.value) is ValueError
    message = str(info.value)
    assert message.startswith(f"{path}: {field}: "), message
    assert words in message, message


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_an_edited_array_is_refused_by_its_checksum(tmp_path, kind):
    path, meta, arrays = saved(kind, tmp_path)
    key = sorted(arrays)[0]
    arrays[key] = np.nextafter(arrays[key], np.inf)  # one unit in the last place
    write(path, meta, arrays, checksum="kept")
    with pytest.raises(ValueError, match=r"was changed after saving"):
        load_model(path)
    _, meta, arrays = saved(kind, tmp_path)
    meta["feature_names_in_"] = ["a", "b", "c"]  # the JSON is covered too
    write(path, meta, arrays, checksum="kept")
    with pytest.raises(ValueError, match=r"was changed after saving"):
        load_model(path)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_a_valid_file_without_checksum_loads(tmp_path, kind):
    """A file written by other means than save_model: the checks alone decide."""
    path, meta, arrays = saved(kind, tmp_path)
    write(path, meta, arrays, checksum="none")
    (tmp_path / "saved.npz").write_bytes(_SAVED[kind])
    loaded, reference = load_model(path), load_model(tmp_path / "saved.npz")
    read = "predict_proba" if kind == "classifier" else "score_samples"
    np.testing.assert_array_equal(getattr(loaded, read)(X), getattr(reference, read)(X))


@pytest.mark.parametrize(
    ("kind", "field"),
    [("gaussian-warming", "_state.unit"), ("gaussian-whitened", "_state.pilot.unit")],
)
def test_a_file_from_before_the_warm_up_counted_rows_loads_and_goes_on(tmp_path, kind, field):
    # Issue 29 gave the warm-up's state the smallest weight seen; a version-2 file
    # written before lacks it, and reads as the version that wrote it did: weights
    # counted as rows, a unit of 1 (with unit weights, the same as a file of now).
    path, meta, arrays = saved(kind, tmp_path)
    delete(meta, arrays, *_locate(meta, field))
    write(path, meta, arrays, checksum="resigned")
    (tmp_path / "saved.npz").write_bytes(_SAVED[kind])
    old, new = load_model(path), load_model(tmp_path / "saved.npz")
    state = old._state if kind == "gaussian-warming" else old._state.pilot
    assert state.unit == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shrunk steps
        for est in (old, new):
            est.partial_fit(X[10:40])  # past the warm-up's 20 rows
    assert type(old._state) is type(new._state)
    np.testing.assert_array_equal(old.score_samples(X), new.score_samples(X))


#: Parameters added after the first files of format version 2, by the kind
#: that has them: a file of then lacks them (the detector's through its density).
_ADDED_SINCE = {
    "gaussian": {"params.shrinkage_target"},
    "classifier": {"params.n_components", "params.shrinkage_target"},
    "detector": {"estimator_.params.shrinkage_target"},
}


def _defaulted_fields(kind, meta):
    """The parameter fields of the file whose value is the constructor's default."""
    fields = []
    for prefix, node in (("", meta), ("estimator_.", meta.get("fitted", {}).get("estimator_"))):
        if node is None:
            continue
        node = node.get("estimator", node)
        defaults = _persist._classes()[node["class"]]().get_params(deep=False)
        fields += [
            f"{prefix}params.{name}"
            for name, value in node["params"].items()
            if not isinstance(value, dict) and value == defaults[name]
        ]
    return fields


def _continued(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EM's notes
        if isinstance(est, OnlineGaussianClassifier):
            return est.partial_fit(X[:40], Y[:40])
        return est.partial_fit(X[:40])


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_a_file_without_a_parameter_added_since_loads_it_as_its_default(tmp_path, kind):
    # A file of an earlier version lacks the parameters added since; their
    # defaults do what that version did, so it loads and reads as it did.
    read = "predict_proba" if kind == "classifier" else "score_samples"
    path, meta, _ = saved(kind, tmp_path)
    fields = _defaulted_fields(kind, meta)
    assert _ADDED_SINCE.get(kind.split("-")[0], set()) <= set(fields)
    (tmp_path / "saved.npz").write_bytes(_SAVED[kind])
    reference = load_model(tmp_path / "saved.npz")
    expected = getattr(reference, read)(X)
    continued = getattr(_continued(load_model(tmp_path / "saved.npz")), read)(X)
    for field in fields:
        path, meta, arrays = saved(kind, tmp_path)
        delete(meta, arrays, *_locate(meta, field))
        write(path, meta, arrays, checksum="resigned")
        loaded = load_model(path)
        est, name = loaded, field.rsplit(".", 1)[-1]
        if field.startswith("estimator_."):
            est, ref = loaded.estimator_, reference.estimator_
        else:
            ref = reference
        default = type(est)().get_params(deep=False)[name]
        assert getattr(est, name) == default, field
        assert est.get_params(deep=False).keys() == ref.get_params(deep=False).keys()
        np.testing.assert_array_equal(getattr(loaded, read)(X), expected, err_msg=field)
        np.testing.assert_array_equal(
            getattr(_continued(loaded), read)(X), continued, err_msg=field
        )


def _pickled_without(est, name, nested=False):
    """A pickle of ``est`` made without the attribute ``name`` (of its density if
    ``nested``), as one of an earlier version that did not have it."""
    est = copy.copy(est)
    owner = est
    if nested:
        owner = est.estimator_ = copy.copy(est.estimator_)
    del owner.__dict__[name]
    return pickle.dumps(est)


@pytest.mark.parametrize(
    ("kind", "name", "nested"),
    [
        ("gaussian", "shrinkage_target", False),
        ("classifier", "shrinkage_target", False),
        ("classifier", "n_components", False),
        ("detector", "shrinkage_target", True),
        ("mixture", "warm_start", False),  # any parameter: the rule is the same
    ],
)
def test_a_pickle_without_a_parameter_added_since_has_it_as_its_default(kind, name, nested):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EM's notes
        original = MODELS[kind]()
    loaded = pickle.loads(_pickled_without(original, name, nested))
    est, ref = (loaded.estimator_, original.estimator_) if nested else (loaded, original)
    assert getattr(est, name) == type(est)().get_params(deep=False)[name]
    assert est.get_params(deep=False) == ref.get_params(deep=False)
    clone(loaded)  # get_params of every parameter
    read = "predict_proba" if kind == "classifier" else "score_samples"
    np.testing.assert_array_equal(getattr(loaded, read)(X), getattr(original, read)(X))
    np.testing.assert_array_equal(
        getattr(_continued(loaded), read)(X), getattr(_continued(copy.deepcopy(original)), read)(X)
    )


@pytest.mark.parametrize(
    ("kind", "field", "value", "words"),
    [
        ("gaussian", "params.shrinkage_target", 3, "'shrinkage_target' parameter"),
        ("classifier", "params.n_components", "two", "'n_components' parameter"),
        ("classifier", "params.n_components", 2.5, "'n_components' parameter"),
    ],
)
def test_a_parameter_of_the_wrong_type_is_still_refused(tmp_path, kind, field, value, words):
    path, meta, arrays = saved(kind, tmp_path)
    replace(value)(meta, arrays, *_locate(meta, field))
    write(path, meta, arrays, checksum="resigned")
    with pytest.raises(ValueError, match=rf"{path}: params: .*{words}"):
        load_model(path)


class _InterruptAt:
    """A tracer raising KeyboardInterrupt before the ``n``-th bytecode instruction of
    ``code`` run while a temporary file exists in ``folder``, as a Ctrl-C would."""

    def __init__(self, n, code, folder):
        self.n, self.code, self.folder, self.count, self.fired = n, code, folder, 0, False

    def __call__(self, frame, event, arg):
        if frame.f_code is not self.code:
            return None
        frame.f_trace_opcodes = True
        return self._local

    def _local(self, frame, event, arg):
        if event == "opcode" and list(self.folder.glob(".m.npz.*")):
            if self.count == self.n:
                self.fired = True
                raise KeyboardInterrupt
            self.count += 1
        return self._local


def test_an_interrupt_anywhere_in_a_save_leaves_the_old_file_or_the_new_one(tmp_path):
    path = tmp_path / "m.npz"
    save_model(OnlineGaussian().fit(X), path)
    old = path.read_bytes()
    new = OnlineGaussian().fit(X + 1)
    outcomes = []
    for n in range(1000):
        tracer = _InterruptAt(n, _persist.write_atomically.__code__, tmp_path)
        sys.settrace(tracer)
        try:
            save_model(new, path)
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(None)
        assert not list(tmp_path.glob(".m.npz.*")), n  # no temporary file left behind
        location = load_model(path).location_  # always a whole model
        outcomes.append("old" if path.read_bytes() == old else "new")
        assert outcomes[-1] == "old" or np.allclose(location, new.location_)
        if not tracer.fired:  # past the end of the save: it completed
            break
        path.write_bytes(old)
    assert outcomes[-1] == "new" and outcomes.count("old") > 3, outcomes


def _far_row_mixture():
    """A mixture whose last pass had a row beyond float64: its lower bound is -inf."""
    rows = np.random.default_rng(0).normal(size=(40, 3)) * 1e-5
    est = OnlineGaussianMixture(2, init_size=20, random_state=0).fit(rows)
    rows[0] = [1e149, -1e149, 1e149]  # accepted (the limit is about 1e150), scored -inf
    return est.partial_fit(rows), rows


def test_a_mixture_whose_lower_bound_is_minus_inf_round_trips(tmp_path):
    # State machine F6: the -inf the mixture documents for such a pass made
    # load_model refuse the mixture's own file ("lower_bounds_[0]: not finite").
    est, rows = _far_row_mixture()
    assert est.lower_bounds_ == [-np.inf]
    save_model(est, tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.lower_bounds_ == [-np.inf]
    for model in (est, loaded):
        model.partial_fit(rows[1:])
    np.testing.assert_array_equal(loaded.score_samples(X), est.score_samples(X))
    assert loaded.lower_bounds_ == est.lower_bounds_


@pytest.mark.parametrize(
    "kind, field, value",
    [
        ("far mixture", "lower_bounds_", np.nan),
        ("far mixture", "lower_bounds_", np.inf),
        ("gaussian", "loss_curve_", np.nan),
        ("gaussian", "loss_curve_", -np.inf),  # a loss is a negative log-likelihood
    ],
)
def test_a_curve_holds_only_its_own_infinity(tmp_path, kind, field, value):
    if kind == "far mixture":
        save_model(_far_row_mixture()[0], tmp_path / "fresh.npz")
        path = tmp_path / "fresh.npz"
        with np.load(path) as archive:
            arrays = dict(archive)
        meta = json.loads(str(arrays.pop("meta.json")))
    else:
        path, meta, arrays = saved(kind, tmp_path)
    container, key = _locate(meta, field)
    entries = container[key]["list"]
    if isinstance(entries[0], dict):  # a numpy scalar, as an array
        arrays[entries[0]["array"]] = np.array(value)
    else:
        entries[0] = value
    write(path, meta, arrays)
    with pytest.raises(ValueError, match=rf"{field}\[0\]: .*{value} is neither finite nor"):
        load_model(path)
