"""The ``onlinegauss`` command: fit the family's estimators to files too big for memory."""

from .main import main

__all__ = ["main"]
