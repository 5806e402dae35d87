"""The README's Python example runs as written, and says what it has to say once."""

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from sklearn_onlinegauss import OnlineGaussian

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.skipif(not README.exists(), reason="README.md not shipped next to the tests")
def test_readme_quick_start_runs_with_at_most_one_warning(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # what a user sees: each warning once per place
        for code in blocks:
            exec(compile(code, str(README), "exec"), {})
    assert "eta0" in capsys.readouterr().out
    assert len(caught) <= 1, [str(w.message) for w in caught]


GRID_SEARCH = """
import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn_onlinegauss import OnlineGaussian

X = np.random.default_rng(0).normal(size=(600, 4)) * [1, 10, 0.1, 1]
GridSearchCV(
    OnlineGaussian(solver="sgd", batch_size=10, max_iter=1, tol=None),
    {"learning_rate": ["constant", "invscaling"], "eta0": np.logspace(-4, 0, 18)},
    cv=3,
).fit(X)
"""


def test_a_grid_search_of_36_euclidean_candidates_warns_once():
    # A fresh process, as a user runs it: the large rates shrink steps, said once
    # although scikit-learn resets the warning filters around every fit.
    result = subprocess.run(
        [sys.executable, "-c", GRID_SEARCH], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("ShrunkStepWarning") == 1, result.stderr


def test_the_shrunk_step_warning_is_one_per_call_with_the_same_text():
    X = np.random.default_rng(1).normal(size=(200, 3)) * 100
    est = OnlineGaussian(solver="sgd", learning_rate="constant", eta0=1.0, batch_size=1)
    messages = []
    for chunk in np.array_split(X, 4):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.partial_fit(chunk)
        assert len(caught) <= 1
        messages += [str(w.message) for w in caught]
    assert len(messages) >= 2 and len(set(messages)) == 1
    assert est.n_steps_shrunk_ > len(messages)


def test_no_example_silences_warnings():
    # Examples may record a warning to report it; none switches warnings off.
    examples = Path(__file__).resolve().parents[1] / "examples"
    for path in sorted(examples.glob("*.py")):
        text = path.read_text()
        assert not re.search(r"(simplefilter|filterwarnings)\(\s*[\"']ignore", text), path.name
