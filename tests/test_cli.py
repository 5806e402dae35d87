"""The onlinegauss command, run as users run it: a subprocess on real files."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.covariance import EmpiricalCovariance

from sklearn_onlinegauss import load_model


def onlinegauss(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "sklearn_onlinegauss", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.multivariate_normal([1, -2, 100], [[2, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 3]], 2500)


def write_csv(path, X, header=None, delimiter=","):
    lines = [] if header is None else [delimiter.join(header)]
    lines += [delimiter.join(repr(float(v)) for v in row) for row in X]
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_matches_batch(model_path, X):
    est = load_model(model_path)
    ref = EmpiricalCovariance().fit(X)
    np.testing.assert_allclose(est.location_, ref.location_, rtol=1e-12)
    np.testing.assert_allclose(est.covariance_, ref.covariance_, rtol=1e-10)


def test_fit_npy_saves_the_batch_estimate(tmp_path, data):
    np.save(tmp_path / "x.npy", data)
    result = onlinegauss(
        "fit", tmp_path / "x.npy", "-o", tmp_path / "m.npz", "--chunk-size", 300, "--quiet"
    )
    assert result.returncode == 0, result.stderr
    assert "fitted 2500 rows of 3 features" in result.stdout
    assert_matches_batch(tmp_path / "m.npz", data)


@pytest.mark.parametrize("header", [None, ["a", "b", "c"]])
def test_fit_csv_with_and_without_header(tmp_path, data, header):
    path = write_csv(tmp_path / "x.csv", data, header)
    result = onlinegauss("fit", path, "-o", tmp_path / "m.npz", "--json", "--chunk-size", 700)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["feature_names"] == header
    assert summary["n_samples_seen"] == 2500
    np.testing.assert_allclose(summary["covariance"], np.cov(data.T, bias=True), rtol=1e-10)
    assert_matches_batch(tmp_path / "m.npz", data)
    assert "rows/s" in result.stderr  # the plain progress line when not on a terminal


def test_fit_tsv_selected_columns_and_stdin(tmp_path, data):
    path = write_csv(tmp_path / "x.tsv", data, ["a", "b", "c"], delimiter="\t")
    result = onlinegauss("fit", path, "--columns", "c,a", "--json", "-q")
    assert json.loads(result.stdout)["feature_names"] == ["c", "a"]
    np.testing.assert_allclose(
        json.loads(result.stdout)["location"], data[:, [2, 0]].mean(0), rtol=1e-12
    )
    csv_text = write_csv(tmp_path / "y.csv", data).read_text()
    result = onlinegauss("fit", "-", "-o", tmp_path / "m.npz", "-q", stdin=csv_text)
    assert result.returncode == 0, result.stderr
    assert_matches_batch(tmp_path / "m.npz", data)


def test_score_writes_log_likelihoods_and_mahalanobis(tmp_path, data):
    np.save(tmp_path / "x.npy", data)
    onlinegauss("fit", tmp_path / "x.npy", "-o", tmp_path / "m.npz", "-q")
    result = onlinegauss("score", tmp_path / "m.npz", tmp_path / "x.npy", "--mahalanobis")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "log_likelihood,mahalanobis"
    values = np.loadtxt(lines[1:], delimiter=",")
    est = load_model(tmp_path / "m.npz")
    np.testing.assert_allclose(values[:, 0], est.score_samples(data), rtol=1e-15)
    np.testing.assert_allclose(values[:, 1], est.mahalanobis(data), rtol=1e-15)


BAD_FILES = {
    "missing": (None, "no such file"),
    "empty": ("", "the file is empty"),
    "ragged": ("1,2,3\n4,5,6\n7,8\n", "line 3: expected 3 fields, found 2"),
    "non-numeric": ("a,b\n1,2\n3,x\n", "line 3: non-numeric value 'x'"),
    "nan": ("1,2\n3,nan\n5,6\n", "line 2: NaN or infinite value"),
    "inf": ("1,2\n3,4\n5,inf\n", "line 3: NaN or infinite value"),
    "header only": ("a,b,c\n", "no valid rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_get_one_line_and_a_nonzero_exit(tmp_path, case):
    content, message = BAD_FILES[case]
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    result = onlinegauss("fit", path, "-q")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("onlinegauss: error:")
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_skip_invalid_skips_and_counts(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("1,2\n3,nan\n5,7\ninf,1\n2,2\n")
    result = onlinegauss("fit", path, "--skip-invalid", "--json", "-q")
    summary = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert summary["n_rows_skipped"] == 2 and summary["n_samples_seen"] == 3
    np.testing.assert_allclose(summary["location"], [8 / 3, 11 / 3])


def test_npy_nan_row_is_refused_with_its_row_number(tmp_path, data):
    data[1234, 1] = np.nan
    np.save(tmp_path / "x.npy", data)
    result = onlinegauss("fit", tmp_path / "x.npy", "-q")
    assert result.returncode == 1 and "row 1235: NaN or infinite value" in result.stderr


def test_unknown_column_and_bad_option(tmp_path, data):
    path = write_csv(tmp_path / "x.csv", data, ["a", "b", "c"])
    result = onlinegauss("fit", path, "--columns", "z", "-q")
    assert result.returncode == 1 and "no column 'z' (columns: a, b, c)" in result.stderr
    assert onlinegauss("fit", path, "--solver", "newton").returncode == 2  # argparse usage


def test_demo_runs_and_shows_the_textbook_failure(tmp_path):
    result = onlinegauss("demo", "--no-plot")
    assert result.returncode == 0, result.stderr
    assert "textbook update, start variance 100" in result.stdout
    assert "default: natural gradient, 1/t (exact MLE)" in result.stdout
    assert "constant rate 0.002 (a tracker)" in result.stdout
    assert "EmpiricalCovariance (batch, " in result.stdout
    assert "figure" not in result.stdout


def test_demo_writes_its_figure_only_where_it_says(tmp_path):
    pytest.importorskip("matplotlib")
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_onlinegauss", "demo"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert list(work.iterdir()) == []  # nothing written where it was run
    saved = Path(result.stdout.rsplit("figure saved to ", 1)[1].strip())
    assert saved.is_file() and saved.parent.name.startswith("onlinegauss-demo-")
    chosen = tmp_path / "demo.png"
    assert onlinegauss("demo", "--output", chosen).returncode == 0
    assert chosen.stat().st_size > 10_000


def _await_stderr(proc, words, deadline=120.0):
    """The child's stderr up to ``words``, read as it comes: the event a test waits for.

    Fails with what was read if the child ends first or ``deadline`` seconds
    pass (generous: a loaded machine may take long to import and fit).
    """
    import os
    import select
    import time

    fd, seen, end = proc.stderr.fileno(), b"", time.monotonic() + deadline
    while words.encode() not in seen:
        left = end - time.monotonic()
        assert left > 0, f"no {words!r} on the child's stderr in {deadline:.0f} s: {seen!r}"
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 65536)
            assert chunk, f"the child ended before writing {words!r}: {seen!r}"
            seen += chunk
    return seen.decode()


def _fit_from_stdin_then_ctrl_c(tmp_path, data, sigint):
    """A fit reading ``data[:30]`` from a pipe, sent SIGINT once it has fitted them.

    ``sigint``: the disposition the child starts with (a shell's background
    job starts with SIGINT ignored). The signal goes once the progress line
    of the 30 rows is out: they are fitted, and the fit waits for more input.
    Returns the finished process and its stderr.
    """
    import signal

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sklearn_onlinegauss",
            "fit",
            "-",
            "--chunk-size",
            "30",
            "-o",
            tmp_path / "m.npz",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
    )
    proc.stdin.write("".join(",".join(repr(float(v)) for v in row) + "\n" for row in data[:30]))
    proc.stdin.flush()
    seen = _await_stderr(proc, "30 rows")  # the first chunk's progress line: it is fitted
    proc.send_signal(signal.SIGINT)
    if sigint is signal.SIG_DFL:
        proc.wait(timeout=120)  # it stops by itself, the input still open
    _, err = proc.communicate(timeout=120)  # closes stdin: the end of the input
    return proc, seen + err


def test_ctrl_c_stops_cleanly_and_saves_what_was_learned(tmp_path, data):
    import signal

    proc, err = _fit_from_stdin_then_ctrl_c(tmp_path, data, signal.SIG_DFL)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    est = load_model(tmp_path / "m.npz")
    assert est.n_samples_seen_ == 30
    np.testing.assert_allclose(est.covariance_, np.cov(data[:30].T, bias=True), rtol=1e-10)


def test_a_background_job_ignores_ctrl_c_as_it_was_started_to(tmp_path, data):
    """A shell starts a background job with SIGINT ignored; the fit keeps it ignored."""
    import signal

    proc, err = _fit_from_stdin_then_ctrl_c(tmp_path, data, signal.SIG_IGN)
    assert proc.returncode == 0, err
    assert "interrupted" not in err
    assert load_model(tmp_path / "m.npz").n_samples_seen_ == 30


@pytest.mark.parametrize("shrinkage", ["ledoit-wolf", "oas", "0.25"])
def test_fit_honours_shrinkage_and_reg_covar(tmp_path, data, shrinkage):
    from sklearn.covariance import OAS, LedoitWolf, ShrunkCovariance

    np.save(tmp_path / "x.npy", data)
    model = tmp_path / "m.npz"
    args = ("--chunk-size", 700, "--shrinkage", shrinkage, "--reg-covar", 1e-3, "-q")
    result = onlinegauss("fit", tmp_path / "x.npy", "-o", model, *args)
    assert result.returncode == 0, result.stderr
    est = load_model(model)
    ref = {"ledoit-wolf": LedoitWolf(), "oas": OAS()}.get(shrinkage)
    ref = (ref or ShrunkCovariance(shrinkage=0.25)).fit(data - data[0])
    np.testing.assert_allclose(est.covariance_, ref.covariance_, rtol=1e-10)
    assert est.reg_covar == 1e-3


def test_bad_shrinkage_is_a_usage_error(tmp_path, data):
    np.save(tmp_path / "x.npy", data)
    result = onlinegauss("fit", tmp_path / "x.npy", "--shrinkage", "lots", "-q")
    assert result.returncode == 2 and "ledoit-wolf, oas or a number" in result.stderr


def test_a_model_of_version_0_1_is_refused_in_one_line(tmp_path, data):
    np.save(tmp_path / "x.npy", data)
    model = Path(__file__).parent / "data" / "onlinegauss-0.1.0.pkl"
    result = onlinegauss("score", model, tmp_path / "x.npy")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not a model file of sklearn-onlinegauss" in result.stderr
    assert "--allow-pickle" in result.stderr
    trusted = onlinegauss("score", model, tmp_path / "x.npy", "--allow-pickle")
    _one_clean_line(trusted, 1, "saved by sklearn-onlinegauss 0.1 (another version)")
    assert "refit it" in trusted.stderr


def test_a_pickle_crafted_to_run_code_is_not_run(tmp_path, data):
    import pickle

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    crafted = tmp_path / "model.joblib"
    crafted.write_bytes(pickle.dumps(Payload()))
    np.save(tmp_path / "x.npy", data)
    result = onlinegauss("score", crafted, tmp_path / "x.npy")
    assert result.returncode == 1 and "not a model file" in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_the_output_may_not_be_the_input(tmp_path, data, suffix):
    path = tmp_path / f"x{suffix}"
    np.save(path, data) if suffix == ".npy" else write_csv(path, data)
    before = path.read_bytes()
    result = onlinegauss("fit", path, "-o", path, "-q")
    assert result.returncode == 2 and "is the input file" in result.stderr
    assert path.read_bytes() == before


def test_bad_output_paths_get_one_line(tmp_path, data):
    np.save(tmp_path / "x.npy", data)
    for output in (tmp_path / "missing" / "m.npz", tmp_path):
        result = onlinegauss("fit", tmp_path / "x.npy", "-o", output, "-q")
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr


#: ``python -c`` for a command line whose save announces itself on stderr, once its
#: temporary file exists, then waits for a line on stdin: a Ctrl-C lands in the save.
_SAVE_WAITS = """
import sys, numpy
savez = numpy.savez
def waiting(file, *args, **kwds):
    print("saving", file=sys.stderr, flush=True)
    sys.stdin.readline()
    savez(file, *args, **kwds)
