"""Topic clusters of short citizen texts (no Django imports; tested without the database).

The question a hot-issue list answers is "which *matters* are many people writing about", so a
cluster should hold messages about the same matter (the same estate's water cut, the same
fraud case), not merely the same category. Hence:

- features: TF-IDF over the normalised words of the title (counted twice: a title says what
  the matter is) with its word bigrams (place + problem pairs such as "丽发 新城" or
  "搅拌站 噪音" are what make two messages the same matter), and the words of the start of
  the text; idf weighs common words ("反映", "问题") down and terms in more than 30% of
  the texts are dropped;
- terms are hashed to 32-bit ids (CRC-32) once per text, so an order's features can be stored
  as a few hundred bytes and a run over tens of thousands of orders never touches a Python
  string: everything after hashing is numpy;
- similarity: cosine between L2-normalised rows, computed as a sparse product in row blocks
  and thresholded, so the cost grows with the number of similar pairs, not with n²;
- grouping: greedy leader clustering on that neighbour graph. The text with the most
  neighbours leads a cluster and takes its still unassigned neighbours; a text whose
  neighbours were all taken joins its most similar neighbour's cluster. Unlike single-link
  (connected components) this does not chain unrelated matters through one vague message;
  unlike k-means it needs no number of clusters. One pass then merges clusters whose
  centroids are close (one matter written up in two ways).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.preprocessing import normalize

# Measured on the TipDM messages (bench/hot_issues.py): 0.35 keeps the 58车贷 and 丽发新城
# threads whole while unrelated road and school messages stay apart; 0.5 for centroids merges
# the two halves of a thread that was written up with different words.
DEFAULT_THRESHOLD = 0.35
DEFAULT_MERGE_THRESHOLD = 0.5
# Candidate pairs: cosine of at least 0.1 over the rarest terms whose df² sum to 5 million
# (see ``neighbours``). On the 4,320 TipDM messages the five largest clusters are as with the
# exact graph; on 14,970 messages they keep ~95% of their members at ~60% of the cost, where
# a 2 million budget broke the two largest apart.
PAIR_BUDGET = 5_000_000
SEED_SIMILARITY = 0.1
MAX_NEIGHBOURS = 200
TEXT_CHARS = 200  # the start of a text says what it is about; the rest is detail and noise
_BLOCK = 2048
_NAMING_MEMBERS = 20  # the most central members name a cluster
_MERGE_TERMS = 40  # centroid terms compared when merging clusters
_BUCKET_MASK = (1 << 22) - 1
_MAX_PHRASE = 8  # longer joined phrases are half sentences, not names
# "A市", "A7县": the anonymised or obvious part of a place name is dropped by the normaliser,
# leaving a bare 市/区/县 glued to the front of the name that follows.
_BARE_PREFIX = "市区县"


@dataclass
class Cluster:
    """Indices of the member texts (most central first), top terms and cohesion."""

    members: list[int]
    terms: list[str]
    cohesion: float  # mean cosine of the members to the centroid
    label: str = ""
    baseline: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def representative(self) -> int:
        return self.members[0]


def features(words: Sequence[str]) -> list[str]:
    """Words and adjacent word pairs (pairs joined by a space)."""
    words = list(words)
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def hash_terms(terms: Sequence[str]) -> np.ndarray:
    """Stable 32-bit ids of terms (Python's hash() changes from process to process)."""
    return np.fromiter((zlib.crc32(t.encode("utf-8")) for t in terms), dtype=np.uint32,
                       count=len(terms))


def encode(title_words: Sequence[str], text_words: Sequence[str]) -> bytes:
    """One text's hashed features as bytes to store: [n_title, title ids..., text ids...]:
    the title's words and word pairs, the text's words."""
    title = hash_terms(features(title_words))
    # Text words without pairs: on the TipDM messages this found more of each matter
    # (recall 0.84 instead of 0.74, purity 0.94 instead of 0.96) with 40% fewer terms.
    text = hash_terms(list(text_words))
    return np.concatenate([np.array([len(title)], dtype=np.uint32), title, text]).tobytes()


def decode(blob: bytes) -> np.ndarray:
    """The term ids of a text as counted: title ids twice, then the text's."""
    ids = np.frombuffer(blob, dtype=np.uint32)
    if not len(ids):
        return ids
    n_title = int(ids[0])
    title = ids[1:1 + n_title]
    return np.concatenate([title, title, ids[1 + n_title:]])


@dataclass(frozen=True)
class TermWeights:
    """The term columns of a vectorisation (sorted buckets) and their idf, kept so that texts
    arriving later are weighed as the texts they are compared with were: the terms it cut as
    too common weigh nothing, and a term it never saw (a new place name) weighs as the rarest,
    so that a text about something new is not taken for the known matter it shares a few
    common words with."""

    buckets: np.ndarray  # uint32, sorted
    idf: np.ndarray  # float32, one per bucket
    common: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))
    unseen_idf: float = 1.0

    def to_bytes(self) -> tuple[bytes, bytes]:
        head = np.array([len(self.common)], dtype=np.uint32).tobytes()
        return (head + self.common.astype(np.uint32).tobytes()
                + self.buckets.astype(np.uint32).tobytes(),
                np.array([self.unseen_idf], dtype=np.float32).tobytes()
                + self.idf.astype(np.float32).tobytes())

    @classmethod
    def from_bytes(cls, buckets: bytes, idf: bytes) -> TermWeights:
        ids = np.frombuffer(buckets, dtype=np.uint32)
        values = np.frombuffer(idf, dtype=np.float32)
        if not len(ids):
            return cls(ids, values)
        n_common = int(ids[0])
        return cls(ids[1 + n_common:], values[1:], ids[1:1 + n_common], float(values[0]))


