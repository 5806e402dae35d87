"""Fit a multivariate Gaussian online by stochastic gradient ascent, the scikit-learn way."""

from ._estimator import OnlineGaussian
from ._merge import merge

__all__ = ["OnlineGaussian", "merge"]
__version__ = "0.2.0"