numpy.savez = waiting
from sklearn_onlinegauss.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("ctrl_c", [True, False])
def test_ctrl_c_during_the_save_leaves_the_old_model_or_the_new_one(tmp_path, ctrl_c):
    import signal

    rng = np.random.default_rng(0)
    np.save(tmp_path / "old.npy", rng.normal(size=(40, 3)))
    np.save(tmp_path / "new.npy", rng.normal(size=(60, 3)) + 1)
    model = tmp_path / "m.npz"
    assert onlinegauss("fit", tmp_path / "old.npy", "-q", "-o", model).returncode == 0
    old = model.read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-c", _SAVE_WAITS, "fit", tmp_path / "new.npy", "-q", "-o", model],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell runs a background job with SIGINT ignored, and the child
        # would inherit that (then no signal ever lands inside a save).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    _await_stderr(proc, "saving")
    assert len(list(tmp_path.glob(".m.npz.*"))) == 1  # the save has begun
    if ctrl_c:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    _, err = proc.communicate("\n", timeout=120)
    assert "Traceback" not in err, err
    assert not list(tmp_path.glob(".m.npz.*"))  # no temporary file left behind
    if ctrl_c:
        assert proc.returncode == 130 and "interrupted while saving" in err, err
        assert model.read_bytes() == old
    else:
        assert proc.returncode == 0, err
        np.testing.assert_allclose(
            load_model(model).location_, np.load(tmp_path / "new.npy").mean(0), rtol=1e-12
        )


