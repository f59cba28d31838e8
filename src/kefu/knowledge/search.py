"""Knowledge-base search that understands Chinese (SPEC §6, seed 004 关键词搜索), on the
database's own full-text engine (``kefu.knowledge.fulltext``: SQLite FTS5, PostgreSQL tsvector).

How a text becomes terms (``analyze``): traditional → simplified (OpenCC ``t2s``), a few
variant characters folded (帐→账), full-width letters and digits → ASCII, lower case, 你→您;
then each run of letters and digits is cut by jieba in search mode (``cut_for_search``: words
and the shorter words inside them, so 「智能家居」 gives 智能, 家居 and 智能家居). The terms are
stored joined by spaces, one field each for title, keywords and body, by the service functions
that write articles (``index_article``, in the same transaction) and for the rulebook's
situation scripts (``index_scripts``). A query goes through the same steps, so 「忘記密碼怎麼辦」
finds 「忘记密码怎么办」.

The engine ranks the documents holding any query term (bm25 with field weights on SQLite,
ts_rank with A/B/C weights on PostgreSQL); a document that contains the whole query as written
(punctuation and spaces ignored) gets a bonus, larger when it is in the title. A hit must hold
query terms worth at least half of the query's idf, so a long question does not list every
article sharing one common word with it. When nothing matches that way and the query has terms
(a code, a half word that jieba cut differently) a plain substring scan is tried instead. Each
hit carries a snippet of its body around the densest group of query terms, with the spans to
highlight.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import jieba
import opencc
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core.errors import Invalid
from kefu.knowledge import fulltext
from kefu.knowledge.fulltext import DB, Condition, Entry, Filters
from kefu.knowledge.models import Article, ArticleCategory, ArticleStatus
from kefu.rulebook.schema import Rulebook, Script

MAX_QUERY = 200

# Words of the trade that jieba's general dictionary would cut apart. Search mode still yields
# their parts (无声, 电话), so adding a word only adds a term. Fixed at import: documents and
# queries must be cut by the same dictionary (a change here needs the index rebuilt:
# ``index_articles``).
DOMAIN_WORDS = (
    "无声电话",
    "工单",
    "工号",
    "话术",
    "禁用语",
    "服务禁语",
    "首问负责制",
    "一次性告知",
    "跨区",
    "回访",
    "转派",
    "转接",
    "免提",
    "夜间服务",
    "投诉处理",
    "身份验证",
    "退换货",
    "云存储",
    "物联网",
    "智能家居",
    "验证码",
    "开场白",
    "结束语",
    "来电原因",
)

# Single characters that carry no meaning for search. Longer words are left to the idf.
STOPWORDS = frozenset("的了吗呢吧啊呀哦嘛么之与及和或也就都而着是在有个这那我您他她它")

_VARIANTS = str.maketrans({"帐": "账", "後": "后", "裡": "里", "祇": "只"})
_FULL_WIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF5B)})
_WORD_RUN = re.compile(r"[^\W_]+")

_jieba_lock = threading.Lock()


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def _tokenizer() -> jieba.Tokenizer:
    logging.getLogger("jieba").setLevel(logging.WARNING)  # no "Building prefix dict …" on stderr
    tokenizer = jieba.Tokenizer()
    for word in DOMAIN_WORDS:
        tokenizer.add_word(word)
    return tokenizer


def warm_up() -> None:
    """Load jieba's dictionary and OpenCC's tables now (about a second) rather than in the first
    search or the first article saved."""
    analyze("預熱")


def fold(text: str) -> str:
    """Simplified, variant-folded, half-width, lower-case text; the same length as ``text``
    whenever OpenCC keeps the length (it converts character by character in practice)."""
    simplified = _converter().convert(text) if text else text
    folded = simplified.translate(_VARIANTS).translate(_FULL_WIDTH).replace("你", "您")
    lowered = folded.lower()
    if len(lowered) != len(folded):  # e.g. İ lowers to two characters: keep offsets one-to-one
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in folded)
    return lowered


def compact(folded: str) -> str:
    """Letters and digits only: what a phrase match compares."""
    return "".join(_WORD_RUN.findall(folded))


def _cut(run: str) -> tuple[str, ...]:
    tokenizer = _tokenizer()
    with _jieba_lock:  # jieba's tokenizer is not documented as thread-safe
        return tuple(t for t in tokenizer.cut_for_search(run) if t not in STOPWORDS and not t.isspace())


def _plain_cut(run: str) -> list[str]:
    """jieba's ordinary cut (each word once, no shorter words inside): the words of a query."""
    tokenizer = _tokenizer()
    with _jieba_lock:
        return [t for t in tokenizer.cut(run) if t not in STOPWORDS and not t.isspace()]


