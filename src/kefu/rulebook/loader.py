"""Load the shipped rulebook, lay a centre's file over it, validate, and say where it is wrong.

Merging: scalars and whole conditions are replaced; ``categories`` and ``greetings`` merge
key by key; lists of things with an id (rules, scripts, stages, holidays, templates) merge
by id, a rule given again by a centre changes only the fields it names; a phrase set's
entries merge by text, ``remove`` drops default entries and ``replace: true`` starts afresh.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kefu.core import validation
from kefu.core.errors import os_reason
from kefu.rulebook.schema import Rulebook, referenced_sets

DEFAULT_FILES = (
    "rulebook.yaml",
    "greetings.yaml",
    "phrases.yaml",
    "cues.yaml",
    "scripts.yaml",
    "rules.yaml",
)
SECTIONS = set(Rulebook.model_fields)
KEYED_LISTS = {
    ("rules",): "id",
    ("scripts",): "id",
    ("stages",): "id",
    ("greetings", "holidays"): "id",
    ("greetings", "templates"): "id",
}
Loc = tuple[str | int, ...]


class RulebookError(Exception):
    """A rulebook that cannot be used. Each problem names the file, the line and the reason."""

    def __init__(self, problems: Sequence[tuple[str, int | None, str]]):
        self.problems = list(problems)
        super().__init__("\n".join(self._format(p) for p in self.problems))

    @staticmethod
    def _format(problem: tuple[str, int | None, str]) -> str:
        file, line, reason = problem
        return f"{file}:{line}: {reason}" if line else f"{file}: {reason}"


@dataclass
class _Source:
    name: str
    node: yaml.Node | None

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest node that ``loc`` reaches in this file (1-based)."""
        node, found = self.node, self.node
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == key), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                node = node.value[key] if 0 <= key < len(node.value) else None
            else:
                node = None
            if node is None:
                break
            found = node
        return found.start_mark.line + 1 if found is not None else None


