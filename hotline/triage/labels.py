"""Which catalogue level the classifier learns, from how many examples each category has.

The catalogue has three levels and agents file most orders under a leaf. A leaf with only a
handful of past orders cannot be learnt; rather than dropping those orders, their label moves up
to the parent category, which pools the examples of its thin children. Pure functions: the
caller reads the history from the database and passes plain values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping


def rolled_up_labels(
    labels: Iterable[str], parents: Mapping[str, str | None], *, min_examples: int
) -> dict[str, str | None]:
    """For each category code seen in ``labels``, the code the classifier should learn instead
    (itself, an ancestor, or None when even the top level has fewer than ``min_examples``).

    ``parents`` maps each code to its parent's code (None at the top). A category keeps its own
    label when it has at least ``min_examples``; otherwise its examples join its parent's pool,
    and the parent is judged on its own examples plus every thin descendant's.
    """
    if min_examples < 1:
        raise ValueError("min_examples must be at least 1")
    counts = Counter(labels)
    target: dict[str, str | None] = {code: code for code in counts}
    pooled = Counter(counts)
    # Deepest first, so a thin grandchild's examples reach the parent before it is judged.
    pending = sorted(set(counts) | _ancestors_of(counts, parents), key=lambda c: -_depth(c, parents))
    for code in pending:
        if pooled[code] >= min_examples:
            continue
        parent = parents.get(code)
        if parent is not None:
            pooled[parent] += pooled[code]
        pooled[code] = 0
        for leaf, label in target.items():
            if label == code:
                target[leaf] = parent
    return target


def _depth(code: str, parents: Mapping[str, str | None]) -> int:
    depth = 0
    node = parents.get(code)
    while node is not None and depth < 10:
        depth += 1
        node = parents.get(node)
    return depth


def _ancestors_of(codes: Iterable[str], parents: Mapping[str, str | None]) -> set[str]:
    found: set[str] = set()
    for code in codes:
        node = parents.get(code)
        while node is not None and node not in found:
            found.add(node)
            node = parents.get(node)
    return found
