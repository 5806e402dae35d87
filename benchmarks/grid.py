"""The learning-rate grid a new user tries first, timed on scikit-learn's small data sets.

The grid is ``eta0`` in {1e-3, 1e-2, 1e-1} times ``learning_rate`` in {'constant',
'invscaling', 'adaptive'} (9 settings), 3-fold ``GridSearchCV`` of ``OnlineGaussian`` on
breast_cancer, wine, diabetes and digits, each standardized (``StandardScaler``). For
each data set it prints the grid's seconds (and that time over one default ``fit``, a
figure that a loaded machine changes less), the ConvergenceWarnings of each setting,
the epochs each setting ran, the grid's best held-out score and the default's (the
MLE's). Then ``OnlineGaussianMixture(10).fit`` on digits against ``GaussianMixture``:
iterations, warnings, seconds.

Run: ``python benchmarks/grid.py`` (``--quick``: wine and the mixture only).
"""

import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_onlinegauss import OnlineGaussian, OnlineGaussianMixture

GRID = {"eta0": [1e-3, 1e-2, 1e-1], "learning_rate": ["constant", "invscaling", "adaptive"]}
DATASETS = {
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
    "diabetes": load_diabetes,
    "digits": load_digits,
}


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def settings():
    return [{"eta0": e, "learning_rate": r} for r in GRID["learning_rate"] for e in GRID["eta0"]]


def grid(X):
    """``(seconds, best score, best params)`` of the 9 x 3 grid search (warnings ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search, seconds = _timed(
            lambda: GridSearchCV(OnlineGaussian(random_state=0), GRID, cv=3).fit(X)
        )
    return seconds, search.best_score_, search.best_params_


def per_setting(X, params):
    """``(ConvergenceWarnings, epochs of each fold, mean held-out score)`` of one setting."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = cross_validate(
            OnlineGaussian(random_state=0, **params), X, cv=3, return_estimator=True
        )
    n_warnings = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    epochs = [est.n_iter_ for est in result["estimator"]]
    return n_warnings, epochs, float(np.mean(result["test_score"]))


def report_dataset(name):
    X = StandardScaler().fit_transform(DATASETS[name]().data)
    default_seconds = np.median([_timed(OnlineGaussian().fit, X)[1] for _ in range(7)])
    seconds, best, best_params = grid(X)
    mle = float(np.mean(cross_val_score(OnlineGaussian(), X, cv=3)))
    print(
        f"\n{name} {X.shape}: grid {seconds:.2f} s ({seconds / default_seconds:.0f}x one "
        f"default fit of {1e3 * default_seconds:.1f} ms); best held-out {best:.4f} "
        f"({best_params}), MLE's {mle:.4f}, best - MLE {best - mle:+.4f}"
    )
    print(f"  {'learning_rate':>13} {'eta0':>6} {'warnings':>8} {'epochs (3 folds)':>18} score")
    for params in settings():
        n_warnings, epochs, score = per_setting(X, params)
        print(
            f"  {params['learning_rate']:>13} {params['eta0']:>6g} {n_warnings:>8} "
            f"{str(epochs):>18} {score:.4f}"
        )


def report_mixture(seeds=(0, 1, 2)):
    X = load_digits().data
    print(f"\nmixture, digits {X.shape}, n_components=10 (one BLAS thread for both):")
    for seed in seeds:
        with threadpool_limits(1), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            ours, ours_s = _timed(OnlineGaussianMixture(10, random_state=seed).fit, X)
            ref, ref_s = _timed(GaussianMixture(10, random_state=seed).fit, X)
        n_warnings = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        print(
            f"  seed {seed}: OnlineGaussianMixture {ours.n_iter_} iterations "
            f"(converged {ours.converged_}, {ours_s:.2f} s, score {ours.score(X):.3f}); "
            f"GaussianMixture {ref.n_iter_} (converged {ref.converged_}, {ref_s:.2f} s, "
            f"score {ref.score(X):.3f}); ConvergenceWarnings {n_warnings}"
        )


if __name__ == "__main__":
    for dataset in ["wine"] if "--quick" in sys.argv else DATASETS:
        report_dataset(dataset)
    report_mixture()