class _Merger:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.origin: dict[Loc, tuple[_Source, Loc]] = {}
        self.problems: list[tuple[str, int | None, str]] = []

    def _mark(self, loc: Loc, source: _Source, file_loc: Loc, value: Any) -> None:
        self.origin[loc] = (source, file_loc)
        if isinstance(value, dict):
            for key, item in value.items():
                self._mark((*loc, key), source, (*file_loc, key), item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._mark((*loc, index), source, (*file_loc, index), item)

    def add(self, doc: dict[str, Any], source: _Source) -> None:
        for key, value in doc.items():
            self._merge_value(self.data, (key,), value, source, (key,))

    def _merge_value(self, target: dict[str, Any], loc: Loc, value: Any, source: _Source, file_loc: Loc) -> None:
        key = loc[-1]
        current = target.get(key)
        if loc[:1] == ("phrase_sets",) and len(loc) == 2 and isinstance(value, dict):
            target[key] = self._merge_phrase_set(current, loc, value, source, file_loc)
        elif loc in KEYED_LISTS and isinstance(value, list) and isinstance(current, list):
            self._merge_keyed(current, loc, value, source, file_loc, KEYED_LISTS[loc])
        elif (
            isinstance(value, dict)
            and isinstance(current, dict)
            and loc[0] in ("categories", "greetings", "phrase_sets")
        ):
            for sub, item in value.items():
                self._merge_value(current, (*loc, sub), item, source, (*file_loc, sub))
        else:
            target[key] = copy.deepcopy(value)
            self._mark(loc, source, file_loc, value)

    def _merge_keyed(
        self,
        current: list[Any],
        loc: Loc,
        value: list[Any],
        source: _Source,
        file_loc: Loc,
        id_key: str,
    ) -> None:
        index_of = {item.get(id_key): i for i, item in enumerate(current) if isinstance(item, dict)}
        for file_index, item in enumerate(value):
            item_id = item.get(id_key) if isinstance(item, dict) else None
            if item_id in index_of:
                position = index_of[item_id]
                for field, field_value in item.items():
                    current[position][field] = copy.deepcopy(field_value)
                    self._mark((*loc, position, field), source, (*file_loc, file_index, field), field_value)
            else:
                index_of[item_id] = len(current)
                self._mark((*loc, len(current)), source, (*file_loc, file_index), item)
                current.append(copy.deepcopy(item))

    def _merge_phrase_set(self, current: Any, loc: Loc, value: dict[str, Any], source: _Source, file_loc: Loc) -> Any:
        if not isinstance(current, dict) or value.get("replace"):
            self._mark(loc, source, file_loc, value)
            return copy.deepcopy(value)
        merged = dict(current)
        removed = value.get("remove") or []
        known = {_entry_text(e) for e in merged.get("entries", [])}
        for index, text in enumerate(removed):
            if text not in known:
                self.problems.append(
                    (
                        source.name,
                        source.line_of((*file_loc, "remove", index)),
                        f"remove:「{text}」不在短语集 {loc[-1]} 中",
                    )
                )
        entries = [e for e in merged.get("entries", []) if _entry_text(e) not in set(removed)]
        by_text = {_entry_text(e): i for i, e in enumerate(entries)}
        for file_index, entry in enumerate(value.get("entries") or []):
            text = _entry_text(entry)
            position = by_text.get(text, len(entries))
            if position == len(entries):
                entries.append(entry)
                by_text[text] = position
            else:
                entries[position] = entry
            self._mark((*loc, "entries", position), source, (*file_loc, "entries", file_index), entry)
        merged["entries"] = entries
        for field in ("label", "source"):
            if field in value:
                merged[field] = value[field]
                self._mark((*loc, field), source, (*file_loc, field), value[field])
        return merged

    def locate(self, loc: Loc) -> tuple[str, int | None]:
        for cut in range(len(loc), 0, -1):
            if loc[:cut] in self.origin:
                source, file_loc = self.origin[loc[:cut]]
                return source.name, source.line_of((*file_loc, *loc[cut:]))
        return "rulebook", None


def _entry_text(entry: Any) -> Any:
    return entry.get("text") if isinstance(entry, dict) else entry


# PyYAML's usual complaints, as an author can act on them.
_YAML_PROBLEMS = (
    (re.compile(r"mapping values are not allowed here"), "此处不能有「键: 值」:可能是缩进不对,或值里的冒号需要加引号"),
    (re.compile(r"found character '\\t' that cannot start any token"), "含有制表符(Tab):请用空格缩进"),
    (re.compile(r"found unexpected end of stream"), "文件意外结束:可能有引号或括号没有闭合"),
    (re.compile(r"expected ',' or '([\]}])', but got .*"), "缺少「,」或「{0}」:括号没有闭合"),
    (re.compile(r"expected <block end>, but found .*"), "缩进不一致"),
    (re.compile(r"could not find expected ':'"), "缺少冒号「:」"),
    (re.compile(r"found undefined alias '(.*)'"), "引用了未定义的锚点「{0}」"),
    (re.compile(r"found duplicate anchor.*"), "锚点重复定义"),
)


def _yaml_reason(problem: str) -> str:
    for pattern, reason in _YAML_PROBLEMS:
        found = pattern.fullmatch(problem)
        if found:
            return reason.format(*found.groups())
    return problem


# libyaml when it is installed: the bundled rulebook parses in a third of the time, which every
# start of the platform and every inspector build pays.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the data; a broken file is parsed again by the
    pure-Python parser, whose messages ``_YAML_PROBLEMS`` translates."""
    try:
        return yaml.compose(text, Loader=_FAST_LOADER), yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)


def _read(text: str, name: str) -> tuple[dict[str, Any], _Source]:
    try:
        node, data = _parse(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = _yaml_reason(getattr(err, "problem", None) or str(err))
        raise RulebookError([(name, line, f"不是有效的 YAML:{reason}")]) from None
    source = _Source(name, node)
    if data is None:
        return {}, source
    if not isinstance(data, dict):
        raise RulebookError([(name, 1, "规则文件应由若干段组成(rules:、phrase_sets: 等)")])
    unknown = [k for k in data if k not in SECTIONS]
    if unknown:
        known = "、".join(sorted(SECTIONS))
        raise RulebookError([(name, source.line_of((k,)), f"未知的段「{k}」;可用的段:{known}") for k in unknown])
    return data, source


def _describe_loc(loc: Loc, data: dict[str, Any]) -> str:
    """``rules[my_rule].forbid.set`` rather than ``rules.21.forbid.set``: merged positions mean
    nothing to the author of a file."""
    parts: list[str] = []
    node: Any = data
    for key in loc:
        named = isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node)
        item = node[key] if named else (node.get(key) if isinstance(node, dict) else None)
        label = item.get("id") or item.get("text") if named and isinstance(item, dict) else None
        if isinstance(key, int):
            parts.append(f"[{label or key}]")
        else:
            parts.append(("." if parts else "") + str(key))
        node = item
    return "".join(parts)


def _pydantic_reason(error: dict[str, Any], data: dict[str, Any]) -> str:
    loc = _describe_loc(tuple(error["loc"]), data)
    message = "未知的键(是否拼写错误?)" if error["type"] == "extra_forbidden" else validation.message(error)
    return f"{loc}:{message}"


def default_texts() -> list[tuple[str, str]]:
    folder = resources.files("kefu.rulebook") / "data"
    return [(f"kefu/rulebook/data/{name}", (folder / name).read_text("utf-8")) for name in DEFAULT_FILES]


def load_rulebook(paths: Iterable[Path] = (), *, defaults: bool = True) -> Rulebook:
    """The shipped rulebook with each file of ``paths`` laid over it, in order."""
    return load_texts((default_texts() if defaults else []) + read_texts(paths))


def read_texts(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """The centre's files as (name, text): UTF-8 (with or without BOM) or GB18030."""
    texts = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as err:
            raise RulebookError([(str(path), None, f"无法读取:{os_reason(err)}")]) from None
        try:
            texts.append((str(path), raw.decode("utf-8-sig")))
        except UnicodeDecodeError:
            try:
                texts.append((str(path), raw.decode("gb18030")))
            except UnicodeDecodeError:
                raise RulebookError([(str(path), None, "不是 UTF-8 或 GB18030 编码的文本")]) from None
    return texts


def load_texts(texts: Sequence[tuple[str, str]]) -> Rulebook:
    merger = _Merger()
    for name, text in texts:
        data, source = _read(text, name)
        merger.add(data, source)
    try:
        rulebook = Rulebook.model_validate(merger.data)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            file, line = merger.locate(tuple(error["loc"]))
            problems.append((file, line, _pydantic_reason(error, merger.data)))
        raise RulebookError(merger.problems + problems) from None
    problems = merger.problems + [(*merger.locate(loc), reason) for loc, reason in cross_reference_problems(rulebook)]
    if problems:
        raise RulebookError(problems)
    return rulebook


def cross_reference_problems(rulebook: Rulebook) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for index, rule in enumerate(rulebook.rules):
        if rule.id in seen:
            problems.append((("rules", index, "id"), f"规则 id「{rule.id}」重复使用"))
        seen.add(rule.id)
        if rule.category not in rulebook.categories:
            known = "、".join(rulebook.categories)
            problems.append((("rules", index, "category"), f"未知的类别「{rule.category}」;可用的类别:{known}"))
        for loc, name in referenced_sets(rule):
            if name not in rulebook.phrase_sets:
                problems.append((("rules", index, *loc), f"未知的短语集「{name}」"))
    stage_ids = {stage.id for stage in rulebook.stages}
    for index, script in enumerate(rulebook.scripts):
        if script.stage not in stage_ids:
            problems.append((("scripts", index, "stage"), f"未知的通话阶段「{script.stage}」"))
    return problems
