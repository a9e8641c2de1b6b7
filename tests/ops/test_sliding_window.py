"""The rate limit's arithmetic alone (``ops.shared_state.window``), with no store: window 11
of a minute starts at 660 s; the limit is four a minute."""

import pytest

from ops.shared_state.window import refusal

MINUTE, LIMIT, WINDOW, START = 60, 4, 11, 660.0


def wait(previous, current, now):
    return refusal(previous, current, WINDOW, MINUTE, LIMIT, now)


def test_a_request_under_the_limit_fits():
    assert wait(0, 3, START + 1) is None


def test_a_full_window_waits_until_its_count_weighs_less_in_the_next():
    # Four now: in the next window they weigh three once a quarter of it has passed.
    assert wait(0, 4, START + 10) == pytest.approx(MINUTE - 10 + MINUTE / 4)


def test_the_previous_window_weighs_as_much_as_it_still_overlaps():
    halfway = START + MINUTE / 2
    assert wait(4, 1, halfway) is None  # 4 x 0.5 + 1 + 1 = 4
    # 4 x 0.5 + 2 + 1 = 5: one more fits when the previous four weigh one, at three quarters.
    assert wait(4, 2, halfway) == pytest.approx(MINUTE / 4)


def test_a_rate_of_zero_waits_a_whole_period():
    assert refusal(0, 0, WINDOW, MINUTE, 0, START) == float(MINUTE)
