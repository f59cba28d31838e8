"""What the knowledge base takes and gives, shared by /api/knowledge and the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from kefu.core.fields import CentreTime, Offset, Version
from kefu.knowledge.models import ArticleCategory, ArticleStatus
from kefu.knowledge.search import MAX_QUERY, mark

MAX_TITLE = 200
MAX_BODY = 50_000
MAX_KEYWORDS = 20
MAX_KEYWORD = 32
MAX_NOTE = 300
MAX_SOURCE = 300


def _text(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    if not value:
        raise ValueError(f"{what}不能为空")
    if len(value) > limit:
        raise ValueError(f"{what}最多 {limit} 字(现在 {len(value)} 字)")
    return value


class ArticleFields(BaseModel):
    """What an editor can set. Categories and statuses are accepted by id or by label (常见问题)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = None
    category: ArticleCategory | None = None
    body: str | None = None
    keywords: list[str] | None = None
    source: str | None = Field(default=None, description="where the content comes from, e.g. a seed")
    change_note: str | None = Field(default=None, description="what this edit changes and why (修改说明)")

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: Any) -> Any:
        return ArticleCategory.parse(value) if isinstance(value, str) else value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        return _text(value, "标题", MAX_TITLE)

    @field_validator("body")
    @classmethod
    def _body(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.replace("\r\n", "\n").strip()
        return _text(value, "正文", MAX_BODY)

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        return _text(value, "来源", MAX_SOURCE) if value else None

    @field_validator("change_note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        return _text(value, "修改说明", MAX_NOTE) if value else None

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords(cls, value: Any) -> Any:
        """A list, or one string separated by commas, 、 or spaces. Blanks and repeats are dropped."""
        if value is None:
            return None
        if isinstance(value, str):
            for separator in ",,、;;\n\t":
                value = value.replace(separator, " ")
            value = value.split(" ")
        if not isinstance(value, list | tuple):
            raise ValueError("关键词应为文字列表")
        seen: list[str] = []
        for item in value:
            if not isinstance(item, str):
                raise ValueError("关键词应为文字")
            word = item.strip()
            if not word or word in seen:
                continue
            if len(word) > MAX_KEYWORD:
                raise ValueError(f"关键词「{word[:10]}…」过长(最多 {MAX_KEYWORD} 字)")
            seen.append(word)
        if len(seen) > MAX_KEYWORDS:
            raise ValueError(f"关键词最多 {MAX_KEYWORDS} 个")
        return seen


class ArticleCreate(ArticleFields):
    title: str
    category: ArticleCategory
    body: str
    keywords: list[str] = Field(default_factory=list)
    status: ArticleStatus = ArticleStatus.DRAFT

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        return ArticleStatus.parse(value) if isinstance(value, str) else value


class ArticleUpdate(ArticleFields):
    version: Version


class Labelled(BaseModel):
    """An article's category and status with their labels (常见问题, 已发布)."""

    model_config = ConfigDict(from_attributes=True)

    category: ArticleCategory
    status: ArticleStatus

    @computed_field  # type: ignore[prop-decorator]
    @property
    def category_label(self) -> str:
        return self.category.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return self.status.label


class ArticleOut(Labelled):
    id: int
    version: int
    title: str
    body: str
    keywords: list[str]
    source: str | None
    author_id: int | None
    editor_id: int | None
    created_at: CentreTime
    updated_at: CentreTime


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    editor_id: int | None
    at: CentreTime
    title: str
    category: ArticleCategory
    body: str
    keywords: list[str]
    status: ArticleStatus
    source: str | None
    change_note: str | None


class FieldChange(BaseModel):
    field: str
    label: str  # 标题, 正文, …
    old: Any
    new: Any


class ArticleChange(BaseModel):
    """One article in the "what changed since my last visit" view."""

    article_id: int
    title: str
    category: ArticleCategory
    category_label: str
    status: ArticleStatus
    is_new: bool  # created (or first published) since the last visit
    archived: bool  # withdrawn since the last visit
    from_version: int | None  # the version the reader last could have seen
    to_version: int
    changed_at: CentreTime
    editor_ids: list[int]
    change_notes: list[str]  # of every version since the last visit, oldest first
    fields: list[FieldChange]  # what differs between from_version and to_version (body: see body_diff)
    body_diff: str  # unified diff of the body ("" when it did not change or the article is new)
    added_lines: int
    removed_lines: int


class ChangesView(BaseModel):
    user_id: int
    since: CentreTime | None  # the last visit; None on the first visit
    as_of: CentreTime  # pass this to do_mark_read, so edits made while reading are not skipped
    changes: list[ArticleChange]


class LatestChanges(BaseModel):
    """The workbench's card: my unread changes, newest first, the first few of them."""

    items: list[ArticleChange]
    total: int
    since: CentreTime | None


class ArticleSummary(Labelled):
    id: int
    title: str
    version: int
    updated_at: CentreTime


class ArticleDetail(ArticleOut):
    history: list[VersionOut] = Field(description="every version, the first first")


class ArticleFilter(BaseModel):
    """Browsing by category and status (分类浏览): the most recently changed first."""

    category: ArticleCategory | None = None
    status: ArticleStatus = ArticleStatus.PUBLISHED
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


class CategoryCount(BaseModel):
    category: ArticleCategory
    label: str
    count: int


class CategoryMenuItem(CategoryCount):
    drafts: int = Field(0, description="drafts of the category (counted for editors only)")


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: Version
    change_note: str | None = Field(default=None, description="why (修改说明)")

    @field_validator("change_note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        if value and len(value) > MAX_NOTE:
            raise ValueError(f"修改说明最多 {MAX_NOTE} 字(现在 {len(value)} 字)")
        return value or None


class SearchQuery(BaseModel):
    q: str = Field(description=f"words or a question (at most {MAX_QUERY} characters); traditional characters are fine")
    category: ArticleCategory | None = None
    status: ArticleStatus = ArticleStatus.PUBLISHED
    limit: int = Field(10, ge=1, le=50)


class SearchHitOut(Labelled):
    kind: str = Field(description="article or script")
    ref: int | str = Field(description="the article id or the script id")
    title: str
    score: float
    snippet: str = Field(description="the part of the body around the query terms")
    highlights: list[tuple[int, int]] = Field(description="[start, end) spans of snippet to highlight")
    title_highlights: list[tuple[int, int]]
    source: str | None
    url: str = Field(description="the page that shows it")

    def snippet_html(self) -> str:
        return mark(self.snippet, self.highlights)

    def title_html(self) -> str:
        return mark(self.title, self.title_highlights)


class SearchResult(BaseModel):
    query: str
    count: int
    took_ms: float
    hits: list[SearchHitOut]


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: datetime | None = Field(
        default=None, description="the as_of of the changes view that was read (default: now)"
    )


class VisitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: int
    last_visit_at: CentreTime


class ScriptOut(BaseModel):
    id: str
    stage: str
    stage_name: str
    scenario: str
    title: str
    steps: list[str]
    avoid: list[str]
    source: str
    url: str


class StageOut(BaseModel):
    id: str
    name: str
    count: int
    scenarios: list[str]
