"""Model files for the command line: reading one (a pickle only if trusted), where to write."""

import importlib
import os
import pickletools
from pathlib import Path

from .._persist import load_model
from .kinds import kind_of
from .readers import DataError, UsageError

#: Names that models pickled by a past version refer to and this version has not,
#: by version: a pickle that needs one of them was saved by that version.
_REMOVED = {
    "0.1": {
        ("sklearn_onlinegauss._solvers", "NaturalState"),
        ("sklearn_onlinegauss._averaging", "Average"),
        ("sklearn_onlinegauss._covariance", "_project_full"),
        ("sklearn_onlinegauss._covariance", "_project_diag"),
        ("sklearn_onlinegauss._covariance", "_project_spherical"),
    },
}


def load(path, allow_pickle):
    """The fitted estimator of the family in ``path``, or a DataError that says why not."""
    try:
        est = _load(path, allow_pickle)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except DataError:
        raise
    except ValueError as exc:  # not a model file, or of another version: it says so
        message = str(exc)
        raise DataError(message if str(path) in message else f"{path}: {message}") from None
    except (AttributeError, ImportError) as exc:  # a name the pickle needs is not here
        if "sklearn_onlinegauss" in str(exc):
            raise DataError(_other_version(path, None)) from None
        raise DataError(f"{path}: not a saved model ({type(exc).__name__})") from None
    except Exception as exc:  # a corrupt or foreign pickle: say so in one line
        raise DataError(f"{path}: not a saved model ({type(exc).__name__})") from None
    if kind_of(est) is None:
        name = type(est).__name__
        article = "an" if name[0] in "AEIOU" else "a"
        raise DataError(f"{path}: holds {article} {name}, not a model of sklearn-onlinegauss")
    if not est.__sklearn_is_fitted__():
        raise DataError(f"{path}: the {type(est).__name__} in it is not fitted")
    return est


def _load(path, allow_pickle):
    """A model file; a pickle only when allowed, since loading one runs its code."""
    with open(path, "rb") as file:
        head = file.read(4)
    if head.startswith(b"PK") or not allow_pickle:  # .npz files are zip archives
        return load_model(path)
    missing = _missing_names(Path(path).read_bytes())
    if missing:  # refused before running any of it
        raise DataError(_other_version(path, missing))
    import joblib

    return joblib.load(path)


def _other_version(path, missing):
    """The message for a pickle of another version (which, if its names tell)."""
    versions = [v for v, names in _REMOVED.items() if missing and names & set(missing)]
    who = (
        f"sklearn-onlinegauss {versions[0]} (another version)"
        if versions
        else "another version of sklearn-onlinegauss"
    )
    return (
        f"{path}: saved by {who}, whose models this version cannot read: refit it with "
        "this version (onlinegauss fit DATA --output MODEL.npz)"
    )


def _missing_names(data):
    """The ``(module, name)`` of the package that the pickle ``data`` needs and this lacks.

    Read from the pickle's opcodes, without running it; empty for data that
    is not a plain pickle (a compressed joblib file: its load then says).
    """
    try:
        needed = _globals(data)
    except Exception:  # not a pickle pickletools can walk
        return []
    return [
        (m, n) for m, n in needed if m.split(".")[0] == "sklearn_onlinegauss" and not _has(m, n)
    ]


def _has(module, name):
    try:
        found = importlib.import_module(module)
    except ImportError:
        return False
    return name.split(".")[0] in vars(found)  # not through a module __getattr__


def _globals(data):
    """The ``(module, name)`` pairs a pickle's GLOBAL, INST and STACK_GLOBAL opcodes look up."""
    pushed, memo, found = [], {}, []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("GLOBAL", "INST"):
            found.append(tuple(arg.split(" ", 1)))
        elif op.name == "STACK_GLOBAL":
            if len(pushed) >= 2 and all(isinstance(v, str) for v in pushed[-2:]):
                found.append((pushed[-2], pushed[-1]))
        if op.name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = pushed[-1] if pushed else None
        elif op.name in ("GET", "BINGET", "LONG_BINGET"):
            pushed.append(memo.get(arg))
        elif "UNICODE" in op.name or op.name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
            pushed.append(arg)
        elif op.stack_after:
            pushed.append(None)
    return found


def check_output(output, path):
    """Refuse, before any fitting, an output that cannot be written or is the input."""
    target = Path(output)
    if target.is_dir():
        raise UsageError(f"--output {output} is a directory; give a file name")
    if not target.parent.is_dir():
        raise UsageError(f"--output {output}: the directory {target.parent} does not exist")
    if path != "-" and target.exists() and os.path.samefile(target, path):
        raise UsageError(f"--output {output} is the input file; choose another name")
