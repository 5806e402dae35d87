"""``onlinegauss fit`` of a big CSV end to end, next to scripts that stream the same file.

    python benchmarks/cli_read.py                      # this tree only
    git worktree add /tmp/oldcli <commit>
    python benchmarks/cli_read.py --old /tmp/oldcli    # and that commit's command line

Writes a 500,000 x 20 CSV (with a header), the same rows as Parquet and as an
``.npy`` array in a temporary directory, then runs each way of fitting one
``OnlineGaussian`` on them in a fresh process, in turns (so that a slow spell
of a shared machine hits all alike), best of ``--repeats``:

- ``onlinegauss fit`` of the CSV, with its progress line (as a user runs it;
  each chunk is also scored before it is learned) and with ``-q``;
- a script that reads it with ``pyarrow.csv.open_csv`` and calls
  ``partial_fit`` on each record batch;
- a script that reads it with pandas ``read_csv(chunksize=10000)`` and calls
  ``partial_fit`` on each chunk;
- ``onlinegauss fit -q`` of the Parquet file and of the ``.npy`` array;
- with ``--old``, that tree's ``onlinegauss fit`` of the CSV (its package put
  first on ``PYTHONPATH``).

Every time is of the whole process (the imports included), wall-clock and CPU
(user + system, of the process and its threads); the table gives rows per
second of wall-clock time and ratios to this tree's ``onlinegauss fit`` of the
CSV. The load average is printed before and after: on a machine others share,
compare the ratios, and the CPU seconds.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ARROW_SCRIPT = """
import sys
import numpy as np
from pyarrow import csv
from sklearn_onlinegauss import OnlineGaussian

est = OnlineGaussian()
for batch in csv.open_csv(sys.argv[1]):
    est.partial_fit(np.column_stack([column.to_numpy() for column in batch.columns]))
assert est.n_samples_seen_ == int(sys.argv[2])
"""

PANDAS_SCRIPT = """
import sys
import pandas as pd
from sklearn_onlinegauss import OnlineGaussian

est = OnlineGaussian()
for chunk in pd.read_csv(sys.argv[1], chunksize=10000):
    est.partial_fit(chunk.to_numpy())
assert est.n_samples_seen_ == int(sys.argv[2])
"""


def write_files(folder, n_rows, n_features):
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, n_features)) @ rng.normal(size=(n_features, n_features))
    table = pa.table({f"x{j}": X[:, j] for j in range(n_features)})
    paths = {"csv": folder / "x.csv", "parquet": folder / "x.parquet", "npy": folder / "x.npy"}
    pa_csv.write_csv(table, paths["csv"])
    pq.write_table(table, paths["parquet"])
    np.save(paths["npy"], X)
    return paths


def cases(paths, n_rows, old):
    cli = [sys.executable, "-m", "sklearn_onlinegauss", "fit"]
    rows = str(n_rows)
    found = {
        "onlinegauss fit x.csv": (cli + [paths["csv"]], None),
        "onlinegauss fit -q x.csv": (cli + [paths["csv"], "-q"], None),
        "pyarrow open_csv + partial_fit": (
            [sys.executable, "-c", ARROW_SCRIPT, paths["csv"], rows],
            None,
        ),
        "pandas read_csv(chunksize) + partial_fit": (
            [sys.executable, "-c", PANDAS_SCRIPT, paths["csv"], rows],
            None,
        ),
        "onlinegauss fit -q x.parquet": (cli + [paths["parquet"], "-q"], None),
        "onlinegauss fit -q x.npy": (cli + [paths["npy"], "-q"], None),
    }
    if old is not None:
        env = dict(os.environ, PYTHONPATH=str(Path(old).resolve()))
        where = subprocess.run(
            [sys.executable, "-c", "import sklearn_onlinegauss as m; print(m.__file__)"],
            env=env,
            cwd=paths["csv"].parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if not Path(where.strip()).resolve().is_relative_to(Path(old).resolve()):
            sys.exit(f"--old {old}: its package is not the one imported ({where.strip()})")
        found["old onlinegauss fit x.csv"] = (cli + [paths["csv"]], env)
        found["old onlinegauss fit -q x.csv"] = (cli + [paths["csv"], "-q"], env)
    return found


def timed(command, env, folder):
    """(wall-clock s, CPU s) of one run of ``command`` to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [str(part) for part in command],
        env=env,
        cwd=folder,  # not this tree's root, which Python would import from
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def load():
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", help="a source tree whose command line is timed too")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = write_files(Path(folder), args.rows, args.features)
        size = paths["csv"].stat().st_size / 1e6
        print(f"{args.rows:,} x {args.features} ({size:.0f} MB of CSV); {load()}")
        runs = cases(paths, args.rows, args.old)
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, (command, env) in runs.items():
                times[name].append(timed(command, env, folder))
    print(f"after: {load()}; {os.cpu_count()} CPUs")
    best = {name: (min(w for w, _ in t), min(c for _, c in t)) for name, t in times.items()}
    ours = best["onlinegauss fit x.csv"][0]
    print(f"\n{'':42} {'wall s':>7} {'CPU s':>7} {'rows/s':>10} {'vs fit x.csv':>13}")
    for name, (wall, cpu) in best.items():
        rate = args.rows / wall
        print(f"{name:42} {wall:7.2f} {cpu:7.2f} {rate:10,.0f} {ours / wall:12.2f}x")

    pairs = [
        ("onlinegauss fit x.csv", "old onlinegauss fit x.csv"),
        ("onlinegauss fit -q x.csv", "old onlinegauss fit -q x.csv"),
        ("onlinegauss fit -q x.csv", "pyarrow open_csv + partial_fit"),
        ("onlinegauss fit -q x.csv", "pandas read_csv(chunksize) + partial_fit"),
        ("onlinegauss fit -q x.parquet", "onlinegauss fit -q x.npy"),
    ]
    print("\nrows/s ratios (wall-clock; CPU in brackets):")
    for a, b in pairs:
        if a in best and b in best:
            wall, cpu = best[b][0] / best[a][0], best[b][1] / best[a][1]
            print(f"  {a} over {b}: {wall:.2f}x ({cpu:.2f}x)")


if __name__ == "__main__":
    main()
