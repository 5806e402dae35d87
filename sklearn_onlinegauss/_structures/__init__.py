"""The covariance structures: one file each, the only code that knows a covariance's shape.

A new structure is one module here implementing :class:`~._base.Structure`,
registered in :data:`STRUCTURES`.
"""

from .diag import Diag, Spherical
from .full import Full
from .tied import Tied

__all__ = ["PER_COMPONENT", "SHARED", "STRUCTURES"]

#: Public name of each covariance structure -> its operations.
STRUCTURES = {s.name: s for s in (Full(), Diag(), Spherical(), Tied())}
#: One full covariance shared by the components (a classifier's ``covariance='shared'``).
SHARED = STRUCTURES["tied"]
#: The structures with a covariance of each component's own.
PER_COMPONENT = {name for name, s in STRUCTURES.items() if s is not SHARED}
