"""Operations far slower than the rest get a chart of their own, so each chart's axis
fits its bars (issue 20, "Charts"): the split rule on its boundary cases."""

from __future__ import annotations

from harness.report.view.scale import split_long


def names(values: dict[str, float], factor: float = 10.0) -> tuple[list[str], list[str]]:
    return split_long(list(values), values.__getitem__, factor)


def test_an_operation_exactly_ten_times_the_others_median_stays_on_the_chart() -> None:
    assert names({"a": 1.0, "b": 1.0, "c": 10.0}) == (["a", "b", "c"], [])


def test_an_operation_just_over_ten_times_the_others_median_gets_its_own_chart() -> None:
    assert names({"a": 1.0, "b": 1.0, "c": 10.001}) == (["a", "b"], ["c"])


def test_each_is_judged_against_the_median_of_the_others_so_two_long_ones_both_go() -> None:
    values = {"up": 2.0, "down": 1.8, "head": 1.7, "mig": 4200.0, "mig1": 5100.0}
    assert names(values) == (["up", "down", "head"], ["mig", "mig1"])


def test_nothing_to_split_with_one_operation_or_none() -> None:
    assert names({"only": 5000.0}) == (["only"], [])
    assert names({}) == ([], [])


def test_a_short_operation_among_long_ones_is_not_what_moves() -> None:
    """Only operations far above the rest move; one fast bar among slow ones stays."""
    assert names({"fast": 1.0, "b": 100.0, "c": 100.0, "d": 100.0}) == (
        ["fast", "b", "c", "d"],
        [],
    )


def test_order_is_kept_on_both_charts() -> None:
    values = {"x": 900.0, "a": 1.0, "y": 800.0, "b": 2.0, "c": 1.5, "d": 1.0}
    assert names(values) == (["a", "b", "c", "d"], ["x", "y"])


def test_a_middling_operation_stays_when_the_long_chart_would_flatten_it() -> None:
    """A real run: List 100 blobs (65 ms) is over 10x the 2-3 ms operations but 95x below
    the 6 s migration; on the long chart it would be a flat bar, so it stays."""
    values = {"head": 1.9, "up": 2.6, "del": 2.5, "down": 3.7, "list": 65.1, "mig": 6190.0}
    assert names(values) == (["head", "up", "del", "down", "list"], ["mig"])


def test_a_long_operation_exactly_ten_times_below_the_longest_still_goes() -> None:
    values = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0, "mid": 100.0, "top": 1000.0}
    assert names(values) == (["a", "b", "c", "d"], ["mid", "top"])
    values["mid"] = 99.99
    assert names(values) == (["a", "b", "c", "d", "mid"], ["top"])