@pytest.fixture
def wine(tmp_path):
    """scikit-learn's wine data as a CSV with a header, as a user would export it."""
    from sklearn.datasets import load_wine

    bunch = load_wine()
    names = [n.replace("/", "_") for n in bunch.feature_names]
    return write_csv(tmp_path / "wine.csv", bunch.data, names), bunch.data, names


def test_scoring_takes_the_models_columns_by_name(tmp_path, wine):
    path, X, names = wine
    model = tmp_path / "m.npz"
    assert onlinegauss("fit", path, "-o", model, "-q").returncode == 0
    assert list(load_model(model).feature_names_in_) == names
    reversed_path = write_csv(tmp_path / "reversed.csv", X[:, ::-1], names[::-1])
    straight = onlinegauss("score", model, path)
    swapped = onlinegauss("score", model, reversed_path)
    assert straight.returncode == swapped.returncode == 0, swapped.stderr
    assert straight.stdout == swapped.stdout
    scores = np.loadtxt(straight.stdout.splitlines()[1:])
    assert -25 < scores.mean() < -15  # about -18.6 per row, not millions
    missing = write_csv(tmp_path / "missing.csv", X[:, 1:], names[1:])
    result = onlinegauss("score", model, missing)
    assert result.returncode == 1 and repr(names[0]) in result.stderr  # as fit's --columns
    headerless = write_csv(tmp_path / "headerless.csv", X)
    result = onlinegauss("score", model, headerless)
    assert result.returncode == 1 and "no header" in result.stderr
    by_position = onlinegauss(
        "score", model, headerless, "--columns", ",".join(map(str, range(13)))
    )
    assert by_position.stdout == straight.stdout


def test_selected_columns_are_remembered_by_name(tmp_path, wine):
    path, X, names = wine
    model = tmp_path / "m.npz"
    result = onlinegauss("fit", path, "--columns", f"{names[3]},{names[0]}", "-o", model, "-q")
    assert result.returncode == 0, result.stderr
    assert f"features: {names[3]}, {names[0]}" in result.stdout
    scored = onlinegauss("score", model, path)  # the file has all 13: the model takes its 2
    assert scored.returncode == 0, scored.stderr
    import pandas as pd

    chosen = pd.DataFrame(X[:, [3, 0]], columns=[names[3], names[0]])
    expected = load_model(model).score_samples(chosen)
    np.testing.assert_allclose(np.loadtxt(scored.stdout.splitlines()[1:]), expected)


def test_headerless_columns_are_shown_by_their_indices(tmp_path, data):
    path = write_csv(tmp_path / "x.csv", np.column_stack([data, data]))
    result = onlinegauss("fit", path, "--columns", "2,3,4", "-q")
    assert result.returncode == 0 and "features: 2, 3, 4" in result.stdout


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_compressed_files_are_read_by_their_extension(tmp_path, wine, suffix):
    import bz2
    import gzip
    import lzma

    path, X, _ = wine
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
    packed = tmp_path / f"wine.csv{suffix}"
    with opener(packed, "wb") as f:
        f.write(path.read_bytes())
    result = onlinegauss("fit", packed, "-o", tmp_path / "m.npz", "-q")
    assert result.returncode == 0, result.stderr
    assert_matches_batch(tmp_path / "m.npz", X)