def vectorise(docs: Sequence[np.ndarray], *, max_df: float = 0.3,
              min_df: int = 2) -> tuple[csr_matrix, np.ndarray]:
    """L2-normalised TF-IDF rows (sublinear tf, smooth idf) and the bucket of each column."""
    matrix, weights = vectorise_with_weights(docs, max_df=max_df, min_df=min_df)
    return matrix, weights.buckets


def vectorise_with_weights(docs: Sequence[np.ndarray], *, max_df: float = 0.3,
                           min_df: int = 2) -> tuple[csr_matrix, TermWeights]:
    """``vectorise`` and the term weights it used (``weigh`` applies them to other texts)."""
    n = len(docs)
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=n)
    nothing = TermWeights(np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.float32))
    if not lengths.sum():
        return csr_matrix((n, 0), dtype=np.float32), nothing
    # Columns are the low bits of the stored 32-bit ids. A dense bucket space makes the
    # document frequencies one bincount; sorting or searching a few million 32-bit ids to
    # number them costs seconds here (numpy's np.unique and argsort are 10-50x slower than
    # np.sort on this machine). With ~300,000 distinct terms in 4 million buckets two terms
    # share a bucket ~7% of the time, almost always two rare ones, which adds noise to one
    # feature of a few texts, not a false cluster (a cluster needs many shared terms).
    columns = (np.concatenate(docs) & _BUCKET_MASK).astype(np.int32)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    # The texts' terms are already grouped by row: CSR directly; summing the duplicate
    # (row, column) entries gives the term counts.
    counts = csr_matrix((np.ones(len(columns), dtype=np.float32), columns, indptr),
                        shape=(n, _BUCKET_MASK + 1))
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=_BUCKET_MASK + 1)
    # The idf already weighs frequent terms down; the cut only removes words nearly every
    # text has. It must stay loose: a real hot issue may be a fifth of a day's calls (or of a
    # district's few orders), and its own words must not be cut. With few texts, keep
    # terms of up to 10 texts.
    too_common = df > max(int(max_df * n), 10)
    kept = (df >= min_df) & ~too_common
    if not kept.any():
        return csr_matrix((n, 0), dtype=np.float32), nothing
    new_column = np.cumsum(kept) - 1
    entry = kept[counts.indices]
    buckets = np.flatnonzero(kept)
    idf = (np.log((1 + n) / (1 + df[buckets])) + 1).astype(np.float32)
    cols = new_column[counts.indices[entry]].astype(np.int32)
    data = (1 + np.log(counts.data[entry])) * idf[cols]
    kept_before = np.concatenate([[0], np.cumsum(entry)])
    matrix = csr_matrix((data, cols, kept_before[counts.indptr]), shape=(n, len(buckets)))
    return csr_matrix(normalize(matrix)), TermWeights(
        buckets.astype(np.uint32), idf, np.flatnonzero(too_common).astype(np.uint32),
        float(np.log((1 + n) / 2) + 1))


