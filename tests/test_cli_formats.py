"""The command line's inputs: every format it reads, and every bad row it skips or refuses.

Most tests call ``main`` in this process (a fresh interpreter costs more than
the fit); standard input and a missing pyarrow are run as subprocesses.
"""

import gzip
import json
import subprocess
import sys

import numpy as np
import pytest

from sklearn_onlinegauss import load_model
from sklearn_onlinegauss.cli import main

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
feather = pytest.importorskip("pyarrow.feather")

NAMES = ["a", "b", "c"]


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def onlinegauss(*args, stdin=None, code=None):
    """A fresh interpreter; ``code`` runs before ``main`` (e.g. to hide a module)."""
    prelude = (code or "") + "\nimport sys\nfrom sklearn_onlinegauss.cli import main\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + "sys.exit(main(sys.argv[1:]))", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def csv_text(X, header=NAMES, delimiter=","):
    lines = [delimiter.join(header)] if header else []
    lines += [delimiter.join(repr(float(v)) for v in row) for row in X]
    return "\n".join(lines) + "\n"


def table(X, names=NAMES):
    return pa.table({name: X[:, j] for j, name in enumerate(names)})


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    cov = [[2, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 3]]
    return rng.multivariate_normal([1, -2, 100], cov, 2300)


def fitted(capsys, path, *args):
    """The model and the JSON summary of ``onlinegauss fit path``."""
    model = path.parent / (path.name.replace(".", "_") + ".npz")
    result = run(capsys, "fit", path, "-o", model, "--json", "-q", "--chunk-size", 500, *args)
    assert result.returncode == 0, result.stderr
    return load_model(model), json.loads(result.stdout)


def assert_same_fit(est, ref):
    np.testing.assert_allclose(est.location_, ref.location_, rtol=1e-12)
    np.testing.assert_allclose(est.covariance_, ref.covariance_, rtol=1e-12)
    assert est.n_samples_seen_ == ref.n_samples_seen_


# -- every format fits as the same data in CSV -------------------------------------------


def _write(kind, path, X):
    if kind == "parquet":
        pq.write_table(table(X), path, row_group_size=700)
    elif kind == "feather":
        feather.write_feather(table(X), path, chunksize=900)
    elif kind == "arrows":  # the Arrow IPC stream format
        with pa.ipc.new_stream(path, table(X).schema) as writer:
            writer.write_table(table(X), max_chunksize=600)
    elif kind == "directory":
        path.mkdir()
        for k, start in enumerate(range(0, len(X), 1000)):
            pq.write_table(table(X[start : start + 1000]), path / f"part-{k}.parquet")
    elif kind == "npy":
        np.save(path, X)
    elif kind == "csv.gz":
        path.write_bytes(gzip.compress(csv_text(X).encode()))
    elif kind == "tsv":
        path.write_text(csv_text(X, delimiter="\t"))
    return path


@pytest.mark.parametrize(
    "kind", ["parquet", "feather", "arrows", "directory", "npy", "csv.gz", "tsv"]
)
def test_every_format_fits_as_its_csv(tmp_path, capsys, data, kind):
    reference = tmp_path / "x.csv"
    reference.write_text(csv_text(data))
    ref, ref_summary = fitted(capsys, reference)
    path = _write(kind, tmp_path / ("x" if kind == "directory" else f"x.{kind}"), data)
    est, summary = fitted(capsys, path)
    assert_same_fit(est, ref)
    names = None if kind == "npy" else NAMES
    assert summary["feature_names"] == names == ref_summary["feature_names"] or kind == "npy"
    np.testing.assert_allclose(est.covariance_, np.cov(data.T, bias=True), rtol=1e-10)


