"""Names that pickles of sklearn-onlinegauss 0.1 refer to and this version no longer has.

Unpickling looks each name up before the estimator sees its state; these
stand-ins let it get that far, so that ``OnlineGaussian.__setstate__`` can
refuse the model with a message instead of an ``AttributeError``.
"""

__all__ = ["legacy_names"]


class Removed:
    """Stands in for an object of version 0.1 while its estimator's pickle is refused."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __setstate__(self, state):
        pass


def legacy_names(module, names):
    """A module ``__getattr__`` that resolves the removed ``names`` to :class:`Removed`."""

    def __getattr__(name):
        if name in names:
            return Removed
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