def tokens(folded: str) -> list[str]:
    """Search terms of already folded text, in order, repeats kept (they are term frequencies)."""
    out: list[str] = []
    for run in _WORD_RUN.findall(folded):
        out.extend(_cut(run))
    return out


def analyze(text: str) -> list[str]:
    return tokens(fold(text))


# ---------------------------------------------------------------- documents and hits


@dataclass(frozen=True)
class Document:
    """Anything searchable: an article (key ``article:12``) or a situation script (``script:silent_call``)."""

    key: str
    title: str
    body: str
    keywords: Sequence[str] = ()
    category: ArticleCategory = ArticleCategory.FAQ
    status: ArticleStatus = ArticleStatus.PUBLISHED
    source: str | None = None


@dataclass(frozen=True)
class Hit:
    key: str
    kind: str  # "article" or "script"
    ref: int | str  # the article id or the script id
    title: str
    category: ArticleCategory
    status: ArticleStatus
    score: float
    snippet: str
    highlights: tuple[tuple[int, int], ...]  # [start, end) spans of ``snippet`` to mark
    title_highlights: tuple[tuple[int, int], ...]
    source: str | None

    @property
    def category_label(self) -> str:
        return self.category.label

    def snippet_html(self) -> str:
        return mark(self.snippet, self.highlights)

    def title_html(self) -> str:
        return mark(self.title, self.title_highlights)


