"""Demo work orders for the first start of ``kefu serve``: every type and status, a realistic
history for each (written through the same ``do_*`` actions, back-dated), some of them overdue
and escalated."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core.db import utcnow
from kefu.core.security import Role
from kefu.customers.models import Customer
from kefu.workorders import service
from kefu.workorders.models import WorkOrder
from kefu.workorders.schemas import Callback, Transfer, WorkOrderCreate


def seed_demo(
    session: Session, users: Sequence[User], customers: Sequence[Customer], now: datetime | None = None
) -> list[WorkOrder]:
    """About a dozen orders owned by the agents among ``users`` (anyone if there is no agent),
    for the ``customers`` given (anonymous if none)."""
    if not users:
        raise ValueError("演示工单至少需要一个用户")
    now = now or utcnow()
    agents = [u for u in users if u.role == Role.AGENT] or list(users)
    leads = [u for u in users if u.role in (Role.TEAM_LEAD, Role.SUPERVISOR)] or agents
    first, second, lead = agents[0].id, agents[-1].id, leads[0].id

    def customer(index: int) -> int | None:
        return customers[index % len(customers)].id if customers else None

    def ago(days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return now - timedelta(days=days, hours=hours, minutes=minutes)

    scenarios: list[tuple[datetime, int, dict[str, object], Callable[[WorkOrder], object] | None]] = []

    # 1 咨询类, answered on the call, called back and closed.
    def _steps_1(o: WorkOrder) -> None:
        service.do_resolve(
            session, first, o.id, measures_taken="已告知整机保修两年,凭购买凭证和序列号保修", now=ago(days=6, hours=2.9)
        )
        service.do_callback(session, first, o.id, Callback(satisfaction=5, comment="解答清楚"), now=ago(days=5))
        service.do_close(session, first, o.id, now=ago(days=5))

    scenarios.append(
        (
            ago(days=6, hours=3),
            first,
            dict(
                type="咨询类",
                priority="中",
                title="询问智能门锁保修期",
                customer_id=customer(0),
                description="客户询问智能门锁标准版的保修期限和保修范围",
            ),
            _steps_1,
        )
    )

    # 2 咨询类, resolved, the callback still to do.
    def _steps_2(o: WorkOrder) -> None:
        service.do_start(session, second, o.id, now=ago(days=1, hours=1.5))
        service.do_resolve(
            session, second, o.id, measures_taken="已发送企业版价目表,说明升级无需迁移数据", now=ago(days=1, hours=1)
        )

    scenarios.append(
        (
            ago(days=1, hours=2),
            second,
            dict(
                type="咨询类",
                priority="低",
                title="云存储套餐升级费用",
                customer_id=customer(3),
                description="企业客户询问云存储从 1TB 升级到 5TB 的费用和数据是否需要迁移",
            ),
            _steps_2,
        )
    )

    # 3 咨询类, in progress, on time, with a promised answer.
    def _steps_3(o: WorkOrder) -> None:
        service.do_start(session, first, o.id, now=ago(minutes=15))

    scenarios.append(
        (
            ago(minutes=20),
            first,
            dict(
                type="咨询类",
                priority="高",
                title="企业版数据迁移方案咨询",
                customer_id=customer(3),
                description="客户计划将本地服务器数据迁入云存储,询问迁移方案和停机时间",
                promised_at=now + timedelta(days=1),
                follow_up_plan="与技术支持确认迁移工具后回电客户",
            ),
            _steps_3,
        )
    )

    # 4 投诉类, urgent, transferred to the network team, the handling stage long overdue.
    def _steps_4(o: WorkOrder) -> None:
        service.do_start(session, first, o.id, now=ago(days=3, hours=4.9))
        service.do_classify(
            session, first, o.id, category="网络质量", note="影响办公,需上门检修", now=ago(days=3, hours=4.5)
        )
        service.do_transfer(
            session,
            first,
            o.id,
            Transfer(
                to_user_id=second,
                to_department="网络部",
                notes="张先生宽带三天断网五次,已远程重启光猫无效;客户要求上门检修并补偿,工作日下午两点后方便",
            ),
            now=ago(days=3, hours=4.4),
        )

    scenarios.append(
        (
            ago(days=3, hours=5),
            first,
            dict(
                type="投诉类",
                priority="紧急",
                title="宽带三天内断网五次,客户要求赔偿",
                customer_id=customer(0),
                contact="13812345678",
                description="客户反映家中宽带三天内断网五次,影响居家办公,情绪激动,要求赔偿",
                handling_suggestion="安排技术人员上门检修线路,核实断网时长后按规定补偿",
                departments="技术部",
                measures_taken="已远程重启光猫,断网问题仍然存在",
            ),
            _steps_4,
        )
    )

    # 5 投诉类, the whole flow: classified, resolved, called back, closed.
    def _steps_5(o: WorkOrder) -> None:
        service.do_start(session, second, o.id, now=ago(days=8) + timedelta(minutes=10))
        service.do_classify(session, second, o.id, category="服务态度", now=ago(days=8) + timedelta(minutes=40))
        service.do_resolve(
            session,
            second,
            o.id,
            measures_taken="已向客户致歉并赠送三个月云存储;安装部已调整排班并要求迟到提前告知",
            now=ago(days=7),
        )
        service.do_callback(session, lead, o.id, Callback(satisfaction=4, comment="接受处理结果"), now=ago(days=6))
        service.do_close(session, second, o.id, now=ago(days=6))

    scenarios.append(
        (
            ago(days=8),
            second,
            dict(
                type="投诉类",
                priority="高",
                title="安装人员迟到两小时",
                customer_id=customer(1),
                description="客户预约上午十点安装智能摄像头,安装人员十二点才到,且未提前告知",
                handling_suggestion="向客户致歉,核实安装排班,反馈安装部门整改",
                departments="安装部、客服部",
            ),
            _steps_5,
        )
    )

    # 6 投诉类, resolved, but the callback found the customer unhappy: reopened.
    def _steps_6(o: WorkOrder) -> None:
        service.do_start(session, first, o.id, now=ago(days=4) + timedelta(minutes=20))
        service.do_classify(session, first, o.id, category="计费争议", now=ago(days=4) + timedelta(hours=1))
        service.do_resolve(session, first, o.id, measures_taken="财务部已发起退款 30 元", now=ago(days=2))
        service.do_callback(
            session, first, o.id, Callback(satisfaction=2, comment="退款至今未到账"), now=ago(days=1, hours=3)
        )
        service.do_add_note(
            session, first, o.id, "已联系财务部查询退款进度,预计两个工作日到账", now=ago(days=1, hours=2)
        )

    scenarios.append(
        (
            ago(days=4),
            first,
            dict(
                type="投诉类",
                priority="中",
                title="账单重复扣费 30 元",
                customer_id=customer(2),
                description="客户本月账单显示会员费扣了两次,共多扣 30 元",
                handling_suggestion="核实扣费记录,确认重复后原路退款",
                departments="财务部",
            ),
            _steps_6,
        )
    )

    # 7 投诉类, just received.
    scenarios.append(
        (
            ago(minutes=10),
            second,
            dict(
                type="投诉类",
                priority="中",
                title="客服热线长时间无人接听",
                customer_id=customer(1),
                description="客户反映昨晚九点拨打热线等待超过十分钟无人接听",
                handling_suggestion="调取昨晚排队记录,向客户说明并致歉",
                departments="客服部",
            ),
            None,
        )
    )

    # 8 故障类, urgent, nobody took it: response and resolution missed.
    scenarios.append(
        (
            ago(days=2, hours=6),
            first,
            dict(
                type="故障类",
                priority="紧急",
                title="智能摄像头全部离线",
                customer_id=customer(2),
                description="客户家中四个智能摄像头同时离线,App 显示设备不在线",
                measures_taken="已指导客户重启路由器和摄像头,仍然离线",
                departments="技术部",
            ),
            None,
        )
    )

    # 9 故障类, waiting on the customer (the clock stands still).
    def _steps_9(o: WorkOrder) -> None:
        service.do_start(session, second, o.id, now=ago(hours=5.5))
        service.do_wait_for_customer(session, second, o.id, "等待客户提供设备序列号和路由器型号", now=ago(hours=5))

    scenarios.append(
        (
            ago(hours=6),
            second,
            dict(
                type="故障类",
                priority="高",
                title="智能音箱无法连接 Wi-Fi",
                customer_id=customer(0),
                description="智能音箱配网时提示密码错误,客户确认密码无误",
                measures_taken="已指导恢复出厂设置后重新配网,问题依旧",
            ),
            _steps_9,
        )
    )

    # 10 故障类, resolved.
    def _steps_10(o: WorkOrder) -> None:
        service.do_start(session, first, o.id, now=ago(days=1, hours=7))
        service.do_resolve(
            session,
            first,
            o.id,
            measures_taken="清除缓存无效,指导安装修复版 3.2.1 后恢复正常",
            now=ago(days=1, hours=5),
        )

    scenarios.append(
        (
            ago(days=1, hours=8),
            first,
            dict(
                type="故障类",
                priority="中",
                title="App 登录后闪退",
                customer_id=customer(1),
                description="安卓手机升级 App 后,登录即闪退",
                measures_taken="已指导清除缓存",
            ),
            _steps_10,
        )
    )

    # 11 故障类, promised an answer by yesterday evening, not kept.
    def _steps_11(o: WorkOrder) -> None:
        service.do_start(session, second, o.id, now=ago(days=2, hours=1))

    scenarios.append(
        (
            ago(days=2, hours=2),
            second,
            dict(
                type="故障类",
                priority="高",
                title="门锁指纹识别失灵",
                customer_id=customer(2),
                description="门锁指纹识别多次失败,只能用密码开门",
                measures_taken="已指导清洁指纹传感器并重新录入指纹",
                promised_at=ago(days=1),
                follow_up_plan="安排售后上门更换指纹模块",
            ),
            _steps_11,
        )
    )

    # 12 建议类, recorded and passed on, without a promise (seed 002).
    def _steps_12(o: WorkOrder) -> None:
        service.do_resolve(
            session,
            first,
            o.id,
            measures_taken="已如实记录并反馈产品部,感谢客户建议",
            now=ago(days=3) + timedelta(hours=1),
        )

    scenarios.append(
        (
            ago(days=3),
            first,
            dict(
                type="建议类",
                priority="低",
                title="建议 App 增加夜间模式",
                customer_id=customer(0),
                description="客户建议 App 增加夜间模式,晚上查看监控画面不刺眼",
            ),
            _steps_12,
        )
    )

    # 13 建议类, anonymous caller, not yet handled.
    scenarios.append(
        (
            ago(hours=3),
            second,
            dict(
                type="建议类",
                priority="中",
                title="建议人工服务延长到 24 小时",
                contact="匿名来电 15900001111",
                description="来电人建议人工客服 24 小时在线,夜间也能办理挂失",
            ),
            None,
        )
    )

    # Created in time order, so the numbers of a day follow the clock.
    orders: list[WorkOrder] = []
    for when, owner, fields, steps in sorted(scenarios, key=lambda scenario: scenario[0]):
        order = service.do_create(session, owner, WorkOrderCreate.model_validate(fields), now=when)
        if steps is not None:
            steps(order)
        orders.append(order)
    complaint = next(o for o in orders if o.title.startswith("宽带"))

    # A manual escalation: the customer asked for a supervisor.
    service.do_escalate(
        session, first, complaint.id, "客户第三次来电,要求主管出面处理", to_user_id=lead, now=ago(days=1)
    )
    service.do_escalate_overdue(session, now)
    return orders
