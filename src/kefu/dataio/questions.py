"""The question bank in the Excel sheet trainers already keep (or CSV): one question per row,
options in 选项A–选项F, the answer as letters (A, AC) or 对/错; and exam results for
``kefu exam analyse``. Every bad row is named; nothing is imported from a sheet with one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from kefu.core.spreadsheets import to_xlsx
from kefu.core.validation import message
from kefu.dataio.cdr import cell_number
from kefu.dataio.tables import Column, ImportRejected, RowError, read_table, text_values
from kefu.training.analysis import Score
from kefu.training.models import Category, QuestionType
from kefu.training.schemas import LETTERS, QuestionIn

OPTION_FIELDS = [f"option_{letter}" for letter in LETTERS]
QUESTION_COLUMNS = [
    Column("code", "题号", ("编号", "code"), required=True),
    Column("type", "题型", ("type",), required=True),
    Column("category", "考核范围", ("分类", "类别", "category"), required=True),
    Column("difficulty", "难度", ("difficulty",)),
    Column("stem", "题干", ("题目", "stem"), required=True),
    *(Column(f, f"选项{letter}", (f"option{letter}",)) for f, letter in zip(OPTION_FIELDS, LETTERS, strict=True)),
    Column("answer", "答案", ("正确答案", "answer")),
    Column("reference", "参考答案", ("reference",)),
    Column("rubric", "评分要点", ("rubric",)),
    Column("explanation", "解析", ("explanation",)),
    Column("source", "出处", ("来源", "source")),
    Column("active", "启用", ("active",)),
]
TRUE_WORDS, FALSE_WORDS = {"对", "正确", "是", "√", "true", "t", "y"}, {"错", "错误", "否", "×", "false", "f", "n"}
FIELD_LABELS = {c.field: c.label for c in QUESTION_COLUMNS}


def _choice(value: str, kinds: Iterable[Any]) -> Any:
    for kind in kinds:
        if value in (kind.value, kind.label):
            return kind
    raise ValueError(f"应为 {'、'.join(k.label for k in kinds)} 之一")


def _answer(kind: QuestionType, text: str | None) -> Any:
    if kind is QuestionType.SHORT or not text:
        return None
    if kind is QuestionType.TRUE_FALSE:
        word = text.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("判断题的答案应为 对 或 错")
    letters = [c for c in text.upper() if not c.isspace() and c not in ",,、"]
    if not letters or any(c not in LETTERS for c in letters):
        raise ValueError("选择题的答案应为选项字母,如 A 或 AC")
    return [LETTERS.index(c) for c in letters]


def read_questions(data: bytes, filename: str) -> list[QuestionIn]:
    table = read_table(data, filename, QUESTION_COLUMNS)

    def label(name: str) -> str:
        return table.label(name, QUESTION_COLUMNS)

    out: list[QuestionIn] = []
    errors: list[RowError] = []
    fields = [c.field for c in QUESTION_COLUMNS]
    for row in table.rows:
        texts, problems = text_values(row, fields, label)
        try:
            kind = _choice(str(texts.get("type") or ""), QuestionType)
            category = _choice(str(texts.get("category") or ""), Category)
            answer = _answer(kind, texts.get("answer"))
            difficulty = int(cell_number(row.values.get("difficulty"), "难度", 1, 3) or 1)
        except ValueError as err:
            problems.append(RowError(row.number, "题型/考核范围/答案/难度", str(err)))
        if problems:
            errors += problems
            continue
        active = str(texts.get("active") or "是").strip().lower() not in FALSE_WORDS
        try:
            out.append(
                QuestionIn(
                    code=texts.get("code", ""), type=kind, category=category, difficulty=difficulty,
                    stem=texts.get("stem", ""), options=[texts[f] for f in OPTION_FIELDS if texts.get(f)],
                    answer=answer, reference=texts.get("reference"), rubric=texts.get("rubric"),
                    explanation=texts.get("explanation"), source=texts.get("source"), active=active,
                )
            )  # fmt: skip
        except ValidationError as problem:
            for e in problem.errors():
                where = label(str(e["loc"][0])) if e["loc"] else "题目"
                errors.append(RowError(row.number, where, message(e)))
    if errors:
        raise ImportRejected(errors)
    return out


def questions_workbook(items: Sequence[QuestionIn]) -> bytes:
    """The bank as the sheet it is imported from (an export re-imports unchanged)."""
    header = [c.label for c in QUESTION_COLUMNS]
    rows = []
    for q in items:
        if q.type is QuestionType.TRUE_FALSE:
            answer = "对" if q.answer else "错"
        elif isinstance(q.answer, list):
            answer = "".join(LETTERS[i] for i in q.answer)
        else:
            answer = ""
        options = [*q.options, *[""] * (len(LETTERS) - len(q.options))]
        rows.append(
            [q.code, q.type.label, q.category.label, q.difficulty, q.stem, *options, answer, q.reference or "",
             q.rubric or "", q.explanation or "", q.source or "", "是" if q.active else "否"]
        )  # fmt: skip
    return to_xlsx(header, rows, "题库")


RESULT_COLUMNS = [
    Column("candidate", "考生", ("工号", "candidate"), required=True),
    Column("question", "题号", ("question",), required=True),
    Column("points", "得分", ("points", "score"), required=True),
    Column("maximum", "满分", ("分值", "maximum"), required=True),
]


def read_results(data: bytes, filename: str) -> list[Score]:
    """Exam results, one row per candidate and question (the platform's export)."""
    table = read_table(data, filename, RESULT_COLUMNS)

    def label(name: str) -> str:
        return table.label(name, RESULT_COLUMNS)

    out: list[Score] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for row in table.rows:
        texts, problems = text_values(row, ("candidate", "question"), label)
        pair = (str(texts.get("candidate")), str(texts.get("question")))
        if pair in seen and not problems:
            problems.append(RowError(row.number, label("question"), f"与第 {seen[pair]} 行重复(同一考生同一题)"))
        seen.setdefault(pair, row.number)
        numbers = {}
        for name in ("points", "maximum"):
            try:
                numbers[name] = cell_number(row.values.get(name), label(name), 0, 1000)
            except ValueError as err:
                problems.append(RowError(row.number, label(name), str(err)))
        for name in ("candidate", "question", "points", "maximum"):
            if texts.get(name) is None and numbers.get(name) is None and not problems:
                problems.append(RowError(row.number, label(name), "不能为空"))
        if not problems and numbers["points"] > numbers["maximum"]:
            problems.append(RowError(row.number, label("points"), "得分超过满分"))
        if problems:
            errors += problems
            continue
        out.append(Score(str(texts["candidate"]), str(texts["question"]), numbers["points"], numbers["maximum"]))
    if errors:
        raise ImportRejected(errors)
    if not out:
        raise ImportRejected([RowError(None, "文件", "没有成绩行")])
    return out
