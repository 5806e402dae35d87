"""Which shrinkage target: mu I or the diagonal, by KL to the truth and on wine's raw features.

1. KL(true || estimate), median over seeds, of the MLE and of Ledoit-Wolf's shrinkage toward
   ``mu I`` (``shrinkage_target='spherical'``) and toward the diagonal (``'diag'``), each
   streamed in chunks of 100 rows, at n/d = 0.5, 1, 2, 5 and d = 50, 200. The truth:
   variances log-spaced over three orders of magnitude (1 to 1000, in a random order) or all
   equal (the control where ``mu I`` is the natural target), times a random correlation
   matrix whose eigenvalues are log-spaced with condition number 10 or 1000.
2. OnlineGaussianClassifier's accuracy on wine's raw features (variances from 0.01 to 1e5),
   5-fold stratified cross-validation repeated 10 times: no shrinkage, mu I, the diagonal;
   and scikit-learn's LinearDiscriminantAnalysis(solver='lsqr', shrinkage='auto'), which
   standardizes the features before its Ledoit-Wolf shrinkage, for reference.

Run: ``python benchmarks/shrinkage.py`` (``--seeds``, ``--dims``; a few minutes).
"""

import argparse

import numpy as np
from scipy.stats import random_correlation
from sklearn.datasets import load_wine
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score

from sklearn_onlinegauss import OnlineGaussian, OnlineGaussianClassifier
from sklearn_onlinegauss._covariance import kl_divergence

RATIOS = (0.5, 1, 2, 5)
ESTIMATORS = {
    "MLE": {},
    "mu I (ledoit-wolf)": dict(shrinkage="ledoit-wolf"),
    "diagonal (ledoit-wolf)": dict(shrinkage="ledoit-wolf", shrinkage_target="diag"),
}


def truth(rng, d, condition, span):
    """A mean and a covariance: variances spanning ``span``, correlations of ``condition``."""
    eigenvalues = np.logspace(0, np.log10(condition), d)
    correlation = random_correlation.rvs(eigenvalues * d / eigenvalues.sum(), random_state=rng)
    correlation = 0.5 * (correlation + correlation.T)
    np.fill_diagonal(correlation, 1.0)
    sd = np.sqrt(rng.permutation(np.logspace(0, np.log10(span), d)))
    return rng.normal(scale=10, size=d), correlation * np.outer(sd, sd)


def streamed(params, X, chunk=100):
    est = OnlineGaussian(**params)
    for start in range(0, len(X), chunk):
        est.partial_fit(X[start : start + chunk])
    return est


def kl_row(d, condition, span, seeds):
    """Median KL of each estimator at each n/d: {name: [kl per ratio]} (inf: singular)."""
    kl = {name: np.empty((seeds, len(RATIOS))) for name in ESTIMATORS}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        mean, covariance = truth(rng, d, condition, span)
        X = rng.multivariate_normal(mean, covariance, size=int(max(RATIOS) * d))
        for j, ratio in enumerate(RATIOS):
            n = int(ratio * d)
            for name, params in ESTIMATORS.items():
                if not params and n <= d:  # the MLE of n <= d rows is singular
                    kl[name][seed, j] = np.inf
                    continue
                est = streamed(params, X[:n])
                kl[name][seed, j] = kl_divergence(mean, covariance, est.location_, est.covariance_)
    return {name: np.median(values, axis=0) for name, values in kl.items()}


def kl_tables(args):
    print(
        f"KL(true || estimate), median of {args.seeds} seeds; columns n/d; "
        "variances 1 to 1e3 (or all 1: the control); chunks of 100 rows"
    )
    header = f"{'d':>4} {'cond':>5} {'variances':>9}  {'estimator':<24}" + "".join(
        f"{f'n={r}d':>10}" for r in RATIOS
    )
    print(header)
    for d in args.dims:
        for condition in (10, 1000):
            for span, label in ((1e3, "1 to 1e3"), (1, "equal")):
                row = kl_row(d, condition, span, args.seeds)
                for name, values in row.items():
                    cells = "".join(
                        f"{'singular':>10}" if np.isinf(v) else f"{v:10.3g}" for v in values
                    )
                    print(f"{d:>4} {condition:>5} {label:>9}  {name:<24}{cells}", flush=True)


def wine(args):
    X, y = load_wine(return_X_y=True)
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=10, random_state=0)
    models = {
        "per-class, no shrinkage": OnlineGaussianClassifier(),
        "per-class, mu I (ledoit-wolf)": OnlineGaussianClassifier(shrinkage="ledoit-wolf"),
        "per-class, diagonal (ledoit-wolf)": OnlineGaussianClassifier(
            shrinkage="ledoit-wolf", shrinkage_target="diag"
        ),
        "shared, no shrinkage": OnlineGaussianClassifier(covariance="shared"),
        "shared, mu I (oas)": OnlineGaussianClassifier(covariance="shared", shrinkage="oas"),
        "shared, mu I 0.1": OnlineGaussianClassifier(covariance="shared", shrinkage=0.1),
        "shared, diagonal 0.1": OnlineGaussianClassifier(
            covariance="shared", shrinkage=0.1, shrinkage_target="diag"
        ),
        "LDA(lsqr, shrinkage='auto')": LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
    }
    print(f"\nwine, raw features: accuracy, {cv.get_n_splits()} folds (5-fold x 10), mean (sd)")
    for name, model in models.items():
        scores = cross_val_score(model, X, y, cv=cv)
        print(f"  {name:<36} {scores.mean():.3f} ({scores.std():.3f})", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--dims", type=int, nargs="+", default=[50, 200])
    args = parser.parse_args()
    kl_tables(args)
    wine(args)


if __name__ == "__main__":
    main()
