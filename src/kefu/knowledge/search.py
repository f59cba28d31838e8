"""Knowledge-base search that understands Chinese (SPEC §6, seed 004 关键词搜索).

How a text becomes terms (``analyze``): traditional → simplified (OpenCC ``t2s``), a few
variant characters folded (帐→账), full-width letters and digits → ASCII, lower case, 你→您;
then each run of letters and digits is cut by jieba in search mode (``cut_for_search``: words
and the shorter words inside them, so 「智能家居」 gives 智能, 家居 and 智能家居). A query goes
through the same steps, so 「忘記密碼怎麼辦」 finds 「忘记密码怎么办」.

Ranking is BM25F over three fields — title (weight 3), keywords (2) and body (1) — each with its
own length normalisation; a document that contains the whole query as written (punctuation and
spaces ignored) gets a bonus, larger when it is in the title. A hit must hold query terms worth
at least half of the query's idf, so a long question does not list every article sharing one
common word with it. When nothing matches that way and the query has terms (a code, a half word
that jieba cut differently) a plain substring scan is tried instead. Each hit carries a snippet
of its body around the densest group of query terms, with the spans to highlight.

The index lives in memory (``KnowledgeIndex``): built from the database and the rulebook's
situation scripts, updated per article (``upsert_article``, ``remove_article``) or by comparing
versions with the database (``sync``, one light query), which also catches edits made by other
processes. It is thread-safe: a lock guards every read and write.
"""

from __future__ import annotations

import html
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from heapq import nlargest

import jieba
import opencc
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core.errors import Invalid
from kefu.knowledge.models import Article, ArticleCategory, ArticleStatus
from kefu.rulebook.schema import Rulebook, Script

MAX_QUERY = 200

# Words of the trade that jieba's general dictionary would cut apart. Search mode still yields
# their parts (无声, 电话), so adding a word only adds a term. Fixed at import: documents and
# queries must be cut by the same dictionary.
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

# Single characters that carry no meaning for search. Longer words are left to BM25's idf.
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


# Service texts repeat themselves (请您稍等, 感谢您的耐心等待 …): each run of letters and digits
# is cut once and remembered, up to this many runs (then the memo starts afresh).
TOKEN_MEMO_SIZE = 50_000
_memo: dict[str, tuple[str, ...]] = {}


def _cut(run: str) -> tuple[str, ...]:
    cut = _memo.get(run)
    if cut is None:
        tokenizer = _tokenizer()
        with _jieba_lock:  # jieba's tokenizer is not documented as thread-safe
            cut = tuple(t for t in tokenizer.cut_for_search(run) if t not in STOPWORDS and not t.isspace())
        if TOKEN_MEMO_SIZE:
            if len(_memo) >= TOKEN_MEMO_SIZE:
                _memo.clear()
            _memo[run] = cut
    return cut


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


@dataclass
class Document:
    """Anything searchable: an article (key ``article:12``) or a situation script (``script:silent_call``)."""

    key: str
    title: str
    body: str
    keywords: Sequence[str] = ()
    category: ArticleCategory = ArticleCategory.FAQ
    status: ArticleStatus = ArticleStatus.PUBLISHED
    source: str | None = None
    version: int | None = None  # an article's version, so ``sync`` knows what is stale


@dataclass
class _Entry:
    doc: Document
    terms: frozenset[str]
    lengths: tuple[int, int, int]  # terms in title, keywords, body
    compact_title: str
    compact_rest: str  # keywords and body


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
    title: float = 3.0
    keywords: float = 2.0
    body: float = 1.0
    k1: float = 1.2
    b_title: float = 0.5
    b_keywords: float = 0.3
    b_body: float = 0.75
    phrase_in_title: float = 2.0  # score multipliers when the whole query occurs
    phrase_elsewhere: float = 1.5
    # A hit must contain query terms worth at least this share of the query's idf (terms the
    # index does not know count at the highest idf): 「量子计算机价格」 does not list every
    # article that mentions 价格.
    min_coverage: float = 0.5


# ---------------------------------------------------------------- the index