def test_a_closed_pipe_ends_quietly(tmp_path, wine):
    path, _, _ = wine
    model = tmp_path / "m.npz"
    onlinegauss("fit", path, "-o", model, "-q")
    for command in (f"fit {path}", f"score {model} {path}"):
        result = subprocess.run(
            ["bash", "-c", f"{sys.executable} -m sklearn_onlinegauss {command} -q 2>&1 | head -1"]
            if command.startswith("fit")
            else [
                "bash",
                "-c",
                f"{sys.executable} -m sklearn_onlinegauss {command} 2>&1 | head -3",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in result.stdout and "Error" not in result.stdout, result.stdout


def test_the_delimiter_is_guessed_and_said_or_given(tmp_path, wine):
    path, X, names = wine
    semicolons = write_csv(tmp_path / "wine_semicolon.csv", X, names, delimiter=";")
    result = onlinegauss("fit", semicolons, "-o", tmp_path / "m.npz")
    assert result.returncode == 0, result.stderr
    assert "delimiter ';' guessed" in result.stderr
    assert_matches_batch(tmp_path / "m.npz", X)
    given = onlinegauss("fit", semicolons, "--delimiter", ";", "-o", tmp_path / "g.npz")
    assert given.returncode == 0 and "guessed" not in given.stderr
    assert_matches_batch(tmp_path / "g.npz", X)


def test_help_gives_every_default_and_a_sentence_per_option():
    text = onlinegauss("fit", "--help").stdout
    options = text.split("\noptions:\n", 1)[1]
    for option in ("--solver", "--learning-rate", "--eta0", "--parametrization", "--shrinkage"):
        block = options.split(f"\n  {option}", 1)[1].split("\n  -")[0]
        assert "(default:" in block and len(block.split()) > 8, block


def test_a_pandas_index_column_is_reported(tmp_path, wine):
    _, X, names = wine
    lines = ["," + ",".join(names)]
    lines += [f"{i}," + ",".join(map(repr, row)) for i, row in enumerate(X.tolist())]
    indexed = tmp_path / "indexed.csv"
    indexed.write_text("\n".join(lines) + "\n")
    result = onlinegauss("fit", indexed, "-q")
    assert result.returncode == 1 and "pandas index" in result.stderr
    chosen = onlinegauss("fit", indexed, "--columns", ",".join(names), "-q")
    assert chosen.returncode == 0, chosen.stderr


def test_a_typo_in_a_headerless_first_row_is_not_taken_for_a_header(tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text("1.5,abc,3\n1.0,2.0,3.0\n2.0,1.0,0.5\n")
    result = onlinegauss("fit", path, "-q")
    assert result.returncode == 1 and "mixes numbers and names" in result.stderr
    as_data = onlinegauss("fit", path, "--header", "no", "-q")
    assert as_data.returncode == 1 and "line 1: non-numeric value 'abc'" in as_data.stderr


def _one_clean_line(result, code, words):
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 or code == 2, result.stderr
    assert words in result.stderr, result.stderr


def test_a_byte_order_mark_is_not_part_of_the_data(tmp_path):
    numeric = tmp_path / "numeric.csv"
    numeric.write_text("100,200\n1,2\n3,5\n", encoding="utf-8-sig")
    result = onlinegauss("fit", numeric, "--json", "-q")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["n_samples_seen"] == 3 and summary["feature_names"] is None
    named = tmp_path / "named.csv"
    named.write_text("a,b\n1,2\n3,5\n4,4\n", encoding="utf-8-sig")
    result = onlinegauss("fit", named, "--columns", "a", "--json", "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["feature_names"] == ["a"]


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("huge.csv", "1,2\n1e200,3\n", "too large|overflow"),
        ("latin1.csv", None, "line 3: not UTF-8"),
        ("garbage.csv", None, "not"),
        ("long-field.csv", "a,b\n1," + "9" * 200_000 + "\n", "line 2"),
    ],
)
def test_bad_text_files_get_one_line(tmp_path, name, content, words):
    path = tmp_path / name
    if name == "latin1.csv":
        path.write_bytes("a,b\n1,2\n\xe9,4\n".encode("latin-1"))
    elif content is None:
        path.write_bytes(bytes(range(256)) * 50)
    else:
        path.write_text(content)
    result = onlinegauss("fit", path, "-q")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    import re

    assert re.search(words, result.stderr), result.stderr


@pytest.mark.parametrize("array", ["huge", "no columns"])
def test_bad_npy_files_get_one_line(tmp_path, array):
    data = np.ones((5, 2)) * (1e200 if array == "huge" else 1.0)
    np.save(tmp_path / "x.npy", data if array == "huge" else np.ones((5, 0)))
    result = onlinegauss("fit", tmp_path / "x.npy", "-q")
    _one_clean_line(result, 1, "as large as" if array == "huge" else "no columns")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--columns", ","], "names no column"),
        (["--chunk-size", "0"], "at least 1"),
        (["--chunk-size", "-5"], "at least 1"),
    ],
)
def test_bad_arguments_are_usage_errors(tmp_path, data, args, words):
    np.save(tmp_path / "x.npy", data)
    for command in (
        ["fit", tmp_path / "x.npy"],
        ["score", tmp_path / "m.npz", tmp_path / "x.npy"],
    ):
        result = onlinegauss(*command, *args)
        assert result.returncode == 2 and words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


# -- every kind of model -------------------------------------------------------------

COLOURS = np.array(["blue", "green", "red"])


