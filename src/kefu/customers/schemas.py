from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kefu.core.fields import Version

PHONE = re.compile(r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")
ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")


class CustomerFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=64)
    phone: str | None = None
    account_id: str | None = Field(default=None, max_length=64)
    id_number: str | None = None
    email: str | None = Field(default=None, max_length=128)
    address: str | None = Field(default=None, max_length=256)
    notes: str | None = Field(default=None, max_length=1000)

    @field_validator("account_id", "email", "address", "notes")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None  # "" is no account id: two customers without one are not the same account

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not PHONE.match(value.replace(" ", "")):
            raise ValueError("电话号码格式不正确(手机 11 位,或区号-座机号)")
        return value.replace(" ", "") if value else value

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None) -> str | None:
        if value is not None and not ID_NUMBER.match(value):
            raise ValueError("证件号码应为 18 位(最后一位可为 X)")
        return value.upper() if value else value


class CustomerCreate(CustomerFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "李明", "phone": "13912345678", "address": "北京市朝阳区建国路1号"}]}
    )

    name: str = Field(min_length=1, max_length=64)
    phone: str


class CustomerUpdate(CustomerFields):
    version: Version


class Verification(BaseModel):
    """Facts the caller states; each one that matches the record counts as a factor."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    id_last4: str | None = Field(default=None, pattern=r"^[\dXx]{4}$")
    name: str | None = Field(default=None, max_length=64)
    account_id: str | None = Field(default=None, max_length=64)


class CustomerOut(BaseModel):
    """What the screen shows: masked until the identity check allows more."""

    id: int
    version: int
    name: str
    phone: str
    account_id: str | None
    id_number: str | None
    email: str | None
    address: str | None
    notes: str | None
    verified_level: int
    masked: bool