@dataclass
class SearchIndex:
    """BM25F over title, keywords and body, in memory, updated one document at a time."""

    weights: Weights = field(default_factory=Weights)
    snippet_length: int = 80

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: dict[str, _Entry] = {}
        # term -> {key: (tf in title, tf in keywords, tf in body)}
        self._postings: dict[str, dict[str, tuple[int, int, int]]] = {}
        self._total = [0, 0, 0]
        # term -> {key: saturated, field-weighted term frequency}: depends on the average field
        # lengths, so it is filled as terms are searched and emptied by every change
        self._impacts: dict[str, dict[str, float]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def document(self, key: str) -> Document | None:
        entry = self._entries.get(key)
        return entry.doc if entry else None

    def add(self, doc: Document) -> None:
        """Add ``doc``, replacing the document with the same key."""
        title, keywords, body = fold(doc.title), fold(" ".join(doc.keywords)), fold(doc.body)
        counts = (Counter(tokens(title)), Counter(tokens(keywords)), Counter(tokens(body)))
        terms = frozenset().union(*counts)
        entry = _Entry(
            doc=doc,
            terms=terms,
            lengths=(sum(counts[0].values()), sum(counts[1].values()), sum(counts[2].values())),
            compact_title=compact(title),
            compact_rest=compact(keywords) + "\x1e" + compact(body),
        )
        with self._lock:
            self._drop(doc.key)
            self._impacts.clear()
            self._entries[doc.key] = entry
            for term in terms:
                self._postings.setdefault(term, {})[doc.key] = (counts[0][term], counts[1][term], counts[2][term])
            for i in range(3):
                self._total[i] += entry.lengths[i]

    def remove(self, key: str) -> bool:
        with self._lock:
            self._impacts.clear()
            return self._drop(key)

    def _drop(self, key: str) -> bool:
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        for term in entry.terms:
            posting = self._postings[term]
            del posting[key]
            if not posting:
                del self._postings[term]
        for i in range(3):
            self._total[i] -= entry.lengths[i]
        return True

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        categories: Iterable[ArticleCategory | str] | None = None,
        statuses: Iterable[ArticleStatus | str] = (ArticleStatus.PUBLISHED,),
    ) -> list[Hit]:
        """Ranked hits, best first. An empty query is an error (``Invalid``); a query that
        matches nothing gives an empty list."""
        query = (query or "").strip()
        if not query:
            raise Invalid("请输入要搜索的内容")
        if len(query) > MAX_QUERY:
            raise Invalid(f"搜索内容过长(最多 {MAX_QUERY} 字),请提炼关键词后再搜索")
        folded = fold(query)
        phrase = compact(folded)
        try:
            wanted_categories = None if categories is None else {ArticleCategory(c) for c in categories}
            wanted_statuses = {ArticleStatus(s) for s in statuses}
        except ValueError as err:
            raise Invalid(f"未知的分类或状态:{err}") from None

        def wanted(entry: _Entry) -> bool:
            doc = entry.doc
            return doc.status in wanted_statuses and (wanted_categories is None or doc.category in wanted_categories)

        with self._lock:
            groups = self._query_terms(folded)
            terms = list(dict.fromkeys(term for group in groups for term in group))
            scores = self._bm25(groups)
            if not scores and terms and len(phrase) >= 2:
                scores = self._substring(phrase)
            candidates = [(score, key) for key, score in scores.items() if wanted(self._entries[key])]
            if len(candidates) > limit > 0:
                # the phrase bonus at most multiplies a score: what cannot reach the top stays out
                kth = nlargest(limit, candidates)[-1][0]
                reach = max(self.weights.phrase_in_title, self.weights.phrase_elsewhere, 1.0)
                candidates = [(score, key) for score, key in candidates if score * reach >= kth]
            ranked = []
            for score, key in candidates:
                entry = self._entries[key]
                if len(phrase) >= 2:
                    if phrase in entry.compact_title:
                        score *= self.weights.phrase_in_title
                    elif phrase in entry.compact_rest:
                        score *= self.weights.phrase_elsewhere
                ranked.append((score, key))
            top = nlargest(max(limit, 0), ranked)
            return [self._hit(self._entries[key].doc, score, terms, phrase) for score, key in top]

    def _query_terms(self, folded: str) -> list[tuple[str, ...]]:
        """The query as groups of terms: each word of the query (jieba's plain cut) followed by
        the shorter indexed words inside it (search mode). A run of the query that is itself an
        indexed term is one word: search mode cuts 「不尽人意」 into 人意 … in a document, but the
        query 「人意」 into 人 and 意."""
        groups: list[tuple[str, ...]] = []
        for run in _WORD_RUN.findall(folded):
            parts = _cut(run)
            words = [run] if run in self._postings else [w for w in _plain_cut(run) if w in parts]
            for word in words:
                groups.append(tuple(dict.fromkeys([word, *(t for t in parts if t != word and t in word)])))
        return groups

    def _bm25(self, groups: list[tuple[str, ...]]) -> dict[str, float]:
        """BM25F scores of the documents that cover enough of the query. Each word of the query
        weighs its idf (the highest idf when the index does not know it); a document earns that
        weight when it holds the word, or the idf of the best shorter word inside it, if less."""
        count = len(self._entries)
        if not count or not groups:
            return {}
        postings = self._postings

        def idf(term: str) -> float:
            n = len(postings.get(term, ()))
            return math.log(1 + (count - n + 0.5) / (n + 0.5))

        scores: dict[str, float] = {}
        covered: dict[str, float] = {}
        scored: set[str] = set()
        query_weight = 0.0
        for group in groups:
            weight = idf(group[0])
            query_weight += weight
            credit: dict[str, float] = {}
            for term in group:
                posting = postings.get(term)
                if not posting:
                    continue
                term_idf = idf(term)
                if term not in scored:
                    scored.add(term)
                    for key, impact in self._impact(term, posting).items():
                        scores[key] = scores.get(key, 0.0) + term_idf * impact
                earned = min(weight, term_idf)
                for key in posting:
                    if credit.get(key, 0.0) < earned:
                        credit[key] = earned
            for key, earned in credit.items():
                covered[key] = covered.get(key, 0.0) + earned
        floor = self.weights.min_coverage * query_weight
        return {key: score for key, score in scores.items() if covered[key] >= floor}

    def _impact(self, term: str, posting: dict[str, tuple[int, int, int]]) -> dict[str, float]:
        """BM25F without the idf: the field-weighted, length-normalised term frequency, saturated."""
        impact = self._impacts.get(term)
        if impact is None:
            w, count, entries = self.weights, len(self._entries), self._entries
            avg = [max(total / count, 1e-9) for total in self._total]
            impact = {}
            for key, (tf_title, tf_keywords, tf_body) in posting.items():
                lt, lk, lb = entries[key].lengths
                weighted = 0.0
                if tf_title:
                    weighted += w.title * tf_title / (1 - w.b_title + w.b_title * lt / avg[0])
                if tf_keywords:
                    weighted += w.keywords * tf_keywords / (1 - w.b_keywords + w.b_keywords * lk / avg[1])
                if tf_body:
                    weighted += w.body * tf_body / (1 - w.b_body + w.b_body * lb / avg[2])
                impact[key] = weighted * (w.k1 + 1) / (w.k1 + weighted)
            if len(self._impacts) >= 20_000:
                self._impacts.clear()
            self._impacts[term] = impact
        return impact

    def _substring(self, phrase: str) -> dict[str, float]:
        """The fallback for queries none of whose terms the index knows: where the text occurs."""
        return {
            key: (2.0 if phrase in entry.compact_title else 1.0)
            for key, entry in self._entries.items()
            if phrase in entry.compact_title or phrase in entry.compact_rest
        }

    def _hit(self, doc: Document, score: float, terms: list[str], phrase: str) -> Hit:
        pattern = _highlighter(tuple(terms), phrase)
        snippet, highlights = _snippet(doc.body, pattern, self.snippet_length)
        _, title_highlights = _snippet(doc.title, pattern, len(doc.title) or 1)
        kind, _, ref = doc.key.partition(":")
        return Hit(
            key=doc.key,
            kind=kind,
            ref=int(ref) if ref.isdigit() else ref,
            title=doc.title,
            category=doc.category,
            status=doc.status,
            score=round(score, 4),
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


# ---------------------------------------------------------------- the knowledge base's index


def article_document(article: Article) -> Document:
    return Document(
        key=f"article:{article.id}",
        title=article.title,
        body=article.body,
        keywords=tuple(article.keywords or ()),
        category=ArticleCategory(article.category),
        status=ArticleStatus(article.status),
        source=article.source,
        version=article.version,
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


class KnowledgeIndex(SearchIndex):
    """The index the web layer holds: articles from the database and the rulebook's scripts."""

    @classmethod
    def build(cls, session: Session, rulebook: Rulebook | None = None, **options: object) -> KnowledgeIndex:
        index = cls(**options)  # type: ignore[arg-type]
        if rulebook is not None:
            index.add_scripts(rulebook)
        index.sync(session)
        return index

    def add_scripts(self, rulebook: Rulebook) -> int:
        stages = {stage.id: stage.name for stage in rulebook.stages}
        with self._lock:
            for key in [k for k in self._entries if k.startswith("script:")]:
                self._drop(key)
            for script in rulebook.scripts:
                self.add(script_document(script, stages.get(script.stage)))
        return len(rulebook.scripts)

    def upsert_article(self, article: Article) -> None:
        """Call after the transaction that saved ``article`` has committed."""
        self.add(article_document(article))

    def remove_article(self, article_id: int) -> bool:
        return self.remove(f"article:{article_id}")

    def sync(self, session: Session, batch: int = 500) -> int:
        """Bring the articles up to date with the database: re-index those whose version
        differs, drop those that are gone. Returns how many were (re)indexed or dropped."""
        current = {article_id: version for article_id, version in session.execute(select(Article.id, Article.version))}
        with self._lock:
            indexed = {
                int(key[8:]): entry.doc.version for key, entry in self._entries.items() if key.startswith("article:")
            }
        gone = [article_id for article_id in indexed if article_id not in current]
        stale = [article_id for article_id, version in current.items() if indexed.get(article_id) != version]
        for article_id in gone:
            self.remove_article(article_id)
        for i in range(0, len(stale), batch):
            chunk = stale[i : i + batch]
            for article in session.scalars(select(Article).where(Article.id.in_(chunk))):
                self.upsert_article(article)
        return len(gone) + len(stale)