def mark(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` escaped for HTML with each span wrapped in ``<mark>``."""
    out, last = [], 0
    for start, end in spans:
        out.append(html.escape(text[last:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


@dataclass(frozen=True)
class Weights:
    """What kefu adds to the engine's ranking (the field weights are the engine's: fulltext)."""

    phrase_in_title: float = 2.0  # score multipliers when the whole query occurs
    phrase_elsewhere: float = 1.5
    # A hit must contain query terms worth at least this share of the query's idf (terms no
    # document holds count at the highest idf): 「量子计算机价格」 does not list every article
    # that mentions 价格.
    min_coverage: float = 0.5


WEIGHTS = Weights()
SNIPPET_LENGTH = 80


# ---------------------------------------------------------------- writing the index


def article_document(article: Any) -> Document:
    """``article``: an ``Article``, or a row with its columns (the migration that fills the index)."""
    return Document(
        key=f"article:{article.id}",
        title=article.title,
        body=article.body,
        keywords=tuple(article.keywords or ()),
        category=ArticleCategory(article.category),
        status=ArticleStatus(article.status),
        source=article.source,
    )


def script_document(script: Script, stage_name: str | None = None) -> Document:
    body = "\n".join(script.steps)
    if script.avoid:
        body += "\n" + "\n".join(f"不要说:「{line}」" for line in script.avoid)
    return Document(
        key=f"script:{script.id}",
        title=script.title,
        body=body,
        keywords=tuple(k for k in (script.scenario, stage_name) if k),
        category=ArticleCategory.SCRIPT,
        status=ArticleStatus.PUBLISHED,
        source=script.source,
    )


def _entry(doc: Document, row_id: int, version: str) -> Entry:
    title, keywords, body = fold(doc.title), fold(" ".join(doc.keywords)), fold(doc.body)
    kind, _, ref = doc.key.partition(":")
    return Entry(
        id=row_id,
        kind=kind,
        ref=ref,
        category=doc.category.value,
        status=doc.status.value,
        version=version,
        title=" ".join(tokens(title)),
        keywords=" ".join(tokens(keywords)),
        body=" ".join(tokens(body)),
        title_plain=compact(title),
        rest_plain=compact(keywords) + "\x1e" + compact(body),
    )


def index_article(db: DB, article: Any) -> None:
    """Make the article's current text searchable, in the caller's transaction (call after the
    flush that saved it: the version is then the new one)."""
    index_articles(db, [article])


def index_articles(db: DB, articles: Iterable[Any]) -> int:
    """(Re)index articles (``Article`` objects or rows with their columns); how many."""
    entries = [_entry(article_document(a), a.id, str(a.version)) for a in articles]
    fulltext.engine(db).put(db, entries)
    return len(entries)


# The scripts' documents and digest of the last few rulebooks (a rulebook is immutable once
# loaded): a search needs them each time.
_scripts: dict[int, tuple[Rulebook, list[Document], str]] = {}


def _script_documents(rulebook: Rulebook) -> tuple[list[Document], str]:
    """The rulebook's situation scripts as documents, in its order, and their digest."""
    cached = _scripts.get(id(rulebook))
    if cached is not None and cached[0] is rulebook:
        return cached[1], cached[2]
    names = {stage.id: stage.name for stage in rulebook.stages}
    documents = [script_document(script, names.get(script.stage)) for script in rulebook.scripts]
    digest = hashlib.sha256(
        json.dumps(
            [[d.key, d.title, d.body, list(d.keywords), d.source] for d in documents], ensure_ascii=False
        ).encode()
    ).hexdigest()[:32]
    if len(_scripts) >= 8:
        _scripts.clear()
    _scripts[id(rulebook)] = (rulebook, documents, digest)
    return documents, digest


def index_scripts(db: DB, rulebook: Rulebook) -> bool:
    """Make the rulebook's situation scripts searchable, unless they already are (one light query
    when nothing changed); whether they were written. Every process with the same rulebook
    writes the same rows."""
    engine = fulltext.engine(db)
    documents, digest = _script_documents(rulebook)
    if engine.scripts_version(db) == digest:
        return False
    engine.remove_scripts(db)
    engine.put(db, [_entry(doc, -(i + 1), digest) for i, doc in enumerate(documents)])
    return True


# ---------------------------------------------------------------- searching


def _groups(runs: list[str], cuts: dict[str, tuple[str, ...]], known: dict[str, int]) -> list[tuple[str, ...]]:
    """The query as groups of terms: each word of the query (jieba's plain cut) followed by the
    shorter terms inside it (search mode). A run of the query that is itself an indexed term is
    one word: search mode cuts 「不尽人意」 into 人意 … in a document, but the query 「人意」 into
    人 and 意."""
    groups: list[tuple[str, ...]] = []
    for run in runs:
        parts = cuts[run]
        words = [run] if known.get(run) else [w for w in _plain_cut(run) if w in parts]
        for word in words:
            groups.append(tuple(dict.fromkeys([word, *(t for t in parts if t != word and t in word)])))
    return groups


def _filters(
    categories: Iterable[ArticleCategory | str] | None, statuses: Iterable[ArticleStatus | str], scripts: bool
) -> Filters:
    try:
        wanted_categories = None if categories is None else tuple({ArticleCategory(c).value for c in categories})
        wanted_statuses = tuple({ArticleStatus(s).value for s in statuses})
    except ValueError as err:
        raise Invalid(f"未知的分类或状态:{err}") from None
    return Filters(statuses=wanted_statuses, categories=wanted_categories, scripts=scripts)


# Beyond this many groups a query is not turned into the alternatives that could cover it (2**n
# subsets): the engine then matches any term and kefu checks each ranked document.
MAX_CONDITION_GROUPS = 10
MAX_ALTERNATIVES = 32
# The engine's best (twice as many as asked for, at least this many) are checked for coverage
# and given the phrase bonus: a document further down would need more than the bonus to reach
# the top, its title already weighing three times its body.
WINDOW = 20


def _condition(credits: list[tuple[float, list[str]]], floor: float) -> Condition | bool | None:
    """The rows that could cover the query, for the engine to match: the smallest sets of groups
    whose best credits reach ``floor`` (less a rounding margin already), each group any of its
    terms. ``credits``: per group, the most a row holding one of its terms can earn, and those
    terms. False: no row can cover the query; None: not worth narrowing (any term will do)."""
    groups = [(credit, terms) for credit, terms in credits if credit > 0 and terms]
    if sum(credit for credit, _ in groups) < floor:
        return False
    if len(groups) > MAX_CONDITION_GROUPS:
        return None
    minimal: list[int] = []  # bit masks of groups
    for mask in sorted(range(1, 1 << len(groups)), key=int.bit_count):
        if any(mask & kept == kept for kept in minimal):
            continue
        if sum(groups[i][0] for i in range(len(groups)) if mask >> i & 1) >= floor:
            minimal.append(mask)
            if len(minimal) > MAX_ALTERNATIVES:
                return None
    if len(minimal) == len(groups) and all(mask.bit_count() == 1 for mask in minimal):
        return None  # any one group is enough: any term
    return [[groups[i][1] for i in range(len(groups)) if mask >> i & 1] for mask in minimal]


def _ranked(
    db: DB,
    groups: list[tuple[str, ...]],
    known: dict[str, int],
    count: int,
    phrase: str,
    filters: Filters,
    limit: int,
) -> list[tuple[float, int]]:
    """(score, row id) of the best ``limit`` documents that cover enough of the query, best
    first. Each word of the query weighs its idf (the highest idf when no document holds it); a
    document earns that weight when it holds the word, or the idf of the best shorter word inside
    it, if less. The engine matches the documents that could cover the query and ranks them;
    kefu checks the coverage of the best ``WINDOW`` (all of them, if too few of those cover it),
    and the phrase bonus reorders what it read."""
    engine = fulltext.engine(db)

    def idf(term: str) -> float:
        n = known.get(term, 0)
        return math.log(1 + (count - n + 0.5) / (n + 0.5))

    weights = [idf(group[0]) for group in groups]
    floor = WEIGHTS.min_coverage * sum(weights) - 1e-9
    terms = {t: idf(t) for group in groups for t in group if known.get(t)}
    credits = [
        {t: min(weight, idf(t)) for t in group if known.get(t)} for weight, group in zip(weights, groups, strict=True)
    ]
    best = [max(credit.values(), default=0.0) for credit in credits]
    # a term that cannot reach the floor even with the best of every other group is no way in
    useful = [
        (top, [t for t, credit in group.items() if credit + sum(best) - top >= floor])
        for top, group in zip(best, credits, strict=True)
    ]
    condition = _condition(useful, floor)
    if condition is False:
        return []
    window = max(2 * limit, WINDOW)
    kept: list[tuple[float, int]] = []
    chunk = engine.ranked(db, terms, condition or None, filters, window)
    complete = len(chunk) < window
    while True:
        for start in range(0, len(chunk), 500):
            part = chunk[start : start + 500]
            found = engine.found(db, [row_id for row_id, _ in part], list(terms))
            for row_id, score in part:
                row = found[row_id]
                covered = sum(max((credit[t] for t in credit if t in row.present), default=0.0) for credit in credits)
                if covered < floor:
                    continue
                if len(phrase) >= 2:
                    if phrase in row.title_plain:
                        score *= WEIGHTS.phrase_in_title
                    elif phrase in row.rest_plain:
                        score *= WEIGHTS.phrase_elsewhere
                kept.append((score, row_id))
        if len(kept) >= limit or complete:
            kept.sort(key=lambda pair: (-pair[0], pair[1]))
            return kept[:limit]
        # too few of the best cover the query: the rest in one go
        chunk, complete = engine.ranked(db, terms, condition or None, filters, None, offset=window), True


def search(
    db: Session,
    query: str,
    *,
    rulebook: Rulebook | None = None,
    limit: int = 10,
    categories: Iterable[ArticleCategory | str] | None = None,
    statuses: Iterable[ArticleStatus | str] = (ArticleStatus.PUBLISHED,),
    snippet_length: int = SNIPPET_LENGTH,
) -> list[Hit]:
    """Ranked hits, best first. An empty query is an error (``Invalid``); a query that matches
    nothing gives an empty list. The situation scripts of ``rulebook`` are searched along (and
    indexed first if they are not: ``index_scripts``); without a rulebook, none are shown."""
    query = (query or "").strip()
    if not query:
        raise Invalid("请输入要搜索的内容")
    if len(query) > MAX_QUERY:
        raise Invalid(f"搜索内容过长(最多 {MAX_QUERY} 字),请提炼关键词后再搜索")
    filters = _filters(categories, statuses, scripts=rulebook is not None)
    if rulebook is not None:
        index_scripts(db, rulebook)
    folded = fold(query)
    phrase = compact(folded)
    runs = _WORD_RUN.findall(folded)
    cuts = {run: _cut(run) for run in runs}
    asked = list(dict.fromkeys([*runs, *(t for cut in cuts.values() for t in cut)]))
    if not asked or limit <= 0 or not filters.statuses or filters.categories == ():
        return []
    engine = fulltext.engine(db)
    count, known = engine.statistics(db, asked)
    groups = _groups(runs, cuts, known)
    terms = list(dict.fromkeys(t for group in groups for t in group))
    scored: list[tuple[float, int]] = []
    if any(known.get(t) for t in terms):
        scored = _ranked(db, groups, known, count, phrase, filters, limit)
    if not scored and terms and len(phrase) >= 2:
        # the fallback for queries none of whose terms the index knows: where the text occurs
        # (in the title: 2, elsewhere: 1; then the phrase bonus, as the whole query is there)
        for row_id, in_title in engine.containing(db, phrase, filters):
            score = 2.0 * WEIGHTS.phrase_in_title if in_title else 1.0 * WEIGHTS.phrase_elsewhere
            scored.append((score, row_id))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
    scored = scored[:limit]
    documents = _documents(db, [row_id for _, row_id in scored], rulebook)
    pattern = _highlighter(tuple(terms), phrase)
    return [_hit(documents[row_id], score, pattern, snippet_length) for score, row_id in scored]


def _documents(db: Session, row_ids: list[int], rulebook: Rulebook | None) -> dict[int, Document]:
    """The documents to quote: articles as they are stored now, scripts from the rulebook."""
    out: dict[int, Document] = {}
    article_ids = [i for i in row_ids if i > 0]
    if article_ids:
        columns = (Article.id, Article.title, Article.body, Article.keywords, Article.category, Article.status)
        for article in db.execute(select(*columns, Article.source).where(Article.id.in_(article_ids))):
            out[article.id] = article_document(article)
    if rulebook is not None and any(i < 0 for i in row_ids):
        scripts, _ = _script_documents(rulebook)  # indexed from this rulebook (index_scripts)
        out.update({i: scripts[-i - 1] for i in row_ids if i < 0})
    return out


def _hit(doc: Document, score: float, pattern: re.Pattern[str] | None, snippet_length: int) -> Hit:
    snippet, highlights = _snippet(doc.body, pattern, snippet_length)
    _, title_highlights = _snippet(doc.title, pattern, len(doc.title) or 1)
    kind, _, ref = doc.key.partition(":")
    return Hit(
        key=doc.key,
        kind=kind,
        ref=int(ref) if ref.isdigit() else ref,
        title=doc.title,
        category=doc.category,
        status=doc.status,
        score=round(score, 6),
        snippet=snippet,
        highlights=highlights,
        title_highlights=title_highlights,
        source=doc.source,
    )


def _highlighter(terms: tuple[str, ...], phrase: str) -> re.Pattern[str] | None:
    words = sorted({t for t in (*terms, phrase) if t}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words)) if words else None


def _snippet(text: str, pattern: re.Pattern[str] | None, length: int) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The ``length`` characters of ``text`` holding the most distinct query terms, and where
    the terms are in it. Found in the folded text, quoted from the original (or from the
    simplified text if conversion changed the length)."""
    folded = fold(text)
    shown = text if len(folded) == len(text) else _converter().convert(text)
    if len(shown) != len(folded):
        shown = folded
    matches = [(m.start(), m.end(), m.group()) for m in pattern.finditer(folded)] if pattern else []
    start = 0
    if matches and len(shown) > length:
        # two pointers: for each first match, the matches that end within the window
        best, inside, j = (-1, -1, 0), Counter[str](), 0
        for i, (anchor, _, word) in enumerate(matches):
            if j < i:
                j = i
                inside.clear()
            while j < len(matches) and matches[j][1] <= anchor + length:
                inside[matches[j][2]] += 1
                j += 1
            rank = (len(inside), j - i, -anchor)
            if rank > best:
                best, start = rank, anchor
            if j > i:
                inside[word] -= 1
                if not inside[word]:
                    del inside[word]
        # a little context before the first term, but not past the start of its sentence
        back = max(0, start - length // 5)
        for boundary in ("\n", "。", "!", "?", "!", "?", ";"):
            position = shown.rfind(boundary, back, start)
            if position >= 0:
                back = max(back, position + 1)
        start = back
    end = min(len(shown), start + length)
    if end == len(shown):
        start = max(0, end - length)
    spans = tuple((max(s, start) - start, min(e, end) - start) for s, e, _ in matches if s < end and e > start)
    piece = shown[start:end].replace("\n", " ")
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(shown) else ""
    offset = len(prefix)
    return prefix + piece + suffix, tuple((s + offset, e + offset) for s, e in spans)
