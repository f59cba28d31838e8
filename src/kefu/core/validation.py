"""Validation problems in Chinese: Pydantic's error entries (as FastAPI and our models raise them)
turned into what a person reads — which field, and what is wrong with it.

The domain's own checks already speak Chinese (``ValueError("…")`` in a validator); Pydantic's
built-in ones (a missing field, a number out of range, a too-long text) speak English, and are
translated here by their error type, with the limits from the error's context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_PLAIN: dict[str, str] = {
    "missing": "必填",
    "extra_forbidden": "不认识的字段",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "int_parsing_size": "数值超出范围",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文字",
    "string_unicode": "应为有效的文字",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "set_type": "应为列表",
    "dict_type": "应为对象 {…}",
    "model_type": "应为对象 {…}",
    "model_attributes_type": "应为对象 {…}",
    "date_type": "应为日期,如 2026-11-23",
    "date_parsing": "日期格式不正确,应为 2026-11-23",
    "date_from_datetime_parsing": "日期格式不正确,应为 2026-11-23",
    "date_from_datetime_inexact": "应为日期,不带时间",
    "datetime_type": "应为时间,如 2026-11-23T14:30:00+08:00",
    "datetime_parsing": "时间格式不正确,应为 2026-11-23T14:30:00+08:00 或 2026-11-23 14:30",
    "datetime_from_date_parsing": "时间格式不正确,应为 2026-11-23T14:30:00+08:00 或 2026-11-23 14:30",
    "datetime_object_invalid": "时间不存在",
    "timezone_aware": "时间须带时区",
    "json_invalid": "不是有效的 JSON",
    "json_type": "应为 JSON 文本",
    "url_parsing": "网址格式不正确",
    "uuid_parsing": "格式不正确",
    "none_required": "应为空",
    "is_instance_of": "类型不正确",
    "union_tag_invalid": "类型不正确",
}


# Messages that quote the limit the input broke (Pydantic's ``ctx``).
_LIMITS = {
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "应小于 {lt}",
    "string_too_short": "至少 {min_length} 个字",
    "string_too_long": "最多 {max_length} 个字",
    "too_short": "至少要有 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_pattern_mismatch": "格式不正确",
    "enum": "应为 {expected} 之一",
    "literal_error": "应为 {expected} 之一",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "decimal_max_digits": "数字位数过多",
    "decimal_max_places": "数字位数过多",
    "decimal_whole_digits": "数字位数过多",
}


class _Context(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "None"


def _limited(kind: str, ctx: Mapping[str, Any]) -> str | None:
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "不能为空"
    template = _LIMITS.get(kind)
    return None if template is None else template.format_map(_Context(ctx))


def message(problem: Mapping[str, Any]) -> str:
    """What is wrong, in Chinese: the validator's own message if it gave one (``ValueError`` /
    ``AssertionError`` raised by our models), else Pydantic's error type translated."""
    kind = str(problem.get("type", ""))
    text = str(problem.get("msg", ""))
    if kind in ("value_error", "assertion_error"):
        return text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    ctx = problem.get("ctx") or {}
    return _PLAIN.get(kind) or _limited(kind, ctx) or text


def field(loc: Sequence[int | str]) -> str:
    """Where: ``transcript.3.start`` in a body, ``query.limit`` or ``path.call_id`` elsewhere."""
    parts = list(loc)
    if parts[:1] == ["body"]:
        parts = parts[1:]
    return ".".join(str(p) for p in parts)
