import pytest

from sklearn_onlinegauss._schedules import SCHEDULES


@pytest.mark.parametrize(
    "name, t, expected",
    [
        ("optimal", 1.0, 1.0),
        ("optimal", 250.0, 1 / 250),
        ("constant", 7.0, 0.03),
        ("adaptive", 7.0, 0.03),
        ("invscaling", 16.0, 0.03 / 16**0.5),
    ],
)
def test_schedule_values(name, t, expected):
    assert SCHEDULES[name](t, eta0=0.03, power_t=0.5) == pytest.approx(expected)
