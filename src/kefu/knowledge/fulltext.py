"""The database's own full-text engine under knowledge search: SQLite FTS5 or PostgreSQL
``tsvector`` with a GIN index, in the table ``knowledge_search`` (migration 0009).

One row per searchable document, keyed by an integer: an article's id, or -1, -2, … for the
rulebook's situation scripts. The text arrives already segmented (``kefu.knowledge.search``:
folded, cut by jieba, the terms joined by spaces), so either engine only splits on the spaces:

- SQLite: an FTS5 table whose columns ``title``, ``keywords`` and ``body`` are ranked by
  ``bm25()`` with the weights 3, 2 and 1. The columns ``terms`` (every term of the row),
  ``category`` and ``status`` weigh 0: what a search requires beyond "any query term" is matched
  there, so bm25 scores each query term once; ``fts5vocab`` over ``terms`` gives how many rows
  hold a term.
- PostgreSQL: the column ``document``, ``setweight(to_tsvector('simple', …), 'A' | 'B' | 'C')``
  for title, keywords and body, ranked by ``ts_rank`` with the weights 1, 0.8 and 0.6, term by
  term times the term's idf (ts_rank has none); a trigger counts the rows holding each term.

Beside the terms each row carries kind, ref, category, status, version (an article's version,
the scripts' digest) and the folded text with letters and digits only (``title_plain``,
``rest_plain``): the phrase bonus and the substring fallback look there.

Everything here runs on the caller's session or connection, in its transaction: a write that is
rolled back is never found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, TextClause, bindparam, text
from sqlalchemy.orm import Session

TABLE = "knowledge_search"
# How many rows hold each term: SQLite's fts5vocab(knowledge_search, 'col'), PostgreSQL's table
# of counts kept by a trigger.
TERMS = "knowledge_search_terms"

# Field weights: title, keywords, body; terms, category and status weigh nothing.
SQLITE_WEIGHTS = (3.0, 2.0, 1.0, 0.0, 0.0, 0.0)
# ts_rank's weights, given for D, C, B, A: body is C, keywords B, title A. ts_rank counts a
# term's best-weighted occurrence in full and the others ever less: a title ranks 1.67 times a
# body, about what bm25's saturation makes of SQLite's 3 to 1 (a title word must not outweigh
# two rarer words of the query in the body).
POSTGRES_WEIGHTS = "{0.1, 0.6, 0.8, 1.0}"
# ts_rank normalisation 1: divided by 1 + the logarithm of the document's length.
POSTGRES_NORMALISATION = 1


@dataclass(frozen=True)
class Entry:
    """One row of ``knowledge_search``: the terms of each field joined by spaces."""

    id: int
    kind: str  # article or script
    ref: str  # the article id or the script id
    category: str
    status: str
    version: str
    title: str
    keywords: str
    body: str
    title_plain: str
    rest_plain: str  # keywords and body


@dataclass(frozen=True)
class Filters:
    statuses: tuple[str, ...]
    categories: tuple[str, ...] | None  # None: every category
    scripts: bool = True  # False: articles only


@dataclass(frozen=True)
class Found:
    """What kefu checks of a ranked row: which query terms it holds, where the whole query is."""

    present: frozenset[str]
    title_plain: str
    rest_plain: str


DB = Session | Connection

# Which rows may be hits: any of the alternatives, each a list of groups of terms, a row holding
# at least one term of every group of the alternative ("a or b, and c" is [[["a", "b"], ["c"]]]).
Condition = list[list[list[str]]]


class Engine(Protocol):
    def put(self, db: DB, entries: Sequence[Entry]) -> None:
        """Write the rows, each replacing the one with its id."""
        ...

    def remove_scripts(self, db: DB) -> None: ...

    def scripts_version(self, db: DB) -> str | None: ...

    def statistics(self, db: DB, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """How many rows there are, and how many hold each term (the terms no row holds left out)."""
        ...

    def ranked(
        self,
        db: DB,
        terms: dict[str, float],
        condition: Condition | None,
        filters: Filters,
        limit: int | None,
        offset: int = 0,
    ) -> list[tuple[int, float]]:
        """(row id, score) of the rows holding any of ``terms`` and meeting ``condition``, best
        first. ``terms``: each with its idf, for an engine whose ranking has none."""
        ...

    def found(self, db: DB, ids: Sequence[int], terms: Sequence[str]) -> dict[int, Found]:
        """Which of ``terms`` each row holds, and its folded text."""
        ...

    def containing(self, db: DB, phrase: str, filters: Filters) -> list[tuple[int, bool]]:
        """(row id, in the title) of the rows whose folded text holds ``phrase``."""
        ...


def engine(db: DB) -> Engine:
    bind = db.get_bind() if isinstance(db, Session) else db
    return POSTGRES if bind.dialect.name == "postgresql" else SQLITE


def _values(entry: Entry) -> dict[str, object]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "ref": entry.ref,
        "category": entry.category,
        "status": entry.status,
        "version": entry.version,
        "title": entry.title,
        "keywords": entry.keywords,
        "body": entry.body,
        "title_plain": entry.title_plain,
        "rest_plain": entry.rest_plain,
    }


def _statement(sql: str, params: dict[str, Any]) -> TextClause:
    """``sql`` with its list parameters expanded (``IN :ids``)."""
    lists = [name for name, value in params.items() if isinstance(value, list)]
    return text(sql).bindparams(*(bindparam(name, expanding=True) for name in lists))


def _page(limit: int | None, offset: int, params: dict[str, Any], everything: str) -> str:
    """LIMIT and OFFSET; ``everything``: the engine's LIMIT for no limit."""
    params["offset"] = offset
    if limit is None:
        return f" LIMIT {everything} OFFSET :offset"
    params["limit"] = limit
    return " LIMIT :limit OFFSET :offset"


