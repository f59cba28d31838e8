"""What /api/assist takes and gives."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kefu.knowledge.schemas import ScriptOut


class CheckIn(BaseModel):
    text: str = Field(description="a reply or a note as typed so far (at most 2,000 characters)")


class HitOut(BaseModel):
    set: str = Field(description="phrase set: forbidden, negative or abuse")
    label: str = Field(description="the set's name for people (服务禁语, …)")
    evidence: str = Field(description="the words as typed")
    start: int = Field(description="where they start in the text (characters, i.e. code points)")
    end: int = Field(description="where they end, exclusive")
    suggestion: str | None = Field(description="the recommended wording, if the standard gives one")
    source: str | None = Field(description="the standard it comes from")


class CheckOut(BaseModel):
    hits: list[HitOut]
    corrected: str = Field(description="the text with every recommended wording put in")


class StageOut(BaseModel):
    id: str
    name: str
    source: str | None
    scenarios: list[str] = Field(description="the scenarios this stage has scripts for")


class ContextOut(BaseModel):
    moment: datetime = Field(description="now, on the centre's clock")
    holiday: str | None
    greeting: str = Field(description="问候语 for now: 早上好, 您好, 新年好, …")
    opening: str = Field(description="the opening line for now")
    closing: str = Field(description="the closing line for now")
    stages: list[StageOut] = Field(description="the call stages in order: the checklist")
    scenarios: list[str]
    stage: str | None = Field(description="the stage the scripts are of (null: all)")
    scenario: str | None = Field(description="the scenario the scripts are of (null: all)")
    scripts: list[ScriptOut] = Field(description="the scripts of that stage and scenario, in call-stage order")