@pytest.fixture
def labelled(tmp_path):
    """Three classes in 3-D, as a CSV with a header (text labels) and an .npy (0, 1, 2 last)."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 2400)
    X = rng.normal(size=(2400, 3)) + np.array([[0, 0, 0], [6, 0, 2], [0, 6, -2]])[y]
    write_csv(tmp_path / "k.csv", X, ["a", "b", "c", "colour"])
    lines = (tmp_path / "k.csv").read_text().splitlines()
    rows = [f"{line},{colour}" for line, colour in zip(lines[1:], COLOURS[y], strict=True)]
    (tmp_path / "k.csv").write_text("\n".join(["a,b,c,colour", *rows]) + "\n")
    np.save(tmp_path / "k.npy", np.column_stack([X, y]))
    return X, y


def _reference(kind, X, y, labels):
    """The estimator the command line's fit should give, fitted in this process."""
    from sklearn_onlinegauss import (
        OnlineEllipticEnvelope,
        OnlineGaussian,
        OnlineGaussianClassifier,
        OnlineGaussianMixture,
    )

    est = {
        "gaussian": lambda: OnlineGaussian(),
        "mixture": lambda: OnlineGaussianMixture(
            3, covariance_type="diag", init_size=500, random_state=0
        ),
        "classifier": lambda: OnlineGaussianClassifier(),
        "outlier": lambda: OnlineEllipticEnvelope(
            OnlineGaussian(learning_rate="constant", eta0=0.01),
            contamination=0.05,
        ),
    }[kind]()
    for start in range(0, len(X), 700):  # the command's chunks (--chunk-size 700)
        rows = slice(start, start + 700)
        if kind == "classifier":
            est.partial_fit(X[rows], labels[rows], classes=np.unique(labels))
        else:
            est.partial_fit(X[rows])
    return est


#: kind -> (fit options, score options, the expected columns: name -> read of the estimator)
KINDS = {
    "gaussian": (
        [],
        ["--mahalanobis"],
        {"log_likelihood": "score_samples", "mahalanobis": "mahalanobis"},
    ),
    "mixture": (
        ["--n-components", 3, "--covariance-type", "diag"]
        + ["--init-size", 500, "--random-state", 0],
        ["--predict", "--proba"],
        {"log_likelihood": "score_samples", "predict": "predict", "proba": "predict_proba"},
    ),
    "classifier": (
        [],
        ["--mahalanobis", "--proba", "--ood-score"],
        {
            "predict": "predict",
            "mahalanobis": "mahalanobis",
            "proba": "predict_proba",
            "ood_score": "ood_score",
        },
    ),
    "outlier": (
        ["--contamination", 0.05, "--learning-rate", "constant", "--eta0", 0.01],
        ["--mahalanobis", "--predict", "--decision"],
        {
            "log_likelihood": lambda est, X: est.estimator_.score_samples(X),
            "mahalanobis": "mahalanobis",
            "predict": "predict",
            "decision": "decision_function",
        },
    ),
}


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_fits_and_scores_as_in_python(tmp_path, labelled, kind, suffix):
    import csv

    X, y = labelled
    path, model = tmp_path / f"k{suffix}", tmp_path / "m.npz"
    fit_options, score_options, expected = KINDS[kind]
    features = ["--columns", "a,b,c" if suffix == ".csv" else "0,1,2"]
    if kind == "classifier":
        which = ["--target", "colour" if suffix == ".csv" else "-1"]
    else:
        which = features
    args = ("--model", kind, *fit_options, *which, "--chunk-size", 700, "--json", "-q")
    result = onlinegauss("fit", path, "-o", model, *args)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["kind"] == kind and summary["n_samples_seen"] == len(X)
    assert summary["feature_names"] == (["a", "b", "c"] if suffix == ".csv" else None)
    # Text labels from the CSV; from the .npy its numbers, whole: integers.
    labels = COLOURS[y] if suffix == ".csv" else y
    if kind == "classifier":
        assert summary["classes"] == np.unique(labels).tolist()
        assert summary["target"] == ("colour" if suffix == ".csv" else "3")
    est = _reference(kind, X, y, labels)
    # A model with named features takes them by name; an .npy's by position.
    scored = onlinegauss(
        "score", model, path, *score_options, *([] if suffix == ".csv" else features)
    )
    assert scored.returncode == 0, scored.stderr
    header, *rows = list(csv.reader(scored.stdout.splitlines()))
    assert len(rows) == len(X)
    table = np.array(rows, dtype=object)
    position = 0
    for name, read in expected.items():
        values = read(est, X) if callable(read) else getattr(est, read)(X)
        values = values.reshape(len(X), -1)
        width = values.shape[1]
        names = header[position : position + width]
        if width > 1:
            parts = est.classes_ if kind == "classifier" else range(width)
            assert names == [f"{name}_{p}" for p in parts]
        else:
            assert names == [name]
        got = table[:, position : position + width]
        if values.dtype.kind in "fc":
            np.testing.assert_allclose(got.astype(float), values, rtol=1e-12, atol=1e-300)
        else:
            assert (got == values.astype(str)).all(), name
        position += width
    assert position == len(header)


def test_the_mixture_is_repeatable_with_its_random_state(tmp_path, labelled):
    np.save(tmp_path / "x.npy", labelled[0])
    args = ("--model", "mixture", "--n-components", 3, "--random-state", 7, "--json", "-q")
    first, second = (onlinegauss("fit", tmp_path / "x.npy", *args) for _ in range(2))
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["means"] == json.loads(second.stdout)["means"]


def test_classes_on_standard_input_are_given(tmp_path, labelled):
    X, y = labelled
    text = (tmp_path / "k.csv").read_text()
    args = ("--model", "classifier", "--target", "colour", "-q", "--json")
    without = onlinegauss("fit", "-", *args, stdin=text)
    _one_clean_line(without, 2, "--classes")
    given = onlinegauss("fit", "-", *args, "--classes", "red,green,blue", stdin=text)
    assert given.returncode == 0, given.stderr
    assert json.loads(given.stdout)["classes"] == ["blue", "green", "red"]
    assert json.loads(given.stdout)["class_count"] == np.bincount(y).tolist()
    too_few = onlinegauss("fit", "-", *args, "--classes", "red,green", stdin=text)
    _one_clean_line(too_few, 1, "'blue'")


def in_process(capsys, *args):
    """``main(args)`` in this process: for refusals, which come before any row is read."""
    from sklearn_onlinegauss.cli import main

    code = main([str(a) for a in args])
    return subprocess.CompletedProcess(args, code, *capsys.readouterr())


