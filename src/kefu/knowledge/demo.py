"""Demo content for the knowledge base, from the seeds beside SPEC.md.

Wording is the seeds' own, converted to simplified characters (OpenCC t2s) as in the rulebook's
scripts. Seed 004 is a web page capture: its pinyin annotations such as 「产(chǎn)品」 are left
out, and two spans that the capture garbled (GBK bytes shifted by one) are restored —
「按照配对向导重新操作。」 and 「请提供购买凭证」 — as is 「让我帮您转接专业部门」 (quoted in SPEC §1).
Garbled passages that cannot be restored with certainty are not used. Every article names its
seed and section in ``source``.

``seed_demo`` fills an empty knowledge base: the 004 FAQ with the standard answers word for word,
the 004 complaint procedure, the 004 product overview, the 002 cross-region and out-of-scope
guidance and night-service hours, and a few more. Two articles are then edited (the edits add
the rest of their seed section), so the "what changed" view has something to show: readers
given in ``readers`` have their visit recorded between the first versions and the edits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.knowledge import service
from kefu.knowledge.models import Article, ArticleCategory, ArticleStatus
from kefu.knowledge.schemas import ArticleCreate, ArticleUpdate


@dataclass(frozen=True)
class Faq:
    kind: str  # 问题类型
    question: str  # 典型问题
    answer: str  # 标准答复


# 004 常见客户问题与解答: 问题类型 / 典型问题 / 标准答复 (其他问题 has no row in the seed).
FAQ_004 = (
    Faq(
        "账户与密码",
        "忘记密码怎么办?",
        "您可以通过绑定手机号接收验证码重置密码,或使用绑定邮箱找回。需要我引导您操作吗?",
    ),
    Faq(
        "产品使用",
        "智能家居设备连接失败",
        "请确认设备在WiFi覆盖范围内,并检查手机网络是否正常。然后尝试重启设备和手机APP,按照配对向导重新操作。",
    ),
    Faq(
        "收费与账单",
        "订阅服务如何取消?",
        '您可以登录账户中心,在"我的订阅"页面选择相应服务点击"取消续订"。取消后当前订阅期限内仍可继续使用,到期后不再扣费。',
    ),
    Faq(
        "售后与退换货",
        "产品损坏如何维修?",
        "保修期内的产品可免费维修,请提供购买凭证和产品序列号,我们将安排最近的维修点与您联系,或提供寄修服务。",
    ),
)
FAQ_KEYWORDS = {
    "忘记密码怎么办?": ["密码", "重置密码", "验证码", "绑定邮箱"],
    "智能家居设备连接失败": ["智能家居", "WiFi", "连接失败", "配对"],
    "订阅服务如何取消?": ["订阅", "取消续订", "扣费"],
    "产品损坏如何维修?": ["维修", "保修", "寄修", "序列号"],
}

# 004 新人常见问题解答 (questions agents ask about their own work).
AGENT_FAQ_004 = (
    Faq(
        "系统操作问题",
        '系统频繁提示"会话超时"怎么办?',
        "可能是长时间未操作导致自动登出,建议每隔10分钟进行一次简单操作,如刷新页面或点击菜单。也可检查网络连接是否稳定。",
    ),
    Faq(
        "系统操作问题",
        "如何快速查找客户历史工单?",
        '在客户信息页面点击"工单历史"标签,可按时间或类型筛选。也可使用快捷键Ctrl+F3直接进入工单搜索页面。',
    ),
    Faq(
        "工作适应问题",
        "遇到难缠客户时感到紧张怎么办?",
        '这是正常反应,可暂时使用"请稍等"争取思考时间,必要时礼貌请求主管协助。随著经验积累,应对能力会逐渐提升。',
    ),
)

COMPLAINT_PROCEDURE_004 = """\
1. 接收与记录
   - 认真倾听客户投诉内容
   - 详细记录投诉要点和客户诉求
   - 向客户表达理解和歉意
2. 分类与分级
   - 根据投诉内容进行准确分类
   - 评估投诉严重程度,确定优先级
   - 判断是否需要上报或转接专业团队
3. 处理与解决
   - 针对投诉提供明确解决方案
   - 设定合理的处理时限并告知客户
   - 协调相关部门共同解决问题
