"""What a density's settings mean: its parameter table and its data-driven shrinkage.

:class:`~._estimator.OnlineGaussian` and the detector's ``estimator`` share
these (the detector re-declares no parameter of its density).
"""

import warnings
from numbers import Integral, Real

from ._averaging import averaging_start
from ._compat import Hidden, Interval, InvalidParameterError, StrOptions
from ._parametrizations import PARAMETRIZATIONS
from ._schedules import SCHEDULES
from ._shrinkage import TARGETS, intensity
from ._solvers import SOLVERS, TrackedState
from ._structures import PER_COMPONENT
from .exceptions import outside_stacklevel

__all__ = [
    "DENSITY_CONSTRAINTS",
    "SHRUNK_MESSAGE",
    "check_shrinkage",
    "check_target",
    "data_driven_intensity",
    "warn_deprecated",
]

#: The same text at every call, so that Python's default filter shows it once.
SHRUNK_MESSAGE = (
    "Some {!r} steps would have changed the covariance by more than a factor 2 or left "
    "the positive-definite cone, and were shrunk (n_steps_shrunk_ counts them). The step "
    "size is too large for the scale of the data: use a smaller learning rate "
    "(learning_rate='constant' or 'invscaling' with a smaller eta0), standardize the "
    "features, or use solver='natural'."
)

#: The parameters of a density, which the detector's ``estimator`` shares.
DENSITY_CONSTRAINTS = {
    "solver": [StrOptions(set(SOLVERS))],
    "parametrization": [StrOptions(set(PARAMETRIZATIONS))],
    "preconditioner": [None, StrOptions({"whiten"})],
    "covariance_type": [StrOptions(PER_COMPONENT)],
    "learning_rate": [StrOptions(set(SCHEDULES))],
    "eta0": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "average": ["boolean", Interval(Integral, 1, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "n_iter_no_change": [
        Interval(Integral, 1, None, closed="left"),
        Hidden(StrOptions({"deprecated"})),
    ],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "warm_start": ["boolean"],
    "reg_covar": [Interval(Real, 0, None, closed="left")],
    "shrinkage": [None, StrOptions({"ledoit-wolf", "oas"}), Interval(Real, 0, 1, closed="both")],
    "shrinkage_target": [StrOptions(set(TARGETS))],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "verbose": ["verbose"],
}


def check_target(shrinkage, target):
    """Refuse OAS toward the diagonal: its intensity is derived for ``mu I`` only."""
    if shrinkage == "oas" and target != "spherical":
        raise InvalidParameterError(
            f"shrinkage='oas' shrinks toward mu I (OAS's intensity is derived for that "
            f"target only), not shrinkage_target={target!r}: use shrinkage='ledoit-wolf' "
            "(Ledoit-Wolf's intensity for the diagonal) or a fixed intensity."
        )


def check_shrinkage(density):
    """Refuse a data-driven ``shrinkage`` where the state is not the running MLE."""
    if not isinstance(density.shrinkage, str):
        return
    check_target(density.shrinkage, density.shrinkage_target)
    needed = {
        "solver": (density.solver, "natural"),
        "learning_rate": (density.learning_rate, "optimal"),
        "average": (averaging_start(density.average) is not None, False),
        "covariance_type": (density.covariance_type, "full"),
    }
    wrong = [f"{k}={v!r}" for k, (v, want) in needed.items() if v != want]
    if wrong:
        raise InvalidParameterError(
            f"shrinkage={density.shrinkage!r} estimates the covariance of all the data "
            "seen, which needs solver='natural', learning_rate='optimal', no "
            "averaging and covariance_type='full'; got " + ", ".join(wrong) + ". "
            "Use a float shrinkage with these settings."
        )


def data_driven_intensity(kind, state, gaussians, t, target="spherical"):
    """OAS's or Ledoit-Wolf's intensity toward ``target`` for the running MLE ``gaussians``
    of weight ``t``.

    ``state``: the solver's state, which holds Ledoit-Wolf's sums when gathered.
    """
    covariance = gaussians.covariances[0]
    if kind == "oas":
        return intensity(kind, covariance, t)
    if not isinstance(state, TrackedState):
        raise ValueError(
            "shrinkage='ledoit-wolf' needs sums gathered while fitting, and this "
            "estimator was fitted without it: refit with shrinkage='ledoit-wolf' set."
        )
    return intensity(kind, covariance, t, state.fourth, gaussians.means[0], target)


def warn_deprecated(density):
    """A FutureWarning for each deprecated parameter ``density`` was given."""
    if density.n_iter_no_change != "deprecated":
        warnings.warn(
            "n_iter_no_change has no effect since 0.2 (fit stops when the estimate has "
            "settled: user guide, 'When fit stops') and will be removed in 0.4.",
            FutureWarning,
            stacklevel=outside_stacklevel(),
        )