@pytest.mark.parametrize(
    "kind, option, value",
    [
        ("gaussian", "--n-components", 3),
        ("gaussian", "--target", "colour"),
        ("gaussian", "--contamination", 0.1),
        ("mixture", "--solver", "sgd"),
        ("mixture", "--parametrization", "precision"),
        ("mixture", "--covariance", "shared"),
        ("classifier", "--init-size", 10),
        ("classifier", "--random-state", 0),
        ("classifier", "--threshold", "chi2"),
        ("outlier", "--classes", "a,b"),
        ("outlier", "--n-components", 2),
    ],
)
def test_an_option_of_another_kind_is_refused(tmp_path, capsys, labelled, kind, option, value):
    target = ["--target", "colour"] if kind == "classifier" else []
    result = in_process(capsys, "fit", tmp_path / "k.csv", "--model", kind, option, value, *target)
    _one_clean_line(result, 2, f"{option} is an option of --model")
    assert f"not of --model {kind}" in result.stderr


@pytest.mark.parametrize(
    "kind, option, value",
    [
        ("gaussian", "--covariance-type", "tied"),
        ("outlier", "--covariance-type", "tied"),
        ("classifier", "--covariance-type", "tied"),
        ("mixture", "--shrinkage", "ledoit-wolf"),
        ("mixture", "--batch-size", "auto"),
        ("mixture", "--learning-rate", "adaptive"),
    ],
)
def test_a_value_of_another_kind_is_refused(tmp_path, capsys, labelled, kind, option, value):
    target = ["--target", "colour"] if kind == "classifier" else []
    result = in_process(capsys, "fit", tmp_path / "k.csv", "--model", kind, option, value, *target)
    _one_clean_line(result, 2, f"{option} {value}: --model {kind} takes")


def test_the_classifier_needs_a_target_that_is_not_a_feature(tmp_path, capsys, labelled):
    path = tmp_path / "k.csv"
    _one_clean_line(in_process(capsys, "fit", path, "--model", "classifier"), 2, "--target")
    missing = in_process(capsys, "fit", path, "--model", "classifier", "--target", "shade")
    _one_clean_line(missing, 1, "no target column 'shade' (columns: a, b, c, colour")
    both = ("--target", "colour", "--columns", "a,colour")
    overlap = in_process(capsys, "fit", path, "--model", "classifier", *both)
    _one_clean_line(overlap, 2, "also among the features")
    outside = in_process(capsys, "fit", tmp_path / "k.npy", "--model", "classifier", "--target", 4)
    _one_clean_line(outside, 1, "no target column '4'")


@pytest.mark.parametrize(
    "kind, refused",
    [
        ("gaussian", ["--predict", "--proba", "--decision", "--ood-score"]),
        ("mixture", ["--mahalanobis", "--decision", "--ood-score"]),
        ("classifier", ["--decision"]),
        ("outlier", ["--proba", "--ood-score"]),
    ],
)
def test_a_read_the_kind_has_not_is_refused(tmp_path, capsys, labelled, kind, refused):
    from sklearn_onlinegauss import save_model

    X, y = labelled
    est = _reference(kind, X, y, y)
    save_model(est, tmp_path / "m.npz")
    np.save(tmp_path / "x.npy", X)
    for read in refused:
        result = in_process(capsys, "score", tmp_path / "m.npz", tmp_path / "x.npy", read)
        article = "an" if kind == "outlier" else "a"
        _one_clean_line(result, 2, f"{read} is not a read of {article} {kind} model")
        assert not result.stdout  # refused before any row is written


def test_a_model_of_another_kind_is_named(tmp_path, data):
    import joblib
    from sklearn.covariance import EllipticEnvelope

    np.save(tmp_path / "x.npy", data)
    joblib.dump(EllipticEnvelope().fit(data), tmp_path / "foreign.joblib")
    foreign = tmp_path / "foreign.joblib"
    result = onlinegauss("score", foreign, tmp_path / "x.npy", "--allow-pickle")
    _one_clean_line(result, 1, "holds an EllipticEnvelope, not a model of sklearn-onlinegauss")


# -- bad files and models: one line, never a traceback ---------------------------------


def test_score_refuses_values_too_large_as_fit_does(tmp_path, data):
    np.save(tmp_path / "x.npy", data)
    np.save(tmp_path / "huge.npy", np.full((5, 3), 1e200))
    assert onlinegauss("fit", tmp_path / "x.npy", "-q", "-o", tmp_path / "m.npz").returncode == 0
    for command in (["fit", tmp_path / "huge.npy", "-q"], ["score", tmp_path / "m.npz"]):
        if command[0] == "score":
            command.append(tmp_path / "huge.npy")
        _one_clean_line(onlinegauss(*command), 1, "as large as 1e+200")


def test_an_npz_archive_under_an_npy_name_is_named(tmp_path, capsys):
    with open(tmp_path / "x.npy", "wb") as file:
        np.savez(file, x=np.ones((5, 2)))
    result = in_process(capsys, "fit", tmp_path / "x.npy", "-q")
    _one_clean_line(result, 1, "an .npz archive of arrays, not one .npy array")


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_every_line_ending_is_read(tmp_path, capsys, data, ending):
    """Unix, Windows and old Mac OS files (a lone CR) give the same fit."""
    path = tmp_path / "x.csv"
    lines = ["a,b,c", *(",".join(repr(float(v)) for v in row) for row in data)]
    path.write_bytes(ending.join(lines).encode() + ending.encode())
    result = in_process(capsys, "fit", path, "--json", "-q", "--chunk-size", 700)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["feature_names"] == ["a", "b", "c"] and summary["n_samples_seen"] == 2500
    np.testing.assert_allclose(summary["covariance"], np.cov(data.T, bias=True), rtol=1e-10)


