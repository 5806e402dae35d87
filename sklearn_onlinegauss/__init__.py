"""Fit a multivariate Gaussian online by stochastic gradient ascent, the scikit-learn way."""

from ._classifier import OnlineGaussianClassifier
from ._estimator import OnlineGaussian
from ._merge import merge
from ._mixture import OnlineGaussianMixture
from ._outlier import OnlineEllipticEnvelope
from ._persist import load_model, save_model
from .export import from_sklearn, to_sklearn
from .model_selection import PrequentialSplit, make_prequential_scorer, prequential_score

__all__ = [
    "OnlineEllipticEnvelope",
    "OnlineGaussian",
    "OnlineGaussianClassifier",
    "OnlineGaussianMixture",
    "PrequentialSplit",
    "from_sklearn",
    "load_model",
    "make_prequential_scorer",
    "merge",
    "prequential_score",
    "save_model",
    "to_sklearn",
]
__version__ = "0.2.0"
