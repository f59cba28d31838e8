"""Choice sets (after NetBox's ChoiceSet): every fixed list of values a domain stores — a work
order's status, a call's direction, an audit action — is one enum with, per member, the stored
value, the Chinese label people read and a colour for badges, and one way to read it back from a
form, a spreadsheet or the API (the value or the label).

    class Priority(ChoiceSet, title="优先级"):
        URGENT = "urgent", "紧急", "danger"
        LOW = "low", "低"

Stored with ``enum_column``: the value as a string column (no database enum type, so adding a
member needs no migration of the type), checked on the way in by SQLAlchemy.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from sqlalchemy import Enum


class ChoiceSet(StrEnum):
    """The stored value, the label the pages show, and a badge colour (Bootstrap's names)."""

    def __init_subclass__(cls, title: str = "选项", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._title = title  # type: ignore[attr-defined]

    def __new__(cls, value: str, label: str, color: str = "secondary") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label  # type: ignore[attr-defined]
        member._color = color  # type: ignore[attr-defined]
        return member

    @property
    def label(self) -> str:
        return self._label  # type: ignore[attr-defined,no-any-return]

    @property
    def color(self) -> str:
        return self._color  # type: ignore[attr-defined,no-any-return]

    @classmethod
    def title(cls) -> str:
        """What the set is called, in messages (工单状态)."""
        return cls._title  # type: ignore[attr-defined,no-any-return]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]

    @classmethod
    def labels(cls) -> dict[str, str]:
        return {member.value: member.label for member in cls}

    @classmethod
    def parse(cls, text: object) -> Self:
        """A member from its value or its label (surrounding spaces ignored); a ``ValueError``
        naming the set and its labels otherwise."""
        if isinstance(text, cls):
            return text
        if isinstance(text, str):
            wanted = text.strip()
            for member in cls:
                if wanted in (member.value, member.label):
                    return member
        raise ValueError(f"{cls.title()}应为{'、'.join(member.label for member in cls)}之一")


def enum_column(cls: type[StrEnum], length: int = 16) -> Enum:
    """The column type of a choice set: its values (not the member names) as a string."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda members: [m.value for m in members])
