"""The SIP layers' shared heap of deadlines with lazy deletion (hotline/voice/sip/deadlines.py)."""

from __future__ import annotations

from hotline.voice.sip.deadlines import Deadlines


def test_due_entries_come_earliest_first_and_stale_ones_are_skipped() -> None:
    current = {"a": 3.0, "b": 1.0, "c": 2.0}
    heap: Deadlines[str] = Deadlines(lambda when, name: current.get(name) == when)
    for name, when in current.items():
        heap.push(when, name)
    current["c"] = 5.0  # set again: the entry at 2.0 is stale
    heap.push(5.0, "c")
    del current["a"]  # cancelled
    assert heap.next_deadline() == 1.0
    assert list(heap.due(4.0)) == [(1.0, "b")]
    assert heap.next_deadline() == 5.0
    assert list(heap.due(4.9)) == []
    assert list(heap.due(5.0)) == [(5.0, "c")]
    assert heap.next_deadline() is None and len(heap) == 0


def test_a_deadline_pushed_while_handling_one_is_seen_in_the_same_pass_when_due() -> None:
    heap: Deadlines[str] = Deadlines(lambda when, name: True)
    heap.push(1.0, "first")
    seen = []
    for when, name in heap.due(2.0):
        seen.append((when, name))
        if name == "first":
            heap.push(1.5, "again")
            heap.push(9.0, "later")
    assert seen == [(1.0, "first"), (1.5, "again")]
    assert heap.next_deadline() == 9.0


def test_next_deadline_looks_at_the_top_only_and_compact_drops_every_stale_entry() -> None:
    looked = 0
    live_from = 150

    def live(when: float, n: int) -> bool:
        nonlocal looked
        looked += 1
        return n >= live_from

    heap: Deadlines[int] = Deadlines(live)
    for n in range(300):
        heap.push(float(n), n)
    assert heap.next_deadline() == 150.0  # the 150 stale entries on top dropped once
    looked = 0
    for _ in range(100):
        assert heap.next_deadline() == 150.0
    assert looked == 100
    live_from = 290
    heap.compact()
    assert len(heap) == 10 and heap.next_deadline() == 290.0


def test_equal_deadlines_never_compare_their_items() -> None:
    class Opaque:  # no ordering: a tie must be broken by the push order
        pass

    first, second = Opaque(), Opaque()
    heap: Deadlines[Opaque] = Deadlines(lambda when, item: True)
    heap.push(1.0, first)
    heap.push(1.0, second)
    assert [item for _, item in heap.due(1.0)] == [first, second]