def test_a_model_whose_settings_are_not_its_arrays_is_refused(tmp_path, capsys, data):
    """The JSON says covariance_type='diag', the arrays are full covariances."""
    from test_persist import write

    np.save(tmp_path / "x.npy", data)
    model = tmp_path / "m.npz"
    assert in_process(capsys, "fit", tmp_path / "x.npy", "-q", "-o", model).returncode == 0
    with np.load(model) as archive:
        arrays = dict(archive)
    meta = json.loads(str(arrays.pop("meta.json")))
    meta["params"]["covariance_type"] = "diag"
    for record_too in (False, True):
        if record_too:  # the learned state's record of its settings says diag too
            for pair in meta["fitted"]["_structure_"]["tuple"]:
                if pair["tuple"][0] == "covariance_type":
                    pair["tuple"][1] = "diag"
        write(model, meta, arrays, checksum="resigned")
        result = in_process(capsys, "score", model, tmp_path / "x.npy")
        field = "_state.covariances: shape" if record_too else "_structure_: "
        _one_clean_line(result, 1, f"{model}: {field}")


def _tampered_cases():
    from test_persist import IDS, TAMPERED

    return pytest.mark.parametrize("case", range(len(TAMPERED)), ids=IDS)


@_tampered_cases()
def test_a_tampered_model_is_one_line_and_exit_1(tmp_path, capsys, case):
    from test_persist import tampered

    path, field, words = tampered(tmp_path, case)
    np.save(tmp_path / "x.npy", np.ones((4, 3)))
    result = in_process(capsys, "score", path, tmp_path / "x.npy")
    _one_clean_line(result, 1, f"{path}: {field}: ")
    assert words in result.stderr


# -- help, version, summary, progress and exit statuses ---------------------------------


def test_version_is_the_packages():
    import sklearn_onlinegauss

    result = onlinegauss("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"onlinegauss {sklearn_onlinegauss.__version__}"


def _option_blocks(text):
    """``{option: (choices, sentence)}`` of a --help text's options."""
    import re

    blocks = {}
    for block in re.split(r"\n  (?=-)", text.split("\nexit status:")[0])[1:]:
        head, _, rest = block.partition("\n")
        names = re.findall(r"--[a-z][a-z-]*", head)
        found = re.search(r"\{([^}]*)\}", head)
        sentence = " ".join(re.sub(r"\{[^}]*\}", "", head).split() + rest.split())
        blocks[names[0]] = (found.group(1).split(",") if found else [], sentence)
    return blocks


@pytest.mark.parametrize("command", ["fit", "score", "demo"])
def test_help_gives_one_true_default_and_describes_every_choice(command):
    import re

    blocks = _option_blocks(onlinegauss(command, "--help").stdout)
    assert blocks and "--help" in blocks
    for option, (choices, sentence) in blocks.items():
        assert sentence.count("(default:") <= 1, sentence
        assert "(default: None)" not in sentence and "(default: False)" not in sentence
        for choice in choices:
            if choice != "WEIGHT":
                assert re.search(rf"\b{re.escape(choice)}\b", sentence), (option, choice)


def test_help_offers_power_t_and_average_and_the_apis_batch_size():
    from sklearn_onlinegauss import OnlineGaussian

    blocks = _option_blocks(onlinegauss("fit", "--help").stdout)
    assert "--power-t" in blocks["--learning-rate"][1]
    assert f"(default: {OnlineGaussian().power_t})" in blocks["--power-t"][1]
    assert "(default: no)" in blocks["--average"][1]
    batch = blocks["--batch-size"][1]
    assert f"gaussian, classifier, outlier: {OnlineGaussian().batch_size}" in batch, batch


def test_power_t_average_and_batch_size_reach_the_estimator(tmp_path, capsys, data):
    from sklearn_onlinegauss import OnlineGaussian

    np.save(tmp_path / "x.npy", data)
    model = tmp_path / "m.npz"
    args = ("--learning-rate", "invscaling", "--eta0", 0.5, "--power-t", 0.7)
    result = in_process(capsys, "fit", tmp_path / "x.npy", *args, "--average", "yes", "-o", model)
    assert result.returncode == 0, result.stderr
    est = OnlineGaussian(learning_rate="invscaling", eta0=0.5, power_t=0.7, average=True)
    for start in range(0, len(data), 10_000):
        est.partial_fit(data[start : start + 10_000])
    saved = load_model(model)
    assert saved.get_params() == est.get_params() and saved.batch_size == "auto"
    np.testing.assert_allclose(saved.covariance_, est.covariance_, rtol=1e-12)
    weight = in_process(capsys, "fit", tmp_path / "x.npy", "--average", 100, "--json", "-q")
    assert json.loads(weight.stdout)["params"]["average"] == 100
    for bad in ("maybe", "0.5"):  # not an average; a weight the Gaussian refuses
        result = onlinegauss("fit", tmp_path / "x.npy", "--average", bad, "-q")
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr


def test_the_progress_line_scores_a_small_file_from_its_first_chunk(tmp_path, capsys, data):
    from sklearn_onlinegauss import OnlineGaussian

    path = write_csv(tmp_path / "x.csv", data)  # 2500 rows: one chunk of the default 10000
    result = in_process(capsys, "fit", path)
    assert result.returncode == 0, result.stderr
    assert "n/a" not in result.stderr
    import re

    found = re.search(r"mean log-likelihood (\S+) \(prequential, 1250 rows\)", result.stderr)
    assert found, result.stderr
    # The second half read by a model of the first half, before the fit learns it.
    expected = OnlineGaussian().fit(data[:1250]).score_samples(data[1250:]).mean()
    assert abs(float(found.group(1)) - expected) <= 5e-4 * abs(expected)  # 4 digits shown
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("1,2\n3,5\n4,4\n2,2\n")  # half of it determines no covariance
    result = in_process(capsys, "fit", tiny)
    assert result.returncode == 0, result.stderr
    assert "log-likelihood" not in result.stderr and "n/a" not in result.stderr
    assert "4 rows," in result.stderr
    refused = in_process(capsys, "fit", tiny, "--columns", "7")  # before any row: no progress
    _one_clean_line(refused, 1, "no column '7' (columns: 0 to 1)")


def test_fit_prints_a_summary_and_the_matrices_only_when_asked(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 30)) * np.geomspace(0.1, 10, 30)
    names = [f"f{i}" for i in range(30)]
    path, model = write_csv(tmp_path / "wide.csv", X, names), tmp_path / "m.npz"
    result = in_process(capsys, "fit", path, "-q", "-o", model)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) <= 6, result.stdout  # not the 30 x 30 matrix
    assert lines[0] == f"fitted 500 rows of 30 features; model saved to {model}"
    assert "features: f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, ... and 20 more" in lines
    covariance = load_model(model).covariance_
    eigenvalues = np.linalg.eigvalsh(covariance)
    assert f"condition number {eigenvalues[-1] / eigenvalues[0]:.4g}" in result.stdout
    variances = np.diag(covariance)
    low, high = int(np.argmin(variances)), int(np.argmax(variances))
    assert f"smallest {variances[low]:.4g} (f{low})" in result.stdout
    assert f"largest {variances[high]:.4g} (f{high})" in result.stdout
    shown = in_process(capsys, "fit", path, "-q", "--show")
    assert len(shown.stdout.splitlines()) > 30 and "covariance:\n[[" in shown.stdout


