import numpy as np
import pytest

from sklearn_onlinegauss._schedules import SCHEDULES, Rate

SETTINGS = [
    ("optimal", 0.01, 0.5),
    ("constant", 0.1, 0.5),
    ("adaptive", 0.3, 0.5),
    ("invscaling", 0.5, 0.6),
    ("invscaling", 1.0, 1.0),
    ("invscaling", 2.0, 1.5),
    ("invscaling", 0.5, 0.0),
]


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
def test_per_sample_rates(name, t, expected):
    assert SCHEDULES[name].rate(t, eta0=0.03, power_t=0.5) == pytest.approx(expected)


def test_a_huge_power_t_underflows_to_a_zero_rate_instead_of_overflowing():
    assert SCHEDULES["invscaling"].rate(1e6, eta0=0.5, power_t=500) == 0.0


def _one_unit_at_a_time(rate, t, weights):
    """Shares of rows of integer ``weights`` fed as that many unit rows, one at a time."""
    shares, kept = np.zeros(len(weights)), 1.0
    for i in np.repeat(np.arange(len(weights)), weights.astype(int)):
        share, retain = rate.pooling(t, None, 1)
        shares *= retain
        kept *= retain
        shares[i] += np.ravel(share)[0]
        t += 1
    return shares, kept


@pytest.mark.parametrize("name, eta0, power_t", SETTINGS)
@pytest.mark.parametrize("t", [0.0, 5.0, 1e9])
def test_integer_weights_pool_like_repeated_unit_rows(name, eta0, power_t, t):
    rate = Rate(name, eta0, power_t)
    weights = np.array([1.0, 2.0, 0.0, 3.0, 1.0])
    shares, kept = rate.pooling(t, weights, len(weights))
    expected_shares, expected_kept = _one_unit_at_a_time(rate, t, weights)
    np.testing.assert_allclose(shares, expected_shares, rtol=1e-12)
    assert kept == pytest.approx(expected_kept, rel=1e-12, abs=1e-300)
    assert kept + shares.sum() == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("name, eta0, power_t", SETTINGS)
def test_the_first_row_of_a_fresh_estimate_takes_all_of_it(name, eta0, power_t):
    shares, kept = Rate(name, eta0, power_t).pooling(0.0, np.array([0.0, 2.5, 1.0]), 3)
    assert kept == 0.0 and shares[0] == 0.0
    assert shares[1] == pytest.approx(1.0 - shares[2])


def test_one_row_rates():
    # constant: eta0; optimal: w / t; invscaling: 1 - exp(-eta0 * integral of s**-p)
    assert Rate("constant", 0.1, 0.5).pooling(3.0, None, 1)[1] == pytest.approx(0.9)
    assert Rate("optimal", 0.1, 0.5).pooling(3.0, None, 1)[1] == pytest.approx(0.75)
    kept = Rate("invscaling", 0.5, 0.5).pooling(3.0, np.array([2.0]), 1)[1]
    assert kept == pytest.approx(np.exp(-0.5 * 2 * (5**0.5 - 3**0.5)))
    # power_t = 1 and eta0 = 1 is exactly 'optimal'
    assert Rate("invscaling", 1.0, 1.0).pooling(3.0, None, 1)[1] == pytest.approx(0.75)