def weigh(docs: Sequence[np.ndarray], weights: TermWeights) -> csr_matrix:
    """TF-IDF rows of ``docs`` in the columns of ``weights``, each divided by its full norm:
    terms ``weights`` does not know count in the norm (as the rarest) but have no column, so
    later texts are compared with an earlier vectorisation on its scale."""
    n = len(docs)
    width = len(weights.buckets)
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=n)
    if not n or not lengths.sum():
        return csr_matrix((n, width), dtype=np.float32)
    ids = (np.concatenate(docs) & _BUCKET_MASK).astype(np.uint32)
    rows = np.repeat(np.arange(n), lengths)
    # Count each (text, term) once with its count: sort the pairs.
    pairs = np.unique(rows.astype(np.int64) << 32 | ids.astype(np.int64), return_counts=True)
    rows, ids, counts = (pairs[0] >> 32).astype(np.int64), \
        (pairs[0] & 0xFFFFFFFF).astype(np.uint32), pairs[1].astype(np.float32)
    position = np.searchsorted(weights.buckets, ids) if width else np.zeros(len(ids), np.int64)
    position[position >= width] = 0
    known = (weights.buckets[position] == ids) if width else np.zeros(len(ids), dtype=bool)
    common = np.isin(ids, weights.common)
    idf = np.where(known, weights.idf[position] if width else 0.0, weights.unseen_idf)
    idf[common & ~known] = 0.0
    values = ((1 + np.log(counts)) * idf).astype(np.float32)
    norms = np.sqrt(np.bincount(rows, weights=values.astype(np.float64) ** 2, minlength=n))
    norms[norms == 0] = 1.0
    return csr_matrix(((values / norms[rows])[known], (rows[known], position[known])),
                      shape=(n, width), dtype=np.float32)


def neighbours(matrix: csr_matrix, threshold: float, *, pair_budget: int = PAIR_BUDGET,
               seed_similarity: float = SEED_SIMILARITY,
               max_neighbours: int = MAX_NEIGHBOURS) -> csr_matrix:
    """The similarity graph: entry (i, j) is cos(i, j) when at least ``threshold``, i != j.

    The full product X·Xᵀ costs the sum of the squared document frequencies, which the
    frequent terms dominate (15,000 texts: 7 s). Two texts about the same matter share
    specific terms (a place name, an estate, a word pair), so candidate pairs come from the
    product over the rarest terms only, as many as fit ``pair_budget`` (sum of df² of the
    terms used), keeping pairs whose cosine over those terms is at least ``seed_similarity``;
    then the full cosine is computed for the candidates. Small collections use every term
    (the exact graph). Pairs alike only through frequent words are the "same category,
    different matter" pairs a hot-issue list should not join anyway.
    """
    n = matrix.shape[0]
    df = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.int64)
    by_df = np.argsort(df, kind="stable")
    within = np.cumsum(df[by_df] ** 2) <= pair_budget
    rare = csr_matrix(matrix[:, np.sort(by_df[within])])
    transposed = rare.T.tocsr()
    rows_list, cols_list = [], []
    for start in range(0, n, _BLOCK):
        block = (rare[start:start + _BLOCK] @ transposed).tocoo()
        keep = (block.data >= seed_similarity) & (block.row + start != block.col)
        rows_list.append(block.row[keep].astype(np.int64) + start)
        cols_list.append(block.col[keep].astype(np.int64))
    rows = np.concatenate(rows_list) if rows_list else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols_list) if cols_list else np.zeros(0, dtype=np.int64)
    sims = _row_dots(matrix, rows, cols)
    keep = sims >= threshold
    rows, cols, sims = rows[keep], cols[keep], sims[keep]
    # At most ``max_neighbours`` per text (the most similar): a city-wide outage can bring
    # thousands of near-identical calls, and all their pairs would not fit in memory. The
    # leader then takes only its closest texts; the rest form more clusters of the same
    # matter, which ``merge_close`` joins again by their centroids.
    order = np.lexsort((-sims, rows))
    rows, cols, sims = rows[order], cols[order], sims[order]
    first = np.searchsorted(rows, rows, side="left")
    top = (np.arange(len(rows)) - first) < max_neighbours
    return csr_matrix((sims[top], (rows[top], cols[top])), shape=(n, n))