def test_every_kind_prints_its_summary(tmp_path, capsys, labelled):
    X, y = labelled
    args = {
        "mixture": ["--n-components", 3, "--random-state", 0, "--columns", "a,b,c"],
        "classifier": ["--target", "colour"],
        "outlier": ["--columns", "a,b,c"],
    }
    words = {
        "mixture": ["weights: ", "largest condition number", "(component "],
        "classifier": ["classes (rows): blue (", "largest condition number", "(class "],
        "outlier": ["offset: ", "covariance: condition number"],
    }
    for kind, options in args.items():
        result = in_process(capsys, "fit", tmp_path / "k.csv", "--model", kind, *options, "-q")
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) <= 6, result.stdout
        for word in [f"fitted {len(X)} rows of 3 features", "variances: smallest", *words[kind]]:
            assert word in result.stdout, (kind, result.stdout)


@pytest.fixture
def wide(tmp_path):
    """A model of 64 named features (as digits has) and the file it was fitted on."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 64))
    names = [f"pixel_{i}" for i in range(64)]
    path, model = write_csv(tmp_path / "wide.csv", X, names), tmp_path / "m.npz"
    assert onlinegauss("fit", path, "-q", "-o", model).returncode == 0
    return path, model, X, names


def test_a_failed_score_writes_nothing(tmp_path, wide):
    path, model, X, names = wide
    missing = write_csv(tmp_path / "missing.csv", X[:, 1:], names[1:])
    result = onlinegauss("score", model, missing)
    _one_clean_line(result, 1, "no column for the model's feature(s) 'pixel_0'")
    assert result.stdout == ""  # > scores.csv leaves an empty file, not a header
    bad = write_csv(tmp_path / "bad.csv", X, names)
    lines = bad.read_text().splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[3], "x", 1)
    bad.write_text("\n".join(lines) + "\n")
    result = onlinegauss("score", model, bad)
    _one_clean_line(result, 1, "line 6: non-numeric value 'x'")
    assert result.stdout == ""
    # A bad row after the first chunk: what came before is written, and the status says so.
    later = onlinegauss("score", model, bad, "--chunk-size", 2)
    _one_clean_line(later, 1, "line 6: non-numeric value 'x'")
    assert later.stdout.splitlines()[0] == "log_likelihood"
    assert len(later.stdout.splitlines()) == 1 + 4  # the chunks of lines 2-3 and 4-5
    assert "exit status 1" in onlinegauss("score", "--help").stdout


def test_long_column_lists_are_cut_with_a_count(tmp_path, capsys, wide):
    path, model, X, names = wide
    result = in_process(capsys, "fit", path, "--columns", "pixel_99", "-q")
    _one_clean_line(result, 1, "no column 'pixel_99' (columns: pixel_0, pixel_1,")
    assert "pixel_9, ... and 54 more)" in result.stderr and "pixel_10" not in result.stderr
    headerless = write_csv(tmp_path / "headerless.csv", X)
    result = in_process(capsys, "score", model, headerless)
    _one_clean_line(result, 1, "pixel_9, ... and 54 more), and this file has no header")


@pytest.mark.parametrize("command", [[], ["fit"], ["score"], ["demo"]])
def test_help_documents_the_exit_statuses(command):
    text = onlinegauss(*command, "--help").stdout
    assert "\nexit status:\n" in text
    assert "  1    bad data:" in text and "  2    bad usage:" in text


def test_the_same_error_has_the_same_status_wherever_it_is_found(tmp_path, capsys, wide):
    """A column the file lacks is bad data (1), named by --columns or by the model."""
    path, model, X, names = wide
    short = write_csv(tmp_path / "short.csv", X[:, :10], names[:10])
    by_option = in_process(capsys, "score", model, short, "--columns", "pixel_40")
    by_model = in_process(capsys, "score", model, short)
    by_fit = in_process(capsys, "fit", short, "--columns", "pixel_40", "-q")
    assert by_option.returncode == by_model.returncode == by_fit.returncode == 1
    # An option the kind has not is bad usage (2), in fit as in score.
    wrong_fit = in_process(capsys, "fit", path, "--n-components", 2, "-q")
    wrong_score = in_process(capsys, "score", model, path, "--proba")
    assert wrong_fit.returncode == wrong_score.returncode == 2
