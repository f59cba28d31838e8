"""Realistic five-minute inbound voice calls for the benchmark, built from real agent text.

Agent turns are real JD.com agent replies (``shared/data/jddc_agent_replies.txt``, see its
README) with the desensitisation placeholders filled in; the opening, closing, hold and
read-back lines follow the seeds' scripts. Customer turns are short made-up utterances (the
benchmark measures the engine, which mostly reads agent turns). A seeded RNG makes the set the
same on every run, so figures from different runs and machines compare.

Run this file to print one generated call as JSON.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kefu.inspection.transcript import Transcript
from kefu.rulebook.calendar import moment_greetings
from kefu.rulebook.schema import Rulebook

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
JDDC = DATA / "jddc_agent_replies.txt"

CST = timezone(timedelta(hours=8))
COMPANIES = ["京东", "智能科技", "联通", "华信电器", "顺达物流"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
AGENT_NAMES = ["小李", "小王", "小张", "小陈", "小刘", "小周", "小林", "小赵"]

# What a caller says between the agent's replies. Made up; short, as on the phone.
CUSTOMER_LINES = [
    "嗯,好的。",
    "对,是这个订单。",
    "那大概什么时候能到?",
    "我想问一下退款的事情。",
    "这个能不能换货?",
    "好的,我知道了。",
    "那运费谁出?",
    "是昨天下的单。",
    "我在网上看显示已经发货了。",
    "可以,你帮我看一下吧。",
    "那我要怎么操作?",
    "发票能补开吗?",
    "价格降了能退差价吗?",
    "快递员一直没联系我。",
    "行,那我等一下。",
    "明白了,谢谢。",
    "我是用微信付的款。",
    "那我再考虑一下。",
    "地址我想改一下。",
    "嗯,还有一个问题。",
]
UPSET_LINES = [
    "怎么回事啊,都一个星期了还没到,太慢了!",
    "你们这服务太差了,我要投诉!",
    "我已经打了三次电话了,一直没人管!",
]
EMPATHY_LINES = [
    "非常抱歉给您带来不便,我理解您的心情,我马上为您处理。",
    "真的很抱歉让您着急了,您先别着急,我这边立即帮您查询。",
]
HOLD = "好的,请您稍等,我为您查询一下。"
AFTER_HOLD = "感谢您的耐心等待,"
ANYTHING_ELSE = "请问还有其他可以帮到您的吗?"
_PLACEHOLDERS = {
    "[站点x]": "北京朝阳站",
    "[姓名x]": "",
    "[电话x]": "尾号1234的号码",
    "[时间x]": "下午三点",
    "[地址x]": "您填写的地址",
    "[金额x]": "20元",
    "[日期x]": "今天",
    "[组织机构x]": "厂家",
}


def load_replies(path: Path = JDDC) -> list[str]:
    """Real agent replies, placeholders filled, one spoken turn each (8–90 characters)."""
    rng = random.Random(7)
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "http" in line or "[链接x]" in line or "[商品快照]" in line or "价保金额" in line:
            continue
        text = re.sub(r"#E-\w+(\[数字x\])?", "", line)
        text = re.sub(r"\[数字x\]", lambda _: str(rng.randint(1, 15)), text)
        for key, value in _PLACEHOLDERS.items():
            text = text.replace(key, value)
        if "[" in text:
            continue
        parts = [p.strip(" ~") for p in text.split(",")]
        text = ",".join(p for p in parts if p)
        if 8 <= len(text) <= 90:
            out.append(re.sub(r"[。,,]+$", "", text) + "。")
    return out


def build_calls(
    rulebook: Rulebook, count: int, *, seed: int = 20261123, replies: list[str] | None = None
) -> list[Transcript]:
    rng = random.Random(seed)
    replies = replies if replies is not None else load_replies()
    forbidden = [e.quote or e.text for e in rulebook.phrase_sets["forbidden"].entries]
    return [_call(rng, rulebook, replies, forbidden, n) for n in range(count)]


def _call(rng: random.Random, rulebook: Rulebook, replies: list[str], forbidden: list[str], n: int) -> Transcript:
    company = rng.choice(COMPANIES)
    agent_id = str(rng.randint(10000, 99999))
    agent_name = rng.choice(AGENT_NAMES)
    surname = rng.choice(SURNAMES)
    day = datetime(2026, 11, 2, tzinfo=CST) + timedelta(days=rng.randrange(28))
    ring = day + timedelta(seconds=rng.randrange(7 * 3600, 23 * 3600))
    delay = rng.choice([3, 4, 5, 6, 7, 8, 9]) if rng.random() < 0.9 else rng.randint(12, 25)
    answered = ring + timedelta(seconds=delay)
    expected = moment_greetings(rulebook.greetings, answered)
    greeting = expected.greeting if rng.random() < 0.95 else "您好"
    sorry = "对不起,让您久等了!" if delay > 10 and rng.random() < 0.7 else ""

    # (speaker, text, extra silence before the turn in seconds)
    script: list[tuple[str, str, float]] = [
        (
            "agent",
            f"{sorry}{greeting},欢迎致电{company}客服中心,客服代表{agent_name},"
            f"工号{agent_id},很高兴为您服务,请问有什么可以帮您?",
            0.0,
        ),
        ("customer", f"你好,我姓{surname},我想问一下我的订单。", 0.0),
    ]
    if rng.random() < 0.6:  # identity check (004 核实身份话术) before account details
        tail = rng.randint(1000, 9999)
        script += [
            ("agent", f"{surname}先生您好,为了保障您的账户安全,请您提供一下手机号码最后四位。", 0.0),
            ("customer", f"{tail}。", 0.0),
            ("agent", f"尾号{tail},验证通过,谢谢您的配合。请问您的订单是什么时候下的呢?", 0.0),
        ]
    else:
        script.append(("agent", f"{surname}先生您好,请问您的订单是什么时候下的呢?", 0.0))
    middle = rng.randint(15, 18)  # agent/customer pairs; with the rest about 40 turns
    hold_at = rng.randrange(2, middle) if rng.random() < 0.08 else -1
    bad_at = rng.randrange(1, middle) if rng.random() < 0.05 else -1
    upset_at = rng.randrange(1, middle) if rng.random() < 0.1 else -1
    number_at = rng.randrange(1, middle) if rng.random() < 0.3 else -1
    for k in range(middle):
        reply = rng.choice(replies)
        if k == upset_at:
            script.append(("customer", rng.choice(UPSET_LINES), 0.0))
            if rng.random() < 0.8:
                reply = rng.choice(EMPATHY_LINES)
        elif k == number_at:
            number = "".join(str(rng.randrange(10)) for _ in range(12))
            script.append(("customer", f"订单号是{number}。", 0.0))
            if rng.random() < 0.8:
                reply = f"跟您确认一下,订单号是{number},对吗?"
        else:
            script.append(("customer", rng.choice(CUSTOMER_LINES), 0.0))
        if k == hold_at:
            script.append(("agent", HOLD, 0.0))
            thanks = AFTER_HOLD if rng.random() < 0.7 else ""
            script.append(("agent", thanks + reply, rng.uniform(15, 40)))
            continue
        if k == bad_at:
            phrase = rng.choice(forbidden)
            reply = f"{phrase},{reply}" if rng.random() < 0.5 else f"{reply.rstrip('。')},{phrase}"
        script.append(("agent", reply, 0.0))
    script += [
        ("agent", ANYTHING_ELSE, 0.0),
        ("customer", "没有了,谢谢。", 0.0),
        ("agent", expected.closing, 0.0),
    ]

    turns, clock = [], 0.0
    agent_rate = rng.uniform(2.1, 2.5)  # characters per second: 126–150 a minute
    for speaker, text, silence in script:
        rate = agent_rate if speaker == "agent" else rng.uniform(3.0, 4.0)
        start = clock + (0.0 if not turns else rng.uniform(0.3, 1.0) + silence)
        spoken = sum(ch.isalnum() for ch in text)  # punctuation takes no time to say
        end = start + max(0.6, spoken / rate)
        turns.append({"speaker": speaker, "start": round(start, 2), "end": round(end, 2), "text": text})
        clock = end
    hangup = "customer" if rng.random() < 0.95 else "agent"
    return Transcript.model_validate(
        {
            "id": f"bench-{n:05d}",
            "channel": "voice",
            "direction": "inbound",
            "agent_id": agent_id,
            "agent_name": agent_name,
            "company": company,
            "ring_at": ring,
            "answered_at": answered,
            "ended_at": answered + timedelta(seconds=round(clock + 2.0)),
            "hangup_by": hangup,
            "turns": turns,
        }
    )


if __name__ == "__main__":
    from kefu.rulebook.loader import load_rulebook

    print(build_calls(load_rulebook(), 1)[0].model_dump_json(indent=2, exclude_none=True))
