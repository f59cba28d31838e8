"""Demo calls: about twenty realistic calls over the last days — every reason of the seeds, a
few night-service calls (seed 002: 23:30–07:30), the cross-region and out-of-scope scripts of
seed 002, the silent-call procedure of seed 003, and some of the package's example transcripts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.calls.schemas import CallCreate
from kefu.calls.service import day_range, do_create_call
from kefu.core.clock import centre_tz, on_centre_clock, utc_for_storing
from kefu.customers.models import Customer
from kefu.inspection.parsers import parse_text

PREFIX = "DEMO-"
COMPANY = "智能科技"
CHARS_PER_SECOND = 4.0  # ≈ 140 characters a minute (seed 003: 120–160)


def _example(name: str, index: int = 0) -> list[dict[str, Any]]:
    text = (resources.files("kefu.examples") / name).read_text(encoding="utf-8")
    item = parse_text(text, name)[index]
    assert item.transcript is not None, item.error
    return [t.model_dump(mode="json", exclude_none=True) for t in item.transcript.turns]


def _timed(*lines: str, pause: float = 0.6) -> list[dict[str, Any]]:
    """「客服: …」 / 「客户: …」 / 「…5」 (a silence of 5 s) into turns with times."""
    turns, clock = [], 0.0
    for line in lines:
        if line.startswith("…"):
            clock += float(line[1:])
            continue
        speaker, text = line.split(":", 1)
        length = max(1.0, len(text) / CHARS_PER_SECOND)
        turns.append(
            {
                "speaker": "agent" if speaker == "客服" else "customer",
                "text": text.strip(),
                "start": round(clock, 1),
                "end": round(clock + length, 1),
            }
        )
        clock += length + pause
    return turns


OPENING = f"您好,感谢致电{COMPANY}客服中心,我是客服{{name}},工号{{no}},很高兴为您服务,请问有什么可以帮您?"
CLOSING = "请问还有其他可以帮到您的吗?感谢您的来电,稍后请对我的服务做出评价,谢谢您,再见!"


@dataclass(frozen=True)
class _Demo:
    days_ago: int  # 0: today, before now
    at: time | timedelta  # clock time on that day, or (today) how long ago it rang (see _ring_at)
    direction: str
    reason: str
    summary: str
    turns: Any  # list of turns, or a function of (agent) giving them
    ring: int = 6  # seconds ring → answer
    channel: str = "voice"
    customer: bool = True
    hangup_by: str = "customer"


def _script(*lines: str) -> Any:
    def build(agent: User) -> list[dict[str, Any]]:
        opening = OPENING.format(name=agent.name, no=agent.agent_no)
        fill = {"{opening}": opening, "{closing}": CLOSING, "{no}": agent.agent_no, "{name}": agent.name}
        out = []
        for line in lines:
            for key, value in fill.items():
                line = line.replace(key, value)
            out.append(line)
        return _timed(*out)

    return build


CROSS_REGION = (
    "您好!您所拨打的是跨区服务热线,只可办理跨区资料查询、跨区停/复(开)机,由于系统功能限制,"
    "若您需要继续了解其他具体的情况,请您挂机重新拨打您归属地所在的客服热线获取服务。"
)
OUT_OF_SCOPE = (
    f"先生您好!这是{COMPANY}客服热线,提供本公司产品和业务方面的咨询,您的问题已超出我公司服务范围。"
    "如果没有我司相关业务的咨询,那我就接听下一位客户的电话了,感谢您的来电,再见!"
)

DEMOS: tuple[_Demo, ...] = (
    _Demo(6, time(9, 12), "inbound", "consult.tariff", "咨询智能家居套装三档价格,已介绍基础版/标准版/高级版。",
          _example("01_consultation_good.json")),
    _Demo(6, time(10, 40), "inbound", "complaint", "客户反映上月账单多扣50元且多次来电未解决,情绪激动,要求投诉。",
          _example("02_complaint_problems.txt"), ring=28),
    _Demo(6, time(23, 48), "inbound", "fault", "夜间来电:智能门锁无法开锁,已指导更换电池,明早工程师回电确认。", _script(
        "客服:{opening}", "客户:我家门锁突然打不开了,按指纹没反应。",
        "客服:非常理解您着急的心情,请问门锁屏幕还亮吗?", "客户:不亮了。",
        "客服:可能是电池电量耗尽,请您用应急电源接口给门锁临时供电后再试一下。", "客户:好了,能开了,谢谢。",
        "客服:不客气,明天上午十点前工程师会回电确认门锁情况。{closing}", "客户:好的,再见。")),
    _Demo(5, time(8, 5), "inbound", "cross_region", "外地号码咨询套餐变更,按跨区口径引导致电归属地热线。", _script(
        "客服:{opening}", "客户:我是外地的号码,想改一下套餐。",
        f"客服:{CROSS_REGION}", "客户:好的,我知道了。", "客服:感谢您的来电,再见!"), customer=False),
    _Demo(5, time(11, 30), "inbound", "query", "查询订单发货进度,订单已打包,预计次日上午发货。",
          _example("03_online_chats.jsonl", 0), channel="chat", ring=3),
    _Demo(5, time(15, 20), "inbound", "fault", "在线反馈摄像头无法联网;客服用语不规范,需质检复核。",
          _example("03_online_chats.jsonl", 1), channel="chat", ring=4, hangup_by="agent"),
    _Demo(4, time(2, 10), "inbound", "silent", "无声电话,按无声电话流程两次问候后致歉挂机。", _script(
        "客服:您好!请问有什么可以帮助您?", "…5", "客服:您好,请问有什么可以帮助您?", "…5",
        "客服:对不起,您的电话没有声音,请您换一部电话再次打来,好吗?再见!"), customer=False, hangup_by="agent"),
    _Demo(4, time(9, 45), "inbound", "consult.service", "咨询如何开通家庭共享账号,已告知App内办理步骤。", _script(
        "客服:{opening}", "客户:我想让家里人也能用这套设备,怎么开通共享?",
        "客服:您可以在App“我的-家庭成员”里添加家人的手机号,对方确认后即可共享。", "客户:要收费吗?",
        "客服:家庭共享不收取任何费用。{closing}", "客户:好的,谢谢。")),
    _Demo(4, time(14, 5), "inbound", "suggestion", "建议App增加夜间静音模式;已记录建议,未作承诺。", _script(
        "客服:{opening}", "客户:我提个建议,晚上设备提示音太响了,能不能加个夜间静音?",
        "客服:非常感谢您的宝贵建议,我已经详细记录下来,会反馈给产品部门参考。", "客户:什么时候能改好?",
        "客服:具体是否采纳和时间需要产品部门评估,有进展会通过App消息通知您。{closing}", "客户:行,再见。")),
    _Demo(3, time(10, 0), "outbound", "callback", "回访上周设备连接问题,工程师上门后已恢复正常,客户满意。",
          _example("05_outbound_callback.json"), ring=9),
    _Demo(3, time(16, 35), "inbound", "out_of_scope", "咨询其他公司宽带业务,按超范围口径礼貌解释。", _script(
        "客服:{opening}", "客户:我家宽带老掉线,你们能不能给修一下?",
        "客服:先生您好,宽带业务需要联系您的宽带运营商处理,我们这边无法查询。", "客户:你们就不能帮我打个电话吗?",
        f"客服:{OUT_OF_SCOPE}"), customer=False, hangup_by="agent"),
    _Demo(3, time(23, 29), "inbound", "payment", "咨询会员续费方式,已告知App与门店两种方式。", _script(
        "客服:{opening}", "客户:我的会员快到期了,怎么续费?",
        "客服:您可以在App“我的-会员中心”在线续费,也可以到就近门店办理。{closing}", "客户:好的。")),
    _Demo(2, time(7, 20), "inbound", "consult.promotion", "夜间来电咨询双十二优惠,已告知活动时间和折扣。", _script(
        "客服:{opening}", "客户:你们双十二有活动吗?", "客服:有的,12月10日至12日全场套装九折,老客户再送一年云存储。",
        "客户:那我到时候再看看。", f"客服:好的。{CLOSING}")),
    _Demo(2, time(7, 30), "inbound", "consult.outlet", "咨询最近的线下体验店地址。", _script(
        "客服:{opening}", "客户:海淀附近有你们的体验店吗?",
        "客服:海淀区科技路100号有一家体验店,营业时间早九点到晚九点。",
        "客户:好,我周末过去。", f"客服:欢迎您光临。{CLOSING}")),
    _Demo(2, time(13, 15), "outbound", "marketing", "外呼推荐标准版升级,客户表示考虑,未办理。", _script(
        "客服:您好,请问是机主本人吗?我是智能科技客服{name},工号{no},想向您介绍一下标准版升级优惠,请问您现在方便接听电话吗?",
        "客户:你说吧。", "客服:您目前使用的是基础版,本月升级标准版可享八折,并赠送两个智能插座。",
        "客户:我考虑一下吧。", "客服:好的,打扰您了,感谢您的接听,再见!"), hangup_by="agent"),
    _Demo(1, time(0, 35), "inbound", "fault", "夜间来电:摄像头离线,远程重启后恢复。", _script(
        "客服:{opening}", "客户:摄像头一直显示离线。", "客服:请您稍等,我为您远程重启设备。", "…8",
        "客服:感谢您的耐心等待,设备已经重新上线,请您刷新App看一下。", "客户:好了,在线了。", "客服:{closing}")),
    _Demo(1, time(9, 55), "inbound", "complaint", "投诉工程师上门迟到两小时,已致歉并升级处理,24小时内回复。", _script(
        "客服:{opening}", "客户:你们工程师约好九点来,到现在还没到,太不像话了!",
        "客服:非常抱歉让您久等了,给您带来不便,我马上为您联系工程师确认到达时间。", "客户:我都请假在家等着呢。",
        "客服:非常理解您的心情,这个问题我已经为您登记投诉并加急处理,24小时内给您回复处理结果。", "客户:好吧。",
        "客服:{closing}"), ring=35),
    _Demo(0, timedelta(hours=3), "inbound", "consult.tariff", "咨询高级版与标准版区别及价格。", _script(
        "客服:{opening}", "客户:高级版比标准版多了什么?",
        "客服:高级版多了门锁和两个摄像头,价格是5999元,标准版是3999元。",
        "客户:明白了,谢谢。", "客服:{closing}")),
    _Demo(0, timedelta(minutes=70), "inbound", "query", "查询维修进度,配件已到,预计明天上门。", _script(
        "客服:{opening}", "客户:我上周报修的门锁进度怎么样了?", "客服:请您稍等,我帮您查询一下。", "…6",
        "客服:感谢您的耐心等待,配件已经到货,工程师预计明天下午上门。", "客户:好的。", "客服:{closing}")),
    _Demo(0, timedelta(minutes=25), "inbound", "other", "客户来电确认客服热线号码是否为官方号码。", _script(
        "客服:{opening}", "客户:我就想确认一下这个号码是你们官方的吧?", "客服:是的,这是智能科技官方客服热线。{closing}",
        "客户:好,谢谢。")),
)  # fmt: skip


# Today's calls rang this long ago at the most; early in the day they share what has passed of it.
TODAY_SPAN = max(demo.at for demo in DEMOS if isinstance(demo.at, timedelta)) + timedelta(minutes=10)


def _ring_at(demo: _Demo, now: datetime, length: timedelta) -> datetime:
    """When the demo call rang. Today's calls (``at`` a timedelta) are today's on the centre's
    calendar whatever the time, and over by ``now``: ``at`` before now, or — in the first hours of
    the day, when that would be yesterday — as far into the part of today that has passed as
    ``at`` is into ``TODAY_SPAN``, counted back from now."""
    local_now = on_centre_clock(utc_for_storing(now))  # a time without a zone is on the centre's clock
    if isinstance(demo.at, timedelta):
        midnight, _ = day_range(local_now)
        passed = local_now - midnight
        if passed >= TODAY_SPAN:
            return local_now - demo.at
        room = max(passed - length, timedelta(0))  # the call must fit before now (if it can at all)
        return (midnight + room * (1 - demo.at / TODAY_SPAN)).astimezone(centre_tz())
    day = (local_now - timedelta(days=demo.days_ago)).date()
    return datetime.combine(day, demo.at, tzinfo=centre_tz())


def seed_demo(
    session: Session,
    agents: Sequence[User],
    customers: Sequence[Customer],
    *,
    now: datetime | None = None,
    actor_id: int | None = None,
) -> list[CallRecord]:
    """Create the demo calls (once: nothing happens if they exist), spread over the agents and
    customers given. Returns the calls created."""
    if not agents:
        raise ValueError("seed_demo needs at least one agent")
    exists = session.scalar(select(CallRecord.id).where(CallRecord.external_id.startswith(PREFIX)).limit(1))
    if exists is not None:
        return []
    now = now or datetime.now().astimezone()
    created = []
    for index, demo in enumerate(DEMOS):
        agent = agents[index % len(agents)]
        customer = customers[index % len(customers)] if customers and demo.customer else None
        turns = demo.turns(agent) if callable(demo.turns) else demo.turns
        # Chat transcripts carry no times: about half a minute a message.
        talk = max((t.get("end") or 0.0) for t in turns) + 2.0 if "end" in turns[-1] else 30.0 * len(turns)
        ring_at = _ring_at(demo, now, timedelta(seconds=demo.ring + talk))
        answered_at = ring_at + timedelta(seconds=demo.ring)
        number = customer.phone if customer else f"0{769 + index % 7}-8{index:03d}{index * 37 % 10000:04d}"
        data = CallCreate(
            external_id=f"{PREFIX}{index + 1:04d}",
            direction=demo.direction,
            channel=demo.channel,
            customer_id=customer.id if customer else None,
            agent_id=agent.id,
            caller_number=number,
            ring_at=ring_at,
            answered_at=answered_at,
            ended_at=answered_at + timedelta(seconds=talk),
            hangup_by=demo.hangup_by,
            reason=demo.reason,
            summary=demo.summary,
            transcript=turns,
        )
        created.append(do_create_call(session, actor_id, data))
    return created
