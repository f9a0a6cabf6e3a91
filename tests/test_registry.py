"""The shared registry helper: registration, case-insensitive lookup, patterns, did-you-mean."""

from __future__ import annotations

import pytest

from kerascv_course.utils.registry import Registry


def test_lookup_is_case_insensitive_and_lists_sorted():
    reg = Registry("colour")
    reg.register("red", 1)
    reg.register("blue", 2)
    assert reg.get("RED") == 1
    assert reg.names() == ["blue", "red"]
    assert reg.names("r*") == ["red"]
    assert reg.names(where=lambda v: v > 1) == ["blue"]
    assert "Blue" in reg and "green" not in reg


def test_unknown_name_suggests_close_matches_and_lists_known():
    reg = Registry("colour", argument="paint")
    reg.register("red", 1)
    with pytest.raises(ValueError, match=r"Unknown colour 'rde'\. Did you mean: red\? Known colours: red\. Received: paint='rde'"):
        reg.get("rde")
    with pytest.raises(TypeError, match="must be a string"):
        reg.get(3)


def test_duplicates_and_bad_names_are_refused():
    reg = Registry("colour")
    reg.register("red", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("red", 2)
    with pytest.raises(ValueError, match="lower-case"):
        reg.register("Red", 2)


def test_populate_runs_once_on_first_use():
    calls = []
    reg: Registry[int] = Registry("colour", populate=lambda: (calls.append(1), reg.register("red", 1)))
    assert calls == []
    assert reg.names() == ["red"]
    assert reg.get("red") == 1
    assert calls == [1]


def test_shared_checks_name_the_argument_and_what_arrived():
    from kerascv_course.utils.checks import check_choice, check_number, check_positive_int

    assert check_number("rate", 0.5, low=0, high=1) == 0.5
    with pytest.raises(ValueError, match=r"^vgg16: `dropout` must be a number >= 0 and <= 1\. Received: dropout=1\.5$"):
        check_number("dropout", 1.5, low=0, high=1, where="vgg16")
    with pytest.raises(ValueError, match=r"an integer >= 1 or None\. Received: epochs=True"):
        check_positive_int("epochs", True, optional=True)
    with pytest.raises(ValueError, match=r"`mode` must be one of 'a', 'b'\. Received: mode='c'"):
        check_choice("mode", "c", ("a", "b"))
    with pytest.raises(ValueError, match="Received: lr=nan"):
        check_number("lr", float("nan"), low=0, low_open=True)
