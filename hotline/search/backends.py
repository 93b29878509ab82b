"""Full-text index tables and the two search backends, chosen by the database vendor.

- SQLite: FTS5 virtual tables over the space-joined segmented tokens, ranked by bm25 with
  per-column weights (e.g. a title counts more than a body).
- PostgreSQL: a table with a GIN-indexed tsvector built from the same tokens, each field with
  its weight letter (A for titles and keywords, C for bodies), ranked by ts_rank. The vector is
  written as a tsvector literal (the 'simple' configuration's lower-casing is already done by
  the segmenter), so index and query agree on every token, punctuation included.

An index is described by an ``IndexSpec`` that its domain declares (the knowledge base's
entries, the orders); the domain's migrations create the tables (raw SQL per vendor) and its
indexing module alone writes them. This module knows no domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection

from hotline.search import screening
from hotline.search.query import ParsedQuery, ts_lexeme

# PostgreSQL limits: positions go up to 16383, and at most 256 are kept per lexeme.
_TS_MAX_POSITION = 16383
_TS_MAX_POSITIONS_PER_LEXEME = 255
_TS_MAX_LEXEME_BYTES = 2046


@dataclass(frozen=True)
class IndexSpec:
    """An index: the stem of its table names ("knowledge_entry" -> knowledge_entry_fts on
    SQLite, knowledge_entry_search on PostgreSQL) and, per field, its name, the bm25 weight
    and the tsvector weight letter."""

    table: str
    fields: tuple[tuple[str, float, str], ...]

    @property
    def fts_table(self) -> str:
        return f"{self.table}_fts"

    @property
    def pg_table(self) -> str:
        return f"{self.table}_search"

# A document: its id and, per field of the spec, its tokens.
Document = tuple[int, Sequence[Sequence[str]]]


class SearchBackend(Protocol):
    def replace(self, spec: IndexSpec, documents: Sequence[Document]) -> None: ...

    def delete(self, spec: IndexSpec, ids: Sequence[int]) -> None: ...

    def clear(self, spec: IndexSpec) -> None: ...

    def max_id(self, spec: IndexSpec) -> int: ...

    def max_id_sql(self, spec: IndexSpec) -> str:
        """SQL of ``max_id`` (NULL for an empty index), to ask it with other figures in one
        statement."""
        ...

    def ids_between(self, spec: IndexSpec, low: int, high: int) -> set[int]: ...

    def search(self, spec: IndexSpec, query: ParsedQuery, limit: int, offset: int = 0,
               newest_first: bool = False, before: int | None = None) -> list[tuple[int, float]]:
        """Matching ids with a score (higher is better), best first, or with ``newest_first``
        highest id first (only ids below ``before`` when given: a page after the previous
        one without an OFFSET); then only the returned rows are scored, which keeps a common
        word over millions of orders fast."""
        ...

    def scores(self, spec: IndexSpec, query: ParsedQuery, ids: Sequence[int]) -> dict[int, float]:
        """The score of each of ``ids`` that matches ``query`` (the others are left out). The
        cost grows with the number of ids, not with how common the query's words are."""
        ...

    def matches(self, spec: IndexSpec, query: ParsedQuery, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` match ``query``: ``scores`` without the scores (cheaper where a
        score counts a word's documents)."""
        ...

    # True where ``scores`` costs no more than ``matches`` (a caller then asks for scores).
    free_scores: bool

    def matches_among(self, spec: IndexSpec, query: ParsedQuery, ids_sql: str,
                      params: Sequence[Any]) -> tuple[list[int], dict[int, float | None]]:
        """The ids ``ids_sql`` selects (one column; returned highest first) and which of them
        match ``query``, with their score where it is free (None otherwise): ``matches`` of
        a subquery's ids, in one statement where the engine can (PostgreSQL), so reading the
        ids costs no round trip of its own."""
        ...

    def newest_ids(self, spec: IndexSpec, query: ParsedQuery, limit: int,
                   before: int | None = None, spare: bool = False) -> list[int]:
        """``search(..., newest_first=True)`` without the scores. With ``spare``, more than
        ``limit`` ids may come back (still newest first) when the backend found them all at
        no extra cost: a longer list than ``limit`` holds every match below ``before``
        (PostgreSQL's GIN step lists a rare word's older matches at once)."""
        ...

    def matching_ids_sql(self, spec: IndexSpec, query: ParsedQuery) -> tuple[str, list[str]]:
        """SQL selecting every matching id, for ``pk__in=RawSQL(...)`` in an ORM filter."""
        ...

    def newest_cost(self, found: int, span: int, below: int) -> float:
        """About what ``newest_ids`` cost to find ``found`` matches spread over the ``span``
        ids under its ``before``, with ``below`` ids left under those, in rows read (the unit
        of ``matches_cost``): a caller seeing some orders weighs it against reading its
        visible orders and testing them (``matches``) to choose which leads."""
        ...

    def matches_cost(self, count: int) -> float:
        """About what ``matches`` costs for ``count`` ids, in the unit of ``newest_cost``."""
        ...

    def count(self, spec: IndexSpec, query: ParsedQuery | None = None) -> int:
        """How many documents match ``query`` (every document without one): the document
        frequencies a relevance score weighs words by."""
        ...

    def counts(self, spec: IndexSpec, queries: Sequence[ParsedQuery]) -> tuple[int, list[int]]:
        """Every document, and how many match each of ``queries``, in one statement (a
        suggestion weighs each of its words: one round trip each added up)."""
        ...


class _IndexTable:
    """What both backends do alike: their index tables differ only in name and id column."""

    id_column = "id"

    def table(self, spec: IndexSpec) -> str:
        raise NotImplementedError

    def matching_ids_sql(self, spec: IndexSpec, query: ParsedQuery) -> tuple[str, list[str]]:
        raise NotImplementedError

    def count(self, spec: IndexSpec, query: ParsedQuery | None = None) -> int:
        params: list[str] = []
        if query is None:
            sql = f"SELECT count(*) FROM {self.table(spec)}"  # noqa: S608
        elif not query:
            return 0
        else:
            inner, params = self.matching_ids_sql(spec, query)
            sql = f"SELECT count(*) FROM ({inner}) AS matching"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def counts(self, spec: IndexSpec, queries: Sequence[ParsedQuery]) -> tuple[int, list[int]]:
        columns = [f"(SELECT count(*) FROM {self.table(spec)})"]  # noqa: S608
        params: list[str] = []
        for query in queries:
            if not query:
                columns.append("0")
                continue
            inner, inner_params = self.matching_ids_sql(spec, query)
            columns.append(f"(SELECT count(*) FROM ({inner}) AS matching)")  # noqa: S608
            params.extend(inner_params)
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(columns), params)
            row = cursor.fetchone()
        values = [int(value) for value in row] if row else [0] * len(columns)
        return values[0], values[1:]

    def clear(self, spec: IndexSpec) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {self.table(spec)}")  # noqa: S608

    def max_id_sql(self, spec: IndexSpec) -> str:
        return f"SELECT max({self.id_column}) FROM {self.table(spec)}"  # noqa: S608

    def max_id(self, spec: IndexSpec) -> int:
        with connection.cursor() as cursor:
            cursor.execute(self.max_id_sql(spec))
            row = cursor.fetchone()
        return int(row[0] or 0) if row else 0

    def ids_between(self, spec: IndexSpec, low: int, high: int) -> set[int]:
        col = self.id_column
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {col} FROM {self.table(spec)} WHERE {col} > %s AND {col} <= %s",  # noqa: S608
                [low, high],
            )
            return {int(row[0]) for row in cursor.fetchall()}


class SqliteFts5Backend(_IndexTable):
    id_column = "rowid"

    def table(self, spec: IndexSpec) -> str:
        return spec.fts_table

    def replace(self, spec: IndexSpec, documents: Sequence[Document]) -> None:
        if not documents:
            return
        self.delete(spec, [doc_id for doc_id, _fields in documents])
        columns = ", ".join(name for name, _w, _l in spec.fields)
        marks = ", ".join(["%s"] * (len(spec.fields) + 1))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {spec.fts_table} (rowid, {columns}) VALUES ({marks})",  # noqa: S608
                [(doc_id, *(" ".join(tokens) for tokens in fields)) for doc_id, fields in documents],
            )

    def delete(self, spec: IndexSpec, ids: Sequence[int]) -> None:
        with connection.cursor() as cursor:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start:start + 500])
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM {spec.fts_table} WHERE rowid IN ({marks})", chunk)  # noqa: S608

    def _bm25(self, spec: IndexSpec) -> str:
        weights = ", ".join(str(w) for _n, w, _l in spec.fields)
        return f"bm25({spec.fts_table}, {weights})"

    def search(self, spec: IndexSpec, query: ParsedQuery, limit: int, offset: int = 0,
               newest_first: bool = False, before: int | None = None) -> list[tuple[int, float]]:
        # FTS5 reads a term's document list in rowid order, so newest first stops after
        # ``limit`` matches whether the word is common or rare.
        if not query:
            return []
        table = spec.fts_table
        order = "rowid DESC" if newest_first else "score, rowid DESC"
        below = "" if before is None else "AND rowid < %s "
        params: list[str | int] = [query.fts5(), *([] if before is None else [before]), limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, {self._bm25(spec)} AS score FROM {table} "  # noqa: S608
                f"WHERE {table} MATCH %s {below}ORDER BY {order} LIMIT %s OFFSET %s",
                params,
            )
            # bm25 is lower for better matches.
            return [(int(row[0]), -float(row[1])) for row in cursor.fetchall()]

    # Ids per statement: SQLite allows 32,766 parameters; fewer keeps each statement short.
    SCORE_CHUNK = 500

    # FTS5 asked "MATCH q AND rowid IN (ids)" seeks each id in every segment, and bm25 counts
    # each word's documents again per id (~1 ms per id for a common word over a million
    # orders). So the ids' stored tokens are read (a few microseconds each) and screened
    # (hotline.search.screening: it never drops a match), and FTS5 judges the candidates left
    # in one pass over their rowid range (with bm25: one count per word per statement).

    def scores(self, spec: IndexSpec, query: ParsedQuery, ids: Sequence[int]) -> dict[int, float]:
        if not query or not ids:
            return {}
        certain, uncertain = self._screened(spec, query, ids)
        return {pk: -float(bm25) for pk, bm25 in
                self._judged(spec, query, sorted(certain | uncertain), self._bm25(spec))}

    def matches(self, spec: IndexSpec, query: ParsedQuery, ids: Sequence[int]) -> set[int]:
        # Without a score, a plain document and query are decided here (no FTS5 statement).
        if not query or not ids:
            return set()
        certain, uncertain = self._screened(spec, query, ids)
        return certain | {pk for pk, _none in self._judged(spec, query, sorted(uncertain), "NULL")}

    def newest_ids(self, spec: IndexSpec, query: ParsedQuery, limit: int,
                   before: int | None = None, spare: bool = False) -> list[int]:
        # The document lists alone, newest first: no bm25 (it would count every word's
        # documents first). Never more than ``limit``: FTS5 stops reading at the limit.
        if not query:
            return []
        table = spec.fts_table
        below = "" if before is None else "AND rowid < %s "
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH %s {below}"  # noqa: S608
                "ORDER BY rowid DESC LIMIT %s",
                [query.fts5(), *([] if before is None else [before]), limit])
            return [int(row[0]) for row in cursor.fetchall()]

    free_scores = False

    def matches_among(self, spec: IndexSpec, query: ParsedQuery, ids_sql: str,
                      params: Sequence[Any]) -> tuple[list[int], dict[int, float | None]]:
        # In-process statements cost no round trip: the ids, then ``matches`` (screened).
        with connection.cursor() as cursor:
            cursor.execute(ids_sql, list(params))
            ids = sorted({int(row[0]) for row in cursor.fetchall()}, reverse=True)
        return ids, dict.fromkeys(self.matches(spec, query, ids))

    # FTS5 reads the words' document lists newest first: the cost follows the matches read,
    # and reading given ids' stored tokens costs about as much per id.
    def newest_cost(self, found: int, span: int, below: int) -> float:
        return float(found)

    def matches_cost(self, count: int) -> float:
        return float(count)

    def _screened(self, spec: IndexSpec, query: ParsedQuery,
                  ids: Sequence[int]) -> tuple[set[int], set[int]]:
        """Of ``ids``: those that surely match (a plain query over a plain document is decided
        here) and those the engine must judge (the screen could not rule them out)."""
        table = spec.fts_table
        columns = ", ".join(name for name, _w, _l in spec.fields)
        plain = screening.plain_query(query)
        groups = screening.plain_groups(query) if plain else ()
        certain: set[int] = set()
        uncertain: set[int] = set()
        with connection.cursor() as cursor:
            for start in range(0, len(ids), self.SCORE_CHUNK):
                chunk = list(ids[start:start + self.SCORE_CHUNK])
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT rowid, {columns} FROM {table} WHERE rowid IN ({marks})",  # noqa: S608
                    chunk)
                for row in cursor.fetchall():
                    text = "\n".join(row[1:])
                    lowered = screening.plain_lowered(text) if plain else None
                    if lowered is not None:
                        if screening.decide(query, groups, lowered):
                            certain.add(int(row[0]))
                    elif screening.might_match(query, screening.fold(text)):
                        uncertain.add(int(row[0]))
        return certain, uncertain

    def _judged(self, spec: IndexSpec, query: ParsedQuery, ids: Sequence[int],
                value: str) -> list[tuple[int, Any]]:
        if not query or not ids:
            return []
        table = spec.fts_table
        candidates = list(ids)
        found: list[tuple[int, Any]] = []
        with connection.cursor() as cursor:
            for start in range(0, len(candidates), self.SCORE_CHUNK):
                chunk = candidates[start:start + self.SCORE_CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                # "+rowid" keeps the IN list from FTS5 (it would seek each id); the range is
                # one cursor, read from the nearest entry of each word's document list.
                cursor.execute(
                    f"SELECT rowid, {value} FROM {table} "  # noqa: S608
                    f"WHERE {table} MATCH %s AND rowid BETWEEN %s AND %s "
                    f"AND +rowid IN ({marks})",
                    [query.fts5(), min(chunk), max(chunk), *chunk],
                )
                found.extend((int(row[0]), row[1]) for row in cursor.fetchall())
        return found

    def matching_ids_sql(self, spec: IndexSpec, query: ParsedQuery) -> tuple[str, list[str]]:
        table = spec.fts_table
        return f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [query.fts5()]  # noqa: S608


def tsvector_literal(spec: IndexSpec, fields: Sequence[Sequence[str]]) -> str:
    positions: dict[str, list[str]] = {}
    position = 0
    for (_name, _w, letter), tokens in zip(spec.fields, fields, strict=True):
        suffix = "" if letter == "D" else letter
        for token in tokens:
            position = min(position + 1, _TS_MAX_POSITION)
            if len(token.encode()) > _TS_MAX_LEXEME_BYTES:
                continue
            kept = positions.setdefault(token, [])
            if len(kept) < _TS_MAX_POSITIONS_PER_LEXEME:
                kept.append(f"{position}{suffix}")
    return " ".join(f"{ts_lexeme(lexeme)}:{','.join(p)}" for lexeme, p in positions.items())


class PostgresTsvectorBackend(_IndexTable):
    def table(self, spec: IndexSpec) -> str:
        return spec.pg_table

    def replace(self, spec: IndexSpec, documents: Sequence[Document]) -> None:
        if not documents:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {spec.pg_table} (id, document) VALUES (%s, %s::tsvector) "  # noqa: S608
                "ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document",
                [(doc_id, tsvector_literal(spec, fields)) for doc_id, fields in documents],
            )

    def delete(self, spec: IndexSpec, ids: Sequence[int]) -> None:
        if ids:
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {spec.pg_table} WHERE id = ANY(%s)", [list(ids)])  # noqa: S608

    # Newest first. Asked for "document @@ q ORDER BY id DESC LIMIT n", the planner walks the
    # primary key backwards and tests every row: right for a common word (it stops after n
    # matches), ruinous for a rare one (it walks the whole table: ~250 ms over a million
    # orders). So the walk is bounded to a window of the newest ids; when that window does not
    # hold the page, the GIN index lists the remaining matches, as long as they are at most
    # GIN_CAP (a rare word: they are sorted here); beyond that (a word common long ago but not
    # lately) the windows widen backwards, each query again bounded by its id range.
    # The GIN step reads every word's whole list (two common words together: ~130 ms over a
    # million orders, only to find more than GIN_CAP), so it is skipped while the windows read
    # so far say the matches below are many: their density times the ids left is above
    # DENSE * GIN_CAP. The windows widen instead, and the GIN step is tried (once) when the
    # density read so far no longer promises many (a word common lately, rare before).
    RECENT_IDS = 2000
    GIN_CAP = 2000
    WIDEN = 4
    DENSE = 2

    def search(self, spec: IndexSpec, query: ParsedQuery, limit: int, offset: int = 0,
               newest_first: bool = False, before: int | None = None) -> list[tuple[int, float]]:
        if not query:
            return []
        if newest_first:
            page = self._newest(spec, query.tsquery(), offset + limit, before)[offset:]
            found = self.scores(spec, query, [pk for pk, score in page if score is None])
            return [(pk, found[pk] if score is None else score) for pk, score in page
                    if score is not None or pk in found]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, ts_rank(document, q) AS score FROM {spec.pg_table}, "  # noqa: S608
                f"CAST(%s AS tsquery) AS q WHERE document @@ q "
                f"ORDER BY score DESC, id DESC LIMIT %s OFFSET %s",
                [query.tsquery(), limit, offset],
            )
            return [(int(row[0]), float(row[1])) for row in cursor.fetchall()]

    def _newest(self, spec: IndexSpec, tsquery: str, need: int, before: int | None,
                spare: bool = False) -> list[tuple[int, float | None]]:
        """The ``need`` newest matches, with their score when it came for free (the window
        queries score only the rows they return; the GIN step leaves it to ``scores``). With
        ``spare``, every match below ``before`` when the GIN step listed them (the caller
        asking chunk after chunk would take the GIN step again for each)."""
        table = spec.pg_table
        in_window = (f"SELECT id, ts_rank(document, q) FROM {table}, "  # noqa: S608
                     "CAST(%s AS tsquery) AS q WHERE document @@ q "
                     "AND id > %s AND id <= %s ORDER BY id DESC LIMIT %s")
        ids: list[tuple[int, float | None]]
        with connection.cursor() as cursor:
            if before is None:
                cursor.execute(f"SELECT max(id) FROM {table}")  # noqa: S608
                row = cursor.fetchone()
                high = int(row[0]) if row and row[0] is not None else 0
            else:
                high = before - 1
            top = high
            window = max(self.RECENT_IDS, need * 8)
            low = high - window
            cursor.execute(in_window, [tsquery, low, high, need])
            ids = [(int(r[0]), float(r[1])) for r in cursor.fetchall()]
            gin_tried = False
            while len(ids) < need and low > 0:
                # Matches expected below ``low`` at the density of the ids read so far
                # (top - low of them, all read: the windows stopped short of ``need``).
                if not gin_tried and not self._dense(len(ids), top - low, low):
                    gin_tried = True
                    older = self._older_matches(tsquery, table, low)
                    if len(older) <= self.GIN_CAP:
                        kept = sorted(older, reverse=True)
                        return ids + [(pk, None) for pk in
                                      (kept if spare else kept[:need - len(ids)])]
                window *= self.WIDEN
                high, low = low, low - window
                cursor.execute(in_window, [tsquery, low, high, need - len(ids)])
                ids.extend((int(r[0]), float(r[1])) for r in cursor.fetchall())
            return ids

    def _older_matches(self, tsquery: str, table: str, low: int) -> list[int]:
        """Up to GIN_CAP + 1 matches with ids up to ``low``, from the GIN index. The planner
        is told not to scan the table: it guesses an OR of a few words (the synonyms) as
        common and, under a LIMIT, picks a sequential scan that reads every row when the
        words are rare (1.1 s over a million orders for 300 matches); the GIN index lists
        them in milliseconds, and a common word's list stops being read at the cap.

        The function ``search_older_matches`` (knowledge migration 0004) runs the query with
        sequential and plain index scans disabled for its own duration (its SET clauses):
        one round trip, where setting and restoring them in a transaction took five."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT search_older_matches(%s::regclass, %s::tsquery, %s, %s)",
                           [table, tsquery, low, self.GIN_CAP + 1])
            return [int(r[0]) for r in cursor.fetchall()]

    def scores(self, spec: IndexSpec, query: ParsedQuery, ids: Sequence[int]) -> dict[int, float]:
        if not query or not ids:
            return {}
        # The given rows are read by primary key first (MATERIALIZED), then tested: left to
        # itself the planner may intersect the ids with the GIN index's list of a common word,
        # reading that whole list to score a few rows.
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH given AS MATERIALIZED (SELECT id, document FROM {spec.pg_table} "  # noqa: S608
                "WHERE id = ANY(%s)) "
                "SELECT id, ts_rank(document, q) FROM given, CAST(%s AS tsquery) AS q "
                "WHERE document @@ q",
                [list(ids), query.tsquery()],
            )
            return {int(row[0]): float(row[1]) for row in cursor.fetchall()}

    def matches(self, spec: IndexSpec, query: ParsedQuery, ids: Sequence[int]) -> set[int]:
        # ts_rank needs no corpus figures: scoring costs no more than matching.
        return set(self.scores(spec, query, ids))

    free_scores = True

    def matches_among(self, spec: IndexSpec, query: ParsedQuery, ids_sql: str,
                      params: Sequence[Any]) -> tuple[list[int], dict[int, float | None]]:
        # As ``scores``: the subquery's rows are read by primary key (MATERIALIZED), then
        # tested; a row not indexed yet is among the ids, not among the matches.
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH mine(id) AS MATERIALIZED ({ids_sql}) "  # noqa: S608
                "SELECT mine.id, given.document @@ q, ts_rank(given.document, q) "
                f"FROM mine CROSS JOIN CAST(%s AS tsquery) AS q "
                f"LEFT JOIN {spec.pg_table} AS given ON given.id = mine.id",
                [*params, query.tsquery()],
            )
            rows = cursor.fetchall()
        ids = sorted({int(row[0]) for row in rows}, reverse=True)
        return ids, {int(row[0]): float(row[2]) for row in rows if row[1]}

    def newest_ids(self, spec: IndexSpec, query: ParsedQuery, limit: int,
                   before: int | None = None, spare: bool = False) -> list[int]:
        if not query:
            return []
        return [pk for pk, _score in self._newest(spec, query.tsquery(), limit, before, spare)]

    # Rows read: the windows test every row of their id range (a common word's matches are
    # found by reading all the ids they are spread over); sparse ones come from the GIN index
    # after the first window. ``matches`` reads each given id by primary key: a lookup costs
    # about LOOKUP_COST rows of a window's walk.
    LOOKUP_COST = 4.0

    def _dense(self, found: int, span: int, below: int) -> bool:
        # _newest's own test: the matches below are expected many (no GIN step).
        return found * below > self.DENSE * self.GIN_CAP * max(span, 1)

    def newest_cost(self, found: int, span: int, below: int) -> float:
        if self._dense(found, span, below):
            return float(span)
        return float(min(span, self.RECENT_IDS) + found)

    def matches_cost(self, count: int) -> float:
        return count * self.LOOKUP_COST

    def matching_ids_sql(self, spec: IndexSpec, query: ParsedQuery) -> tuple[str, list[str]]:
        return (f"SELECT id FROM {spec.pg_table} "  # noqa: S608
                "WHERE document @@ CAST(%s AS tsquery)", [query.tsquery()])


def backend() -> SearchBackend:
    if connection.vendor == "postgresql":
        return PostgresTsvectorBackend()
    if connection.vendor == "sqlite":
        return SqliteFts5Backend()
    raise NotImplementedError(f"no full-text search backend for {connection.vendor}")