4. 回访与跟进
   - 问题解决后主动回访客户
   - 确认客户对处理结果的满意度
   - 总结经验教训,完善服务流程"""

PRODUCTS_004 = (
    "我们公司提供多元化的产品和服务,主要包括智能家居系统、移动应用服务、云存储解决方案和企业级数据管理平台四大产品线。"
    "智能家居系统涵盖智能安防、环境控制和娱乐系统;移动应用服务包括健康管理、生活助手和社交互动工具;"
    "云存储解决方案提供个人和企业级的数据备份与同步功能;企业级数据管理平台则为企业客户提供全方位的数据分析与管理服务。"
)
PRODUCTS_004_MORE = (
    "作为客服人员,您需要熟悉各产品线的基本功能、使用方法、常见问题及其解决方案。"
    "此外,还需了解产品之间的联系与区别,以便为客户提供全面的咨询服务。"
    "公司定期更新产品功能和服务内容,您必须及时学习新知识,确保所提供的信息始终是最新最准确的。"
)
PACKAGES_004 = "我们目前有基础版、标准版和高级版三种套餐,价格分别是1999元、3999元和5999元。"

WORK_ORDERS_004 = (
    "根据客户问题类型选择相应工单模板,填写问题描述、紧急程度和处理建议。"
    "系统支持工单分类、转派和跟进功能,确保每个问题都能得到妥善处理。"
    "工单状态包括待处理、处理中、已解决和已关闭四种。"
)

FORBIDDEN_004 = """\
| 禁用语 | 推荐用语 |
| --- | --- |
| 不知道 | 我需要查询后告诉您 |
| 不可能 | 按照规定暂不支持 |
| 您听错了 | 可能我的表达不够清楚 |
| 等一下 | 请您稍等片刻 |
| 我不负责这个 | 让我帮您转接专业部门 |"""

SHIFTS_004 = "实行轮班制,包括早班(8:00-16:00)、中班(12:00-20:00)和晚班(16:00-24:00),每周工作5天,每月排班提前一周公布"
LEAVE_004 = "法定节假日、带薪年假、病假、婚假\n年假根据工作年限递增\n通过OA系统申请,提前3天提交"

CROSS_REGION_002 = """\
客户咨询的业务与座席代表匹配的地市相符时,不能随意答复和推搪客户的咨询,对于未明确的问题,应先寻求支持人员的协助,待确认后再回复客户;客户咨询的业务(跨区业务除外)与座席代表匹配的地市不相符时,请引导客户致电归属地的10086咨询。

引导客户致电归属10086解释口径:“您好!您所拨打的是跨区服务热线,只可办理跨区资料查询、跨区停/复(开)机,由于系统功能限制,若您需要继续了解其他具体的情况,请您挂机重新拨打您归属地所在10086热线获取服务,即重新拨打XYZ10086即可(XYZ为该客户归属地区号)”。"""
OUT_OF_SCOPE_002 = """\
当客户的服务需求超出热线服务范围内,请引导客户到我公司相应的渠道咨询;

当客户的服务需求超出我公司经营的业务/服务范围内,请解释:先生/小姐,您好!这是中国移动10086客服热线,提供移动业务方面的咨询,你的**问题已超出我公司服务范围之内。如果没有我司相关业务的咨询,那我就接听下一位客户的电话了,感谢您的来电,再见!

