"""The ``slow`` marker, kept in one place: ``python -m pytest -m "not slow"`` is the quick subset.

A test is slow when it takes seconds on a quiet 2-core machine (measured with
``python -m pytest --durations=40``): the command-line tests start a Python
process each, others run long streams or scikit-learn's estimator checks.
"""

import pytest

#: file -> names of its slow tests (every parametrization), or ``"*"``: the whole file.
SLOW = {
    "test_cli.py": "*",
    "test_mixture.py": {
        "test_two_passes_in_batches_of_100_recover_gaussian_mixture",
        "test_digits_held_out_likelihood_reaches_batch_em",
        "test_one_component_is_online_gaussian",
        "test_weights_are_relative",
    },
    "test_convergence.py": {
        "test_motivating_case_converges_one_sample_at_a_time",
        "test_riemannian_one_row_at_a_time_is_efficient",
        "test_no_stuck_runs_one_row_at_a_time",
        "test_whitened_euclidean_solvers_are_nearly_efficient_at_any_condition",
        "test_riemannian_is_as_efficient_as_the_batch_mle_at_any_condition",
        "test_natural_invscaling_with_averaging_is_nearly_efficient",
    },
}


def pytest_collection_modifyitems(config, items):
    named = {}
    for item in items:
        file, name = item.path.name, getattr(item, "originalname", item.name)
        slow = SLOW.get(file, ())
        if slow == "*" or name in slow:
            item.add_marker(pytest.mark.slow)
            named.setdefault(file, set()).add(name)
    collected = {item.path.name for item in items}
    for file, names in SLOW.items():
        missing = set() if names == "*" else set(names) - named.get(file, set())
        if file in collected and missing and not config.option.keyword:
            raise pytest.UsageError(
                f"tests/conftest.py marks as slow tests {file} no longer has: {sorted(missing)}"
            )