def test_blanks_around_the_numbers_are_read_as_without(tmp_path, capsys, data):
    (tmp_path / "x.csv").write_text(csv_text(data))
    ref, _ = fitted(capsys, tmp_path / "x.csv")
    spaced = csv_text(data).replace(",", ", ").replace("\n", " \n")
    (tmp_path / "spaced.csv").write_text(spaced)
    est, summary = fitted(capsys, tmp_path / "spaced.csv")
    assert summary["feature_names"] == NAMES
    assert_same_fit(est, ref)


def test_standard_input_fits_as_the_file(tmp_path, capsys, data):
    path = tmp_path / "x.csv"
    path.write_text(csv_text(data))
    ref, _ = fitted(capsys, path)
    result = onlinegauss("fit", "-", "-o", tmp_path / "m.npz", "-q", stdin=csv_text(data))
    assert result.returncode == 0, result.stderr
    assert_same_fit(load_model(tmp_path / "m.npz"), ref)


def test_a_parquet_file_is_not_taken_for_text(tmp_path, capsys, data):
    pq.write_table(table(data), tmp_path / "x.parquet")
    result = run(capsys, "fit", tmp_path / "x.parquet", "-q")
    assert result.returncode == 0, result.stderr
    assert "UTF-8" not in result.stderr and "fitted 2300 rows of 3 features" in result.stdout
    # Under a name that does not say Parquet, the file is still read as one.
    (tmp_path / "x.dat").write_bytes((tmp_path / "x.parquet").read_bytes())
    ref, _ = fitted(capsys, tmp_path / "x.parquet")
    est, _ = fitted(capsys, tmp_path / "x.dat")
    assert_same_fit(est, ref)


@pytest.mark.parametrize("kind", ["parquet", "feather"])
def test_score_takes_the_models_columns_by_name_in_any_order(tmp_path, capsys, data, kind):
    (tmp_path / "x.csv").write_text(csv_text(data))
    ref, _ = fitted(capsys, tmp_path / "x.csv")
    expected = ref.score_samples(table(data))  # by name, as fitted
    # Other columns, and the model's in another order: taken by name.
    shuffled = np.column_stack([data[:, 2], -data[:, 0], data[:, 0], data[:, 1]])
    path = tmp_path / f"y.{kind}"
    names = ["c", "other", "a", "b"]
    if kind == "parquet":
        pq.write_table(table(shuffled, names), path, row_group_size=333)
    else:
        feather.write_feather(table(shuffled, names), path)
    result = run(capsys, "score", tmp_path / "x_csv.npz", path, "--chunk-size", 400)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "log_likelihood" and len(lines) == 2301
    np.testing.assert_allclose(np.array(lines[1:], dtype=float), expected, rtol=1e-12)
    pq.write_table(table(shuffled[:, :2], ["c", "other"]), tmp_path / "z.parquet")
    missing = run(capsys, "score", tmp_path / "x_csv.npz", tmp_path / "z.parquet")
    assert missing.returncode == 1 and "'a', 'b'" in missing.stderr, missing.stderr


def test_a_classifier_fits_from_parquet_as_from_csv(tmp_path, capsys, data):
    y = np.where(data[:, 0] > 1, "high", "low")
    text = "a,b,c,y\n" + "".join(
        ",".join(map(repr, map(float, row))) + f",{label}\n"
        for row, label in zip(data, y, strict=True)
    )
    (tmp_path / "k.csv").write_text(text)
    pq.write_table(table(data).append_column("y", pa.array(y)), tmp_path / "k.parquet")
    args = ("--model", "classifier", "--target", "y")
    ref, _ = fitted(capsys, tmp_path / "k.csv", *args)
    est, summary = fitted(capsys, tmp_path / "k.parquet", *args)
    assert summary["classes"] == ["high", "low"]
    np.testing.assert_allclose(est.means_, ref.means_, rtol=1e-12)
    np.testing.assert_allclose(est.covariances_, ref.covariances_, rtol=1e-12)


# -- line numbers and --skip-invalid -----------------------------------------------------

