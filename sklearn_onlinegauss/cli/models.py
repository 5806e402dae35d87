"""Model files for the command line: reading one (a pickle only if trusted), where to write."""

import os
from pathlib import Path

from .._persist import load_model
from .readers import UsageError


def load(path, allow_pickle):
    """A model file; a pickle only when allowed, since loading one runs its code."""
    with open(path, "rb") as file:
        head = file.read(4)
    if head.startswith(b"PK") or not allow_pickle:  # .npz files are zip archives
        return load_model(path)
    import joblib

    return joblib.load(path)


def check_output(output, path):
    """Refuse, before any fitting, an output that cannot be written or is the input."""
    target = Path(output)
    if target.is_dir():
        raise UsageError(f"--output {output} is a directory; give a file name")
    if not target.parent.is_dir():
        raise UsageError(f"--output {output}: the directory {target.parent} does not exist")
    if path != "-" and target.exists() and os.path.samefile(target, path):
        raise UsageError(f"--output {output} is the input file; choose another name")