注:可根据客户问题灵活引导用户其它的咨询途径,举例:是联通问题可建议致电10010;电信问题可建议致电10000,查号可引导致电12580(需说明拨打需要收取正常资费)。当客户要求必须提供超公司的业务/服务范围且不肯挂机时,请礼貌解释三次后挂机。"""
NIGHT_SERVICE_002 = "夜间服务时间:23:30-次日7:30\n\n本流程适用于客户服务(东莞)中心四地市"
CALL_REASON_002 = (
    "对于每一个咨询电话,客服代表应在系统上点击来电原因,以便系统进行咨询量的统计。"
    "(如通过人工转IVR录音的则可不用点击,个别业务要求点击的除外)"
)


def _articles() -> list[ArticleCreate]:
    published = ArticleStatus.PUBLISHED
    items = [
        ArticleCreate(
            title=faq.question,
            category=ArticleCategory.FAQ,
            body=faq.answer,
            keywords=[faq.kind, *FAQ_KEYWORDS[faq.question]],
            status=published,
            source=f"004 话务新人培训 常见客户问题与解答({faq.kind})",
        )
        for faq in FAQ_004
    ]
    items += [
        ArticleCreate(
            title=faq.question,
            category=ArticleCategory.FAQ,
            body=faq.answer,
            keywords=[faq.kind, "新人"],
            status=published,
            source=f"004 话务新人培训 新人常见问题解答({faq.kind})",
        )
        for faq in AGENT_FAQ_004
    ]
    items += [
        ArticleCreate(
            title="投诉处理流程",
            category=ArticleCategory.PROCEDURE,
            body=COMPLAINT_PROCEDURE_004,
            keywords=["投诉", "接收与记录", "分类与分级", "处理与解决", "回访与跟进"],
            status=published,
            source="004 话务新人培训 投诉处理流程",
        ),
        ArticleCreate(
            title="工单创建与处理",
            category=ArticleCategory.PROCEDURE,
            body=WORK_ORDERS_004,
            keywords=["工单", "工单模板", "转派", "工单状态"],
            status=published,
            source="004 话务新人培训 话务系统操作 工单创建与处理",
        ),
        ArticleCreate(
            title="跨区来电与超出服务范围的处理",
            category=ArticleCategory.PROCEDURE,
            body=CROSS_REGION_002,
            keywords=["跨区", "归属地", "10086", "解释口径"],
            status=published,
            source="002 10086咨询服务规范 4.2 咨询服务原则 3 / 6.1 咨询服务流程 3-4",
        ),
        ArticleCreate(
            title="每个来电都要点击来电原因",
            category=ArticleCategory.PROCEDURE,
            body=CALL_REASON_002,
            keywords=["来电原因", "咨询量统计"],
            status=published,
            source="002 10086咨询服务规范 4.2 咨询服务原则 6",
        ),
        ArticleCreate(
            title="夜间服务时间",
            category=ArticleCategory.POLICY,
            body=NIGHT_SERVICE_002,
            keywords=["夜间服务", "23:30", "7:30"],
            status=published,
            source="002 10086咨询服务规范 6.1 咨询服务流程 工作细则 1-2",
        ),
        ArticleCreate(
            title="排班与工作时间",
            category=ArticleCategory.POLICY,
            body=SHIFTS_004,
            keywords=["排班", "早班", "中班", "晚班"],
            status=published,
            source="004 话务新人培训 客服代表的职责 工作时间安排",
        ),
        ArticleCreate(
            title="休假制度",
            category=ArticleCategory.POLICY,
            body=LEAVE_004,
            keywords=["休假", "年假", "请假", "OA系统"],
            status=published,
            source="004 话务新人培训 公司政策与福利 休假制度",
        ),
        ArticleCreate(
            title="产品线概述",
            category=ArticleCategory.MANUAL,
            body=PRODUCTS_004,
            keywords=["智能家居", "移动应用", "云存储", "数据管理平台"],
            status=published,
            source="004 话务新人培训 业务知识概述",
        ),
        ArticleCreate(
            title="智能家居套装价格",
            category=ArticleCategory.MANUAL,
            body=PACKAGES_004,
            keywords=["智能家居", "套餐", "价格", "基础版", "标准版", "高级版"],
            status=published,
            source="004 话务新人培训 话务演练:基础对话(示例对话)",
        ),
        ArticleCreate(
            title="禁用语与推荐用语对照",
            category=ArticleCategory.SCRIPT,
            body=FORBIDDEN_004,
            keywords=["禁用语", "推荐用语", "服务禁语"],
            status=published,
            source="004 话务新人培训 专业用语训练 禁用与推荐用语对照",
        ),
    ]
    return items


# (title of the article, the text the edit appends, the change note)
EDITS = (
    (
        "产品线概述",
        PRODUCTS_004_MORE,
        "补充客服人员需要掌握的产品知识(004 业务知识概述 第二段)",
    ),
    (
        "跨区来电与超出服务范围的处理",
        OUT_OF_SCOPE_002,
        "补充超出热线服务范围、超出公司业务范围的解释口径和「礼貌解释三次后挂机」(002 6.1 第5-6条及注)",
    ),
)


def seed_demo(session: Session, author_id: int | None, readers: Iterable[int] = ()) -> list[Article]:
    """Fill an empty knowledge base (an existing one is left alone: returns ``[]``).

    The articles are created and published, each ``readers`` user's visit is recorded, then the
    ``EDITS`` are saved: those readers find exactly the edited articles, with their diffs, in
    the "what changed" view; any other user on a first visit sees all of them as new."""
    if session.scalar(select(func.count()).select_from(Article)):
        return []
    created = [service.do_create_article(session, author_id, data) for data in _articles()]
    for reader in readers:
        service.do_mark_read(session, reader)
    by_title = {article.title: article for article in created}
    for title, addition, note in EDITS:
        article = by_title[title]
        service.do_update_article(
            session,
            author_id,
            article.id,
            ArticleUpdate(version=article.version, body=article.body + "\n\n" + addition, change_note=note),
        )
    return created
