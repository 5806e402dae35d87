"""The README's Python example runs as written."""

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.skipif(not README.exists(), reason="README.md not shipped next to the tests")
def test_readme_quick_start_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the Euclidean grid may shrink steps
        for code in blocks:
            exec(compile(code, str(README), "exec"), {})
    assert "eta0" in capsys.readouterr().out
