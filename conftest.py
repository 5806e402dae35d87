"""Doctests of optional parts run only when their extra is installed."""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("distributed") is None:
    collect_ignore.append("sklearn_onlinegauss/dask.py")
if importlib.util.find_spec("river") is None:
    collect_ignore.append("sklearn_onlinegauss/river.py")