#: Each kind of bad row: the line written (of two features a and b), and why it is bad.
BAD_ROWS = {
    "empty field": ("1.5,", "empty field in column 'b'"),
    "too few fields": ("1.5", "expected 2 fields, found 1"),
    "too many fields": ("1.5,2,3", "expected 2 fields, found 3"),
    "text": ("1.5,abc", "non-numeric value 'abc' in column 'b'"),
    "NaN": ("nan,2", "NaN or infinite value"),
    "inf": ("1,-inf", "NaN or infinite value"),
}


def _with_bad_rows(tmp_path, bad, lines_at, n=400):
    """A CSV of ``n`` good rows with ``bad`` at the (1-based) ``lines_at``: its good rows."""
    rng = np.random.default_rng(1)
    good = rng.normal(size=(n, 2))
    lines, k = ["a,b"], 0
    while k < len(good):
        if len(lines) + 1 in lines_at:
            lines.append(bad)
        else:
            lines.append(",".join(map(repr, map(float, good[k]))))
            k += 1
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, good


@pytest.mark.parametrize("kind", sorted(BAD_ROWS))
def test_each_kind_of_bad_row_is_refused_at_its_line_or_skipped(tmp_path, capsys, kind):
    bad, why = BAD_ROWS[kind]
    at = [5, 77, 150, 151, 260, 301, 388]
    path, good = _with_bad_rows(tmp_path, bad, at)
    refused = run(capsys, "fit", path, "-q")
    assert refused.returncode == 1
    assert f"bad.csv, line 5: {why} (use --skip-invalid" in refused.stderr, refused.stderr
    est, summary = fitted(capsys, path, "--skip-invalid")
    assert summary["n_rows_skipped"] == 7 and summary["n_samples_seen"] == 400
    assert summary["rows_skipped"] == [f"line {line} ({why})" for line in at[:5]]
    np.testing.assert_allclose(est.location_, good.mean(0), rtol=1e-12)
    np.testing.assert_allclose(est.covariance_, np.cov(good.T, bias=True), rtol=1e-10)
    shown = run(capsys, "fit", path, "--skip-invalid", "-q")
    assert "fitted 400 rows of 2 features (7 rows invalid, skipped)" in shown.stdout
    assert f"skipped: line 5 ({why}); line 77 ({why});" in shown.stdout
    assert "line 260" in shown.stdout and "; ... and 2 more" in shown.stdout


def test_a_row_without_a_label_is_skipped_by_its_line(tmp_path, capsys):
    rows = ["a,b,y", "1,2,u", "2,2,v", "1,3,", "2,4,u", "3,3,v", "4,1,u"]
    (tmp_path / "k.csv").write_text("\n".join(rows) + "\n")
    args = ("--model", "classifier", "--target", "y", "--classes", "u,v")
    refused = run(capsys, "fit", tmp_path / "k.csv", *args, "-q")
    assert refused.returncode == 1
    assert "line 4: no label in the target column 'y'" in refused.stderr
    est, summary = fitted(capsys, tmp_path / "k.csv", *args, "--skip-invalid")
    assert summary["n_rows_skipped"] == 1 and summary["class_count"] == [3, 2]
    assert summary["rows_skipped"] == ["line 4 (no label in the target column 'y')"]
    np.testing.assert_allclose(est.means_, [[7 / 3, 7 / 3], [2.5, 2.5]], rtol=1e-12)


