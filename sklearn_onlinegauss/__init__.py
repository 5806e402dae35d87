"""Fit a multivariate Gaussian online by stochastic gradient ascent, the scikit-learn way."""

from ._estimator import OnlineGaussian

__all__ = ["OnlineGaussian"]
__version__ = "0.1.0"