def _filter_sql(filters: Filters, params: dict[str, Any]) -> str:
    params["statuses"] = list(filters.statuses)
    sql = " AND status IN :statuses" + ("" if filters.scripts else " AND id > 0")
    if filters.categories is None:
        return sql
    params["categories"] = list(filters.categories)
    return sql + " AND category IN :categories"


# ---------------------------------------------------------------- SQLite FTS5


def _fts(terms: Iterable[str]) -> str:
    """Terms as FTS5 strings, any of them: each quoted, so that no term is read as an operator."""
    return "(" + " OR ".join('"' + term.replace('"', '""') + '"' for term in terms) + ")"


class SQLiteFTS5:
    def put(self, db: DB, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        rows = [_values(entry) for entry in entries]
        for row in rows:  # spaces around every term: instr(terms, ' term ') finds whole terms
            row["terms"] = " " + " ".join(str(row[field]) for field in ("title", "keywords", "body")) + " "
        db.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), [{"id": row["id"]} for row in rows])
        db.execute(
            text(
                f"INSERT INTO {TABLE} (rowid, title, keywords, body, terms, category, status, kind, ref, version,"
                " title_plain, rest_plain) VALUES (:id, :title, :keywords, :body, :terms, :category, :status, :kind,"
                " :ref, :version, :title_plain, :rest_plain)"
            ),
            rows,
        )

    def remove_scripts(self, db: DB) -> None:
        db.execute(text(f"DELETE FROM {TABLE} WHERE rowid < 0"))

    def scripts_version(self, db: DB) -> str | None:
        return db.execute(text(f"SELECT version FROM {TABLE} WHERE rowid < 0 LIMIT 1")).scalar()

    def statistics(self, db: DB, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """The rows in all from FTS5's own table of row sizes, under the term '' (no term is empty);
        then a lookup per term: fts5vocab answers "term = ?" from the index (it would scan for "IN")."""
        lookups = [f"SELECT '', count(*) FROM {TABLE}_docsize"]
        lookups += [f"SELECT term, doc FROM {TERMS} WHERE term = :t{i} AND col = 'terms'" for i in range(len(terms))]
        found = dict(db.execute(text(" UNION ALL ".join(lookups)), {f"t{i}": t for i, t in enumerate(terms)}).all())
        return found.pop("", 0), found

    def ranked(
        self,
        db: DB,
        terms: dict[str, float],
        condition: Condition | None,
        filters: Filters,
        limit: int | None,
        offset: int = 0,
    ) -> list[tuple[int, float]]:
        """bm25 has its own idf. It scores every phrase of the MATCH: the query's terms are
        looked for in the weighted columns, what is required besides in those weighing 0."""
        match = "{title keywords body} : " + _fts(terms)
        if condition is not None:
            alternatives = ["(" + " AND ".join(_fts(group) for group in alt) + ")" for alt in condition]
            match += " AND terms : (" + " OR ".join(alternatives) + ")"
        match += " AND status : " + _fts(filters.statuses)
        if filters.categories is not None:
            match += " AND category : " + _fts(filters.categories)
        params: dict[str, Any] = {"match": match}
        weights = ", ".join(str(w) for w in SQLITE_WEIGHTS)
        sql = (
            f"SELECT rowid, -bm25({TABLE}, {weights}) AS score FROM {TABLE} WHERE {TABLE} MATCH :match"
            f"{'' if filters.scripts else ' AND rowid > 0'}"
            f" ORDER BY score DESC, rowid{_page(limit, offset, params, '-1')}"
        )
        return [(row_id, score) for row_id, score in db.execute(text(sql), params)]

    def found(self, db: DB, ids: Sequence[int], terms: Sequence[str]) -> dict[int, Found]:
        if not ids:
            return {}
        checks = "".join(f", instr(terms, :t{i}) > 0" for i in range(len(terms)))
        params: dict[str, Any] = {"ids": list(ids), **{f"t{i}": f" {term} " for i, term in enumerate(terms)}}
        sql = f"SELECT rowid, title_plain, rest_plain{checks} FROM {TABLE} WHERE rowid IN :ids"
        return {
            row[0]: Found(frozenset(t for t, held in zip(terms, row[3:], strict=True) if held), row[1], row[2])
            for row in db.execute(_statement(sql, params), params)
        }

    def containing(self, db: DB, phrase: str, filters: Filters) -> list[tuple[int, bool]]:
        """A scan of every row (a MATCH on the status would add a lookup per row)."""
        params: dict[str, Any] = {"phrase": phrase}
        where = _filter_sql(filters, params).replace(" id > 0", " rowid > 0")
        sql = (
            f"SELECT rowid, instr(title_plain, :phrase) > 0 FROM {TABLE}"
            f" WHERE (instr(title_plain, :phrase) > 0 OR instr(rest_plain, :phrase) > 0){where}"
        )
        return [(row_id, bool(in_title)) for row_id, in_title in db.execute(_statement(sql, params), params)]


# ---------------------------------------------------------------- PostgreSQL tsvector


def _tsquery(names: Iterable[str]) -> str:
    """The tsquery of the terms bound as ``names``, any of them. ``phraseto_tsquery`` reads each
    term with the parser that built the documents, so a term it splits is looked for as a phrase."""
    return "(" + " || ".join(f"phraseto_tsquery('simple', :{name})" for name in names) + ")"


class PostgresTsvector:
    DOCUMENT = (
        "setweight(to_tsvector('simple', :title), 'A') || setweight(to_tsvector('simple', :keywords), 'B')"
        " || setweight(to_tsvector('simple', :body), 'C')"
    )

    def put(self, db: DB, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        db.execute(
            text(
                f"INSERT INTO {TABLE} (id, kind, ref, category, status, version, title_plain, rest_plain, document)"
                f" VALUES (:id, :kind, :ref, :category, :status, :version, :title_plain, :rest_plain, {self.DOCUMENT})"
                " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, ref = excluded.ref,"
                " category = excluded.category, status = excluded.status, version = excluded.version,"
                " title_plain = excluded.title_plain, rest_plain = excluded.rest_plain, document = excluded.document"
            ),
            [_values(entry) for entry in entries],
        )

    def remove_scripts(self, db: DB) -> None:
        db.execute(text(f"DELETE FROM {TABLE} WHERE id < 0"))

    def scripts_version(self, db: DB) -> str | None:
        return db.execute(text(f"SELECT version FROM {TABLE} WHERE id < 0 LIMIT 1")).scalar()

    def statistics(self, db: DB, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """From the counts a trigger keeps (migration 0009): the rows in all under the term ''."""
        params: dict[str, Any] = {"terms": ["", *terms]}
        sql = f"SELECT term, docs FROM {TERMS} WHERE term IN :terms AND docs > 0"
        counts = dict(db.execute(_statement(sql, params), params).all())
        return counts.pop("", 0), counts

    def ranked(
        self,
        db: DB,
        terms: dict[str, float],
        condition: Condition | None,
        filters: Filters,
        limit: int | None,
        offset: int = 0,
    ) -> list[tuple[int, float]]:
        """ts_rank knows no idf: the score is the sum of each term's ts_rank times its idf."""
        names = {term: f"t{i}" for i, term in enumerate(dict.fromkeys([*terms, *_condition_terms(condition)]))}
        params: dict[str, Any] = {name: term for term, name in names.items()}
        params.update({f"w{names[term]}": weight for term, weight in terms.items()})
        score = " + ".join(
            f"CAST(:w{names[term]} AS float8) * ts_rank('{POSTGRES_WEIGHTS}', document,"
            f" phraseto_tsquery('simple', :{names[term]}), {POSTGRES_NORMALISATION})"
            for term in terms
        )
        matching = _tsquery(names[term] for term in terms)
        if condition is not None:
            matching = " || ".join(
                "(" + " && ".join(_tsquery(names[t] for t in group) for group in alternative) + ")"
                for alternative in condition
            )
        where = _filter_sql(filters, params)
        sql = (
            f"SELECT id, {score} AS score FROM {TABLE} WHERE document @@ ({matching}){where}"
            f" ORDER BY score DESC, id{_page(limit, offset, params, 'ALL')}"
        )
        return [(row_id, score) for row_id, score in db.execute(_statement(sql, params), params)]

    def found(self, db: DB, ids: Sequence[int], terms: Sequence[str]) -> dict[int, Found]:
        if not ids:
            return {}
        checks = "".join(f", document @@ phraseto_tsquery('simple', :t{i})" for i in range(len(terms)))
        params: dict[str, Any] = {"ids": list(ids), **{f"t{i}": term for i, term in enumerate(terms)}}
        sql = f"SELECT id, title_plain, rest_plain{checks} FROM {TABLE} WHERE id IN :ids"
        return {
            row[0]: Found(frozenset(t for t, held in zip(terms, row[3:], strict=True) if held), row[1], row[2])
            for row in db.execute(_statement(sql, params), params)
        }

    def containing(self, db: DB, phrase: str, filters: Filters) -> list[tuple[int, bool]]:
        params: dict[str, Any] = {"phrase": phrase}
        where = _filter_sql(filters, params)
        sql = (
            f"SELECT id, strpos(title_plain, :phrase) > 0 FROM {TABLE}"
            f" WHERE (strpos(title_plain, :phrase) > 0 OR strpos(rest_plain, :phrase) > 0){where}"
        )
        return [(row_id, bool(in_title)) for row_id, in_title in db.execute(_statement(sql, params), params)]


def _condition_terms(condition: Condition | None) -> list[str]:
    return [term for alternative in condition or () for group in alternative for term in group]


SQLITE = SQLiteFTS5()
POSTGRES = PostgresTsvector()
