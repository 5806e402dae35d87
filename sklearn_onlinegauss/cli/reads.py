"""What ``score`` writes: the reads of each kind of model, as CSV columns."""

import numpy as np

from .kinds import CLASSIFIER, GAUSSIAN, MIXTURE, OUTLIER
from .readers import UsageError

#: Each read (its option's ``dest``): what it gives for each kind that has it.
#: The first column of every score is the kind's own (``PRIMARY``); each option adds one.
READS = {
    "log_likelihood": {
        GAUSSIAN: "the log-density of the row",
        MIXTURE: "the log-density of the row under the mixture",
        OUTLIER: "the log-density of the row under the detector's Gaussian",
    },
    "mahalanobis": {
        GAUSSIAN: "the squared Mahalanobis distance",
        OUTLIER: "the squared Mahalanobis distance",
        CLASSIFIER: "the squared Mahalanobis distance to each class (mahalanobis_CLASS)",
    },
    "predict": {
        MIXTURE: "the most responsible component (0-based)",
        CLASSIFIER: "the most probable class",
        OUTLIER: "+1 for an inlier, -1 for an outlier",
    },
    "proba": {
        MIXTURE: "each component's responsibility (proba_K)",
        CLASSIFIER: "each class's posterior probability (proba_CLASS)",
    },
    "decision": {
        OUTLIER: "minus the squared distance less the threshold: negative for outliers",
    },
    "ood_score": {
        CLASSIFIER: "minus the smallest class distance: low out of distribution",
    },
}
#: The read every score of a kind starts with.
PRIMARY = {
    GAUSSIAN: "log_likelihood",
    MIXTURE: "log_likelihood",
    OUTLIER: "log_likelihood",
    CLASSIFIER: "predict",
}


def flag(dest):
    return "--" + dest.replace("_", "-")


def chosen(kind, args):
    """The reads to write, in the order of ``READS``; refuses one ``kind`` has not."""
    asked = [dest for dest in READS if dest != "log_likelihood" and getattr(args, dest)]
    for dest in asked:
        if kind not in READS[dest]:
            has = ", ".join(flag(d) for d in READS if kind in READS[d] and d != PRIMARY[kind])
            article = "an" if kind[0] in "aeiou" else "a"
            raise UsageError(
                f"{flag(dest)} is not a read of {article} {kind} model (its reads: "
                f"{PRIMARY[kind].replace('_', '-')}, always written first; {has})"
            )
    return [PRIMARY[kind]] + [d for d in asked if d != PRIMARY[kind]]


def header(kind, est, reads):
    """The names of the columns the reads write."""
    names = []
    for dest in reads:
        if dest == "mahalanobis" and kind == CLASSIFIER:
            names += [f"mahalanobis_{c}" for c in est.classes_]
        elif dest == "proba":
            parts = est.classes_ if kind == CLASSIFIER else range(est.n_components)
            names += [f"proba_{p}" for p in parts]
        else:
            names.append(dest)
    return names


def columns(kind, est, reads, X):
    """The reads of the rows ``X``: one 1-D or 2-D array per read."""
    found = []
    for dest in reads:
        if dest == "log_likelihood":
            density = est.estimator_ if kind == OUTLIER else est
            found.append(density.score_samples(X))
        elif dest == "mahalanobis":
            found.append(est.mahalanobis(X))
        elif dest == "predict":
            found.append(est.predict(X))
        elif dest == "proba":
            found.append(est.predict_proba(X))
        elif dest == "decision":
            found.append(est.decision_function(X))
        elif dest == "ood_score":
            found.append(est.ood_score(X))
    return found


def as_text(values):
    """The values as CSV fields: floats round-trip exactly, labels as they are."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        return np.char.mod("%.17g", values)
    text = values.astype(str)
    if values.dtype.kind in "US":
        return np.array([quoted(t) for t in text.ravel()], dtype=object).reshape(text.shape)
    return text


def quoted(field):
    """A CSV field, quoted when it must be."""
    if any(c in field for c in ',"\n\r') or field != field.strip():
        return '"' + field.replace('"', '""') + '"'
    return field


def write(out, arrays):
    """The read arrays of one chunk as CSV rows."""
    fields = []
    for array in arrays:
        text = as_text(array)
        fields += [text] if text.ndim == 1 else list(text.T)
    if fields and len(fields[0]):
        out.write("\n".join(",".join(row) for row in zip(*fields, strict=True)) + "\n")
