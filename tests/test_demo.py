"""The demo's figure: every panel and labelled curve there, from the first sample."""

import numpy as np
import pytest

from sklearn_onlinegauss.cli import demo
from sklearn_onlinegauss.cli.readers import UsageError

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def results():
    return demo.experiments(n_samples=300, n_scale=3000, out=lambda *lines: None)


def _labelled(ax):
    return {line.get_label(): line for line in ax.get_lines() if not line.get_label()[0] == "_"}


def test_mean_and_variance_panels_draw_every_curve_from_its_first_value(results):
    paths = results[0]
    fig = demo.make_figure(*results)
    by_ylabel = {ax.get_ylabel(): ax for ax in fig.axes}
    textbook = [f"textbook update, start variance {v:g}" for v in demo.START_VARIANCES]
    assert set(paths) == set(textbook) | set(demo.SOLVERS)
    for column, ylabel in enumerate(("estimated mean", "estimated variance")):
        lines = _labelled(by_ylabel[ylabel])
        assert set(lines) == set(paths)
        for label, line in lines.items():
            x, y = line.get_xdata(), line.get_ydata()
            # The textbook update from its start (sample 0), the library from
            # its first sample: nothing before it is left out.
            assert x[0] == (0 if label in textbook else 1)
            assert np.array_equal(y, paths[label][:, column], equal_nan=True)
            ax = line.axes
            assert ax.get_xlim()[0] < x[0] and ax.get_ylim()[0] < y[0] < ax.get_ylim()[1]
            circles = [
                c
                for c in ax.get_lines()
                if c.get_marker() == "o" and c.get_color() == line.get_color()
            ]
            assert [(c.get_xdata()[0], c.get_ydata()[0]) for c in circles] == [(x[0], y[0])]
    starts = _labelled(by_ylabel["estimated variance"])
    for label, v in zip(textbook, demo.START_VARIANCES, strict=True):
        assert starts[label].get_ydata()[0] == v
    assert starts[demo.DEFAULT].get_ydata()[0] == pytest.approx(1e-6)  # reg_covar's fill-in
    kl = next(ax for ax in fig.axes if ax.get_ylabel() == "KL(true || estimate)")
    assert set(_labelled(kl)) == set(results[2])


def test_printed_path_is_the_file_written(tmp_path):
    printed = []
    written = demo.run(
        tmp_path / "out" / "demo_out", n_samples=50, n_scale=1000, out=printed.append
    )
    assert written == tmp_path / "out" / "demo_out.png" and written.is_file()
    assert printed[-1].strip() == f"figure saved to {written}"


def test_an_unwritable_suffix_is_refused_before_the_experiments(tmp_path):
    printed = []
    with pytest.raises(UsageError, match=r"cannot write '\.xyz' figures"):
        demo.run(tmp_path / "demo.xyz", out=printed.append)
    assert printed == [] and not list(tmp_path.iterdir())