def test_line_numbers_stay_true_past_the_first_block(tmp_path, capsys):
    """Bad rows of every kind, far into a file that pyarrow reads in several blocks."""
    rng = np.random.default_rng(2)
    good = rng.normal(size=(300_000, 2))
    lines = ["a,b", *(f"{u!r},{v!r}" for u, v in good.tolist())]
    bad = {40_000: "1,2,3", 150_001: "", 150_002: "7,x", 220_000: "1", 290_000: "5,"}
    for line in sorted(bad):  # line numbers of the final file, 1-based
        lines.insert(line - 1, bad[line])
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size > 2.5 * (1 << 22)  # three of pyarrow's blocks
    refused = run(capsys, "fit", path, "-q")
    assert refused.returncode == 1 and "line 40000: expected 2 fields, found 3" in refused.stderr
    est, summary = fitted(capsys, path, "--skip-invalid")
    assert summary["rows_skipped"] == [
        "line 40000 (expected 2 fields, found 3)",
        "line 150002 (non-numeric value 'x' in column 'b')",
        "line 220000 (expected 2 fields, found 1)",
        "line 290000 (empty field in column 'b')",
    ]  # the empty line 150001 is no row
    assert summary["n_rows_skipped"] == 4 and summary["n_samples_seen"] == 300_000
    np.testing.assert_allclose(est.location_, good.mean(0), rtol=1e-12)
    np.testing.assert_allclose(est.covariance_, np.cov(good.T, bias=True), rtol=1e-10)


def test_standard_input_skips_bad_rows_by_their_line(tmp_path):
    text = "a,b\n1,2\n3,x\n2,\n5,7\n1,2,3\n4,4\n"
    result = onlinegauss("fit", "-", "--skip-invalid", "--json", "-q", stdin=text)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows_skipped"] == [
        "line 3 (non-numeric value 'x' in column 'b')",
        "line 4 (empty field in column 'b')",
        "line 6 (expected 2 fields, found 3)",
    ]
    np.testing.assert_allclose(summary["location"], [10 / 3, 13 / 3], rtol=1e-12)


def test_bad_values_of_parquet_are_named_by_their_row(tmp_path, capsys, data):
    X = data.copy()
    X[10, 1] = np.nan
    X[1500, 0] = np.inf
    columns = {name: pa.array(X[:, j]) for j, name in enumerate(NAMES)}
    mask = np.zeros(len(X), bool)
    mask[[700, 2000]] = True
    columns["c"] = pa.array(X[:, 2], mask=mask)  # missing values (nulls)
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=600)
    refused = run(capsys, "fit", path, "-q")
    assert refused.returncode == 1 and "x.parquet, row 11: NaN or infinite" in refused.stderr
    est, summary = fitted(capsys, path, "--skip-invalid")
    assert summary["rows_skipped"] == [
        "row 11 (NaN or infinite value)",
        "row 701 (missing value in column 'c')",
        "row 1501 (NaN or infinite value)",
        "row 2001 (missing value in column 'c')",
    ]
    keep = np.ones(len(X), bool)
    keep[[10, 700, 1500, 2000]] = False
    np.testing.assert_allclose(est.location_, data[keep].mean(0), rtol=1e-12)


def test_a_column_of_text_in_parquet_is_named(tmp_path, capsys, data):
    columns = table(data).set_column(1, "b", pa.array(["x"] * len(data)))
    pq.write_table(columns, tmp_path / "x.parquet")
    result = run(capsys, "fit", tmp_path / "x.parquet", "-q")
    assert result.returncode == 1 and "row 1: non-numeric value 'x' in column 'b'" in (
        result.stderr
    ), result.stderr


# -- without pyarrow -----------------------------------------------------------------------

HIDE_PYARROW = "import sys\nsys.modules['pyarrow'] = None"


def test_without_pyarrow_text_says_what_to_install_and_npy_still_reads(tmp_path, data):
    (tmp_path / "x.csv").write_text(csv_text(data))
    result = onlinegauss("fit", tmp_path / "x.csv", "-q", code=HIDE_PYARROW)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "needs pyarrow: pip install 'sklearn-onlinegauss[cli]'" in result.stderr
    np.save(tmp_path / "x.npy", data)
    result = onlinegauss("fit", tmp_path / "x.npy", "-q", code=HIDE_PYARROW)
    assert result.returncode == 0 and "fitted 2300 rows" in result.stdout, result.stderr