def _row_dots(matrix: csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """cos(rows[k], cols[k]) for every k, in chunks (each chunk gathers two row sets)."""
    out = np.zeros(len(rows), dtype=np.float32)
    step = 200_000
    for lo in range(0, len(rows), step):
        a, b = matrix[rows[lo:lo + step]], matrix[cols[lo:lo + step]]
        out[lo:lo + step] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def leader_groups(graph: csr_matrix) -> list[list[int]]:
    """Greedy leader clustering of a neighbour graph; texts without neighbours stay alone."""
    n = graph.shape[0]
    indptr, indices, data = graph.indptr, graph.indices, graph.data
    degree = np.diff(indptr)
    # Most neighbours first; equal degree: earlier text first (stable, deterministic).
    order = np.argsort(-degree, kind="stable")
    owner = np.full(n, -1, dtype=np.int64)
    groups: list[list[int]] = []
    for i in order[: int((degree > 0).sum())]:
        if owner[i] >= 0:
            continue
        cols = indices[indptr[i]:indptr[i + 1]]
        free = cols[owner[cols] < 0]
        if len(free) == 0:
            best = int(cols[int(np.argmax(data[indptr[i]:indptr[i + 1]]))])
            owner[i] = owner[best]
            groups[owner[best]].append(int(i))
            continue
        owner[i] = owner[free] = len(groups)
        groups.append([int(i), *free.tolist()])
    return groups


def _expand(groups: list[list[int]], unique: np.ndarray,
            copies: dict[bytes, list[int]]) -> list[list[int]]:
    """Groups of unique texts -> groups of all texts; identical texts alone form a group."""
    same = list(copies.values())
    grouped = np.zeros(len(same), dtype=bool)
    expanded = []
    for group in groups:
        grouped[group] = True
        expanded.append([i for u in group for i in same[u]])
    expanded.extend(same[u] for u in np.flatnonzero(~grouped) if len(same[u]) > 1)
    return expanded


def _centroids(matrix: csr_matrix, groups: list[list[int]]) -> csr_matrix:
    rows = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    cols = np.fromiter((m for g in groups for m in g), dtype=np.int64, count=len(rows))
    assign = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                        shape=(len(groups), matrix.shape[0]))
    return csr_matrix(normalize(assign @ matrix))


def _prune(rows: csr_matrix, keep: int) -> csr_matrix:
    """Each row's ``keep`` heaviest entries, renormalised: a centroid's top terms say what it
    is about, and its long tail of single-member words makes centroid products slow."""
    rows = csr_matrix(rows)
    lengths = np.diff(rows.indptr)
    if not len(lengths) or lengths.max() <= keep:
        return rows
    row_of = np.repeat(np.arange(rows.shape[0]), lengths)
    order = np.lexsort((-rows.data, row_of))
    rank = np.arange(len(order)) - rows.indptr[row_of[order]]
    chosen = order[rank < keep]
    pruned = csr_matrix((rows.data[chosen], (row_of[chosen], rows.indices[chosen])),
                        shape=rows.shape)
    return csr_matrix(normalize(pruned))


