"""来电原因: the reason code every call gets, for statistics (seed 002 4.2(6): 「对于每一个咨询电话,
客服代表应在系统上点击来电原因,以便系统进行咨询量的统计」).

The default list comes from the seeds (each entry names its source); a centre replaces it with
its own list — a YAML file of ``{code, label, …}`` entries — through ``load_reasons`` /
``use_reasons``, or by pointing ``KEFU_CALL_REASONS`` at the file.

Codes are stable ASCII identifiers stored on the call; labels are what agents click and what
reports show. Input accepts either (「咨询-资费」 or ``consult.tariff``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# What a work order created from a call of this reason would most likely be (SPEC §3 types
# 咨询类 / 投诉类 / 故障类 / 建议类); a hint for the work-order form, never binding.
WorkOrderHint = Literal["consultation", "complaint", "fault", "suggestion"]


class CallReason(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_.]{0,31}$", description="stable id stored on the call")
    label: str = Field(min_length=1, max_length=32, description="中文名称, e.g. 咨询-资费")
    group: str = Field(default="", max_length=16, description="统计大类, e.g. 咨询")
    description: str = ""
    work_order_hint: WorkOrderHint | None = None
    source: str | None = None
    active: bool = Field(default=True, description="inactive reasons stay readable on old calls, not selectable")


class ReasonCatalogue(BaseModel):
    """The centre's list of reasons, in the order agents see them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reasons: list[CallReason] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ReasonCatalogue:
        for attr in ("code", "label"):
            seen: set[str] = set()
            for reason in self.reasons:
                value = getattr(reason, attr)
                if value in seen:
                    raise ValueError(f"来电原因{'代码' if attr == 'code' else '名称'} {value!r} 重复")
                seen.add(value)
        return self

    def __iter__(self) -> Iterator[CallReason]:  # type: ignore[override]
        return iter(self.reasons)

    def get(self, code: str) -> CallReason | None:
        return next((r for r in self.reasons if r.code == code), None)

    def label(self, code: str) -> str:
        """The label of a stored code; an unknown (e.g. since removed) code shows as itself."""
        reason = self.get(code)
        if reason is None and code == UNANSWERED:
            return UNANSWERED_LABEL
        return reason.label if reason else code

    def resolve(self, value: str) -> CallReason:
        """A code or a label (as typed in a form or a spreadsheet) → the active reason.

        Raises ``ValueError`` with a Chinese message listing what is accepted."""
        key = value.strip()
        for reason in self.reasons:
            if key in (reason.code, reason.label):
                if not reason.active:
                    raise ValueError(f"来电原因“{reason.label}”已停用,请选择其他原因")
                return reason
        choices = "、".join(r.label for r in self.reasons if r.active)
        raise ValueError(f"未知的来电原因“{key}”,可选:{choices}")

    def choices(self) -> list[tuple[str, str]]:
        """(code, label) of the reasons an agent can pick, for a select box."""
        return [(r.code, r.label) for r in self.reasons if r.active]


def _r(code: str, label: str, group: str, source: str, hint: WorkOrderHint | None = None, text: str = "") -> CallReason:
    return CallReason(code=code, label=label, group=group, source=source, work_order_hint=hint, description=text)


DEFAULT_REASONS = ReasonCatalogue(
    reasons=[
        _r("consult.tariff", "咨询-资费", "咨询", "002 4.1 资费标准", "consultation", "资费标准、套餐价格"),
        _r(
            "consult.service",
            "咨询-业务办理",
            "咨询",
            "002 4.1 业务办理手续、业务使用方法",
            "consultation",
            "业务办理手续、使用方法、品牌与增值业务",
        ),
        _r("consult.promotion", "咨询-优惠政策", "咨询", "002 4.1 优惠政策", "consultation"),
        _r("consult.outlet", "咨询-服务网点", "咨询", "002 4.1 服务网点", "consultation"),
        _r("query", "查询", "查询", "003 10000号服务内容:查询", "consultation", "账单、余额、订单、进度查询"),
        _r("payment", "缴费充值", "业务", "003 10000号服务内容:缴费充值"),
        _r("complaint", "投诉", "投诉", "003 投诉建议;000 投诉处理;004 投诉类工单", "complaint"),
        _r("fault", "故障申告", "故障", "003 故障申告;004 故障类工单", "fault"),
        _r("suggestion", "建议", "建议", "002 §5 客户建议服务规范(记录不承诺);004 建议类工单", "suggestion"),
        _r("marketing", "业务营销", "营销", "003 10000号服务内容:业务营销;004 销售业绩"),
        _r("callback", "回访", "回访", "SPEC §3 回访;000 2.4 跟进"),
        _r(
            "cross_region",
            "跨区业务",
            "跨区",
            "002 4.2(3)、6.1(3)(4) 跨区服务热线",
            text="跨区资料查询、跨区停/复(开)机;其他业务引导致电归属地10086",
        ),
        _r(
            "out_of_scope",
            "超范围咨询",
            "超范围",
            "002 6.1(5)(6)",
            text="超出热线服务范围(引导到相应渠道)或公司业务范围(礼貌解释,三次后挂机)",
        ),
        _r("silent", "无声电话", "无效来电", "003 无声电话处理", text="问候、稍停5秒、重复、致歉后挂机"),
        _r("other", "其他", "其他", "002 4.2(6)(每个来电都要有原因)"),
    ]
)
# A call nobody answered (abandoned in the queue, an outbound call not picked up) has no reason an
# agent could click; it is stored under this code, whatever the centre's list.
UNANSWERED = "abandoned"
UNANSWERED_LABEL = "未接通"

_current: ReasonCatalogue | None = None


def load_reasons(path: Path) -> ReasonCatalogue:
    """A YAML file: a list of reasons, or ``{reasons: [...]}``. Errors say which entry is wrong."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"{path}: 无法读取来电原因配置:{err}") from None
    if isinstance(data, list):
        data = {"reasons": data}
    try:
        return ReasonCatalogue.model_validate(data)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{path}: {where}: {first['msg']}") from None


def use_reasons(catalogue: ReasonCatalogue | Iterable[CallReason] | None) -> ReasonCatalogue:
    """Make ``catalogue`` the centre's list (``None``: back to the environment / defaults)."""
    global _current
    if catalogue is None:
        _current = None
        return current_reasons()
    _current = catalogue if isinstance(catalogue, ReasonCatalogue) else ReasonCatalogue(reasons=list(catalogue))
    return _current


def current_reasons() -> ReasonCatalogue:
    global _current
    if _current is None:
        path = os.environ.get("KEFU_CALL_REASONS")
        _current = load_reasons(Path(path)) if path else DEFAULT_REASONS
    return _current
