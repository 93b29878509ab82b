import pytest

from hotline.triage.labels import rolled_up_labels

PARENTS = {"1": None, "11": "1", "111": "11", "112": "11", "12": "1", "121": "12", "2": None}


def test_categories_with_enough_examples_keep_their_label() -> None:
    labels = ["111"] * 3 + ["112"] * 3
    assert rolled_up_labels(labels, PARENTS, min_examples=3) == {"111": "111", "112": "112"}


def test_thin_leaves_pool_into_the_parent() -> None:
    labels = ["111"] * 5 + ["112"] * 2 + ["11"] * 1 + ["121"] * 1 + ["12"] * 2
    target = rolled_up_labels(labels, PARENTS, min_examples=3)
    assert target["111"] == "111"
    # 112 alone (2) is too thin; with the parent's own order, 11 has 3.
    assert target["112"] == "11" and target["11"] == "11"
    assert target["121"] == "12" and target["12"] == "12"


def test_a_thin_parent_does_not_keep_its_thin_children() -> None:
    # 112 (2) joins 11 (2 in all), still too thin, and the top level has only those 2.
    target = rolled_up_labels(["111"] * 5 + ["112"] * 2, PARENTS, min_examples=3)
    assert target == {"111": "111", "112": None}


def test_labels_too_thin_even_at_the_top_are_dropped() -> None:
    target = rolled_up_labels(["111", "112", "2"], PARENTS, min_examples=3)
    assert target == {"111": None, "112": None, "2": None}


def test_a_grandchild_reaches_the_top_through_a_thin_parent() -> None:
    target = rolled_up_labels(["111"] * 2 + ["121"], PARENTS, min_examples=3)
    assert target == {"111": "1", "121": "1"}


def test_min_examples_must_be_positive() -> None:
    with pytest.raises(ValueError):
        rolled_up_labels(["1"], PARENTS, min_examples=0)