def merge_close(matrix: csr_matrix, groups: list[list[int]], threshold: float) -> list[list[int]]:
    """Join groups whose centroids are at least ``threshold`` alike (union-find)."""
    if len(groups) < 2:
        return groups
    centroids = _prune(_centroids(matrix, groups), _MERGE_TERMS)
    sims = (centroids @ centroids.T).tocoo()
    parent = list(range(len(groups)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    close = (sims.row < sims.col) & (sims.data >= threshold)
    for a, b in zip(sims.row[close], sims.col[close], strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    merged: dict[int, list[int]] = {}
    for g, members in enumerate(groups):
        merged.setdefault(find(g), []).extend(members)
    return list(merged.values())


@dataclass
class Fit:
    """Groups of texts (indices, most central first), each member's cosine to its group's
    centroid, and the centroids (rows of the texts' columns)."""

    groups: list[list[int]]
    similarities: list[list[float]]
    centroids: csr_matrix


def fit(matrix: csr_matrix, docs: Sequence[np.ndarray], *, threshold: float = DEFAULT_THRESHOLD,
        merge_threshold: float = DEFAULT_MERGE_THRESHOLD, min_size: int = 2) -> Fit:
    """Group the rows of ``matrix`` (the vectorised ``docs``) into matters, largest first."""
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        return Fit([], [], csr_matrix((0, matrix.shape[1]), dtype=np.float32))
    # Identical texts (repeat callers, copied complaints, form letters) are compared once.
    copies: dict[bytes, list[int]] = {}
    for i, doc in enumerate(docs):
        copies.setdefault(doc.tobytes(), []).append(i)
    unique = np.fromiter((same[0] for same in copies.values()), dtype=np.int64,
                         count=len(copies))
    groups = _expand(leader_groups(neighbours(matrix[unique], threshold)), unique, copies)
    groups = [g for g in merge_close(matrix, groups, merge_threshold) if len(g) >= min_size]
    if not groups:
        return Fit([], [], csr_matrix((0, matrix.shape[1]), dtype=np.float32))
    centroids = _centroids(matrix, groups)
    sizes = [len(g) for g in groups]
    members = np.fromiter((m for g in groups for m in g), dtype=np.int64, count=sum(sizes))
    group_of = np.repeat(np.arange(len(groups)), sizes)
    # Each member's cosine to its own centroid, for all members in one sparse operation.
    sims_all = np.asarray(matrix[members].multiply(centroids[group_of]).sum(axis=1)).ravel()
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    ranked_groups, ranked_sims = [], []
    for g in range(len(groups)):
        sims = sims_all[offsets[g]:offsets[g + 1]]
        order = np.argsort(-sims, kind="stable")
        ranked_groups.append(members[offsets[g]:offsets[g + 1]][order].tolist())
        ranked_sims.append(sims[order].tolist())
    by_size = sorted(range(len(groups)), key=lambda g: (-sizes[g], ranked_groups[g][0]))
    return Fit([ranked_groups[g] for g in by_size], [ranked_sims[g] for g in by_size],
               csr_matrix(centroids[by_size]))


def prune_centroids(centroids: csr_matrix, keep: int = _MERGE_TERMS) -> csr_matrix:
    """Each centroid's ``keep`` heaviest terms, renormalised (what is stored of a topic)."""
    return _prune(centroids, keep)


def cluster(docs: Sequence[np.ndarray], *, threshold: float = DEFAULT_THRESHOLD,
            merge_threshold: float = DEFAULT_MERGE_THRESHOLD, min_size: int = 2,
            top_terms: int = 3, label_top: int = 50,
            words_of: Callable[[list[int]], Mapping[int, Sequence[str]]] | None = None,
            baseline: Sequence[np.ndarray] = ()) -> list[Cluster]:
    """Clusters of at least ``min_size`` texts, largest first.

    ``docs`` are term-id arrays (``decode(encode(...))``). ``words_of(indices)`` maps texts
    to their words (title then text) so that the top term ids can be named; it is called
    once, for the most central members of the ``label_top`` largest clusters (the ones shown;
    the caller may fetch words from storage just for those). Without it there are no labels.

    ``baseline`` texts (the days before the window) are not clustered: each joins the one of
    the ``label_top`` largest clusters whose centroid it is at least ``threshold`` alike, so
    that a shown cluster's usual level can be counted (``Cluster.baseline``: indices into
    ``baseline``). They share the term weights.
    """
    everything, term_ids = vectorise([*docs, *baseline])
    if everything.shape[1] == 0:
        return []
    matrix = csr_matrix(everything[:len(docs)])
    fitted = fit(matrix, docs, threshold=threshold, merge_threshold=merge_threshold,
                 min_size=min_size)
    if not fitted.groups:
        return []
    centroids = fitted.centroids
    clusters = []
    for g, (ranked, sims) in enumerate(zip(fitted.groups, fitted.similarities, strict=True)):
        clusters.append(Cluster(members=ranked, terms=[], cohesion=float(np.mean(sims)),
                                extra={"group": g}))
    clusters.sort(key=lambda c: (-c.size, c.representative))
    if words_of is not None:
        named = clusters[:label_top]
        words = words_of([m for c in named for m in c.members[:_NAMING_MEMBERS]])
        for c in named:
            c.terms = top_terms_of(centroids[c.extra["group"]], term_ids,
                                   [words.get(m, ()) for m in c.members[:_NAMING_MEMBERS]],
                                   top_terms)
            c.label = label_of(c.terms)
    if len(baseline):
        # Only the clusters shown need their usual level (comparing every baseline text with
        # thousands of centroids cost 26 s for 30,000 + 30,000 orders; 20 centroids: ~0.1 s).
        shown = clusters[:label_top]
        owners = assign(csr_matrix(everything[len(docs):]),
                        csr_matrix(centroids[[c.extra["group"] for c in shown]]), threshold)
        by_cluster: dict[int, list[int]] = {}
        for b, k in enumerate(owners.tolist()):
            if k >= 0:
                by_cluster.setdefault(k, []).append(b)
        for k, c in enumerate(shown):
            c.baseline = by_cluster.get(k, [])
    for c in clusters:
        c.extra.pop("group", None)
    return clusters


def assign(rows: csr_matrix, centroids: csr_matrix, threshold: float) -> np.ndarray:
    """For each row the index of the most similar centroid if at least ``threshold``, else -1."""
    owners = np.full(rows.shape[0], -1, dtype=np.int64)
    if not rows.shape[0] or not centroids.shape[0]:
        return owners
    for start in range(0, rows.shape[0], _BLOCK):
        sims = (rows[start:start + _BLOCK] @ centroids.T).tocsr()
        if not sims.nnz:
            continue
        best = np.asarray(sims.argmax(axis=1)).ravel()
        value = np.asarray(sims.max(axis=1).toarray()).ravel()
        chunk = owners[start:start + _BLOCK]
        chunk[value >= threshold] = best[value >= threshold]
    return owners


def top_terms_of(centroid: csr_matrix, term_ids: np.ndarray, member_words: list[Sequence[str]],
                 count: int) -> list[str]:
    """The heaviest centroid terms that the members' words spell, as readable phrases.

    jieba cuts unknown names into pieces ("伊 景园 滨河苑"), so the pieces and bigrams of one
    name are joined back when the joined phrase occurs in a member's text ("景园滨河" +
    "滨河苑" -> "伊景园滨河苑"), and a term already inside a chosen phrase is skipped.
    """
    names: dict[int, str] = {}
    texts = ["".join(words) for words in member_words]
    for words in member_words:
        terms = features(words)
        for term, term_id in zip(terms, hash_terms(terms) & _BUCKET_MASK, strict=True):
            name = term.replace(" ", "")
            if len(name) > 2 and name[0] in _BARE_PREFIX:
                name = name[1:]
            names.setdefault(int(term_id), name)
    row = centroid.tocsr()
    chosen: list[str] = []
    for k in np.argsort(-row.data, kind="stable"):
        found = names.get(int(term_ids[row.indices[k]]))
        if not found or len(found) < 2 or any(found in c for c in chosen):
            continue
        chosen = _join_overlapping([c for c in chosen if c not in found], found, texts)
        if len(chosen) == count + 1:
            break
    return chosen[:count]


def _join_overlapping(chosen: list[str], name: str, texts: list[str]) -> list[str]:
    for i, phrase in enumerate(chosen):
        for a, b in ((phrase, name), (name, phrase)):
            for k in range(min(len(a), len(b)) - 1, 0, -1):
                if a.endswith(b[:k]):
                    joined = a + b[k:]
                    if len(joined) <= _MAX_PHRASE and any(joined in text for text in texts):
                        rest = [c for j, c in enumerate(chosen) if j != i and c not in joined]
                        return _join_overlapping(rest, joined, texts)
                    break
    return [*chosen, name]


def label_of(terms: Sequence[str]) -> str:
    return " · ".join(terms)
