"""Every rule of SPEC §2: calls where it must fire and calls where it must not."""

from __future__ import annotations

from conftest import GOOD_CLOSING, GOOD_OPENING, META, agent, call, customer, found, timed
from kefu.inspection.engine import Inspector

A, C = "agent", "customer"


def polite_call(*middle: tuple[str, str], **fields: object) -> object:
    turns = timed((A, GOOD_OPENING), *middle, (A, GOOD_CLOSING))
    return call(turns, **{**META, "hangup_by": "customer", **fields})


# ------------------------------------------------------------------ the whole call


def test_a_polite_call_scores_full_marks(inspector: Inspector) -> None:
    report = inspector.inspect(
        polite_call(
            (C, "你好,我想问一下宽带怎么报装。"),
            (A, "好的,您可以通过我们的官网或者营业厅办理,我也可以现在帮您登记。"),
            (C, "好的,谢谢。"),
            answered_at="2026-11-23T10:00:05+08:00",
            ring_at="2026-11-23T10:00:00+08:00",
        )
    )
    assert report.findings == []
    assert report.score == 100 and report.passed and not report.fatal
    assert report.not_applicable == []


# ------------------------------------------------------------------ answer_delay


def test_answer_delay_fires_after_three_rings_without_apology(inspector: Inspector) -> None:
    report = inspector.inspect(
        polite_call(ring_at="2026-11-23T10:00:00+08:00", answered_at="2026-11-23T10:00:15+08:00")
    )
    [finding] = found(report, "answer_delay")
    assert finding.turn == 0 and "15.0" in finding.message
    assert "让您久等了" in finding.suggestion


def test_answer_delay_accepts_an_apology_or_a_quick_answer(inspector: Inspector) -> None:
    late = call(
        timed((A, "对不起,让您久等了!" + GOOD_OPENING), (A, GOOD_CLOSING)),
        **META,
        ring_at="2026-11-23T10:00:00+08:00",
        answered_at="2026-11-23T10:00:15+08:00",
    )
    quick = polite_call(ring_at="2026-11-23T10:00:00+08:00", answered_at="2026-11-23T10:00:06+08:00")
    assert not found(inspector.inspect(late), "answer_delay")
    assert not found(inspector.inspect(quick), "answer_delay")


def test_answer_delay_without_ring_time_is_not_applicable(inspector: Inspector) -> None:
    report = inspector.inspect(polite_call())
    assert "answer_delay" in report.not_applicable
    reason = next(r for r in report.not_applicable_reasons if r.rule == "answer_delay")
    assert "振铃" in reason.missing


# ------------------------------------------------------------------ opening


def test_opening_lists_the_missing_elements(inspector: Inspector) -> None:
    report = inspector.inspect(call([agent("喂,你好。"), customer("查话费"), agent(GOOD_CLOSING)], **META))
    [finding] = found(report, "opening")
    assert finding.turn == 0 and finding.deduction == 5
    for element in ("企业名称", "工号/姓名", "服务提供语"):
        assert element in finding.message
    assert "问候语" not in finding.message.split("缺少:")[1]
    assert "智能科技" in finding.suggestion and "12345" in finding.suggestion


def test_opening_accepts_each_seed_template(inspector: Inspector) -> None:
    openings = [
        "您好,智能科技客服12345,很高兴为您服务。",  # 000
        "您好,欢迎致电智能科技客户服务热线,客服代表小李很高兴为您服务,请问有什么可以帮助您?",  # 003
        "感谢您致电智能科技客服中心,我是客服编号12345的工作人员,很高兴为您服务。",  # 004
        "您好,歡迎致電智能科技客戶服務熱線,客服代表小李很高興為您服務!",  # traditional
    ]
    for text in openings:
        report = inspector.inspect(call([agent(text), customer("你好"), agent(GOOD_CLOSING)], **META))
        assert not found(report, "opening"), text


def test_opening_without_company_in_transcript_checks_the_rest(inspector: Inspector) -> None:
    meta = {k: v for k, v in META.items() if k != "company"}
    ok = inspector.inspect(call([agent(GOOD_OPENING), agent(GOOD_CLOSING)], **meta))
    assert not found(ok, "opening")
    bad = inspector.inspect(call([agent("您好,工号12345。"), agent(GOOD_CLOSING)], **meta))
    [finding] = found(bad, "opening")
    assert "服务提供语" in finding.message and "未核对" in finding.message


def test_outbound_call_needs_the_outbound_opening(inspector: Inspector) -> None:
    good = call(
        [
            agent("您好,请问是张先生吗?我是智能科技客服,工号12345,本次致电是关于您的报修回访,请问您现在方便接听吗?"),
            customer("方便。"),
            agent(GOOD_CLOSING),
        ],
        **META,
        direction="outbound",
    )
    report = inspector.inspect(good)
    assert not found(report, "outbound_opening") and not found(report, "opening")
    bad = call(
        [agent("您好,我是智能科技客服12345。"), customer("嗯。"), agent(GOOD_CLOSING)], **META, direction="outbound"
    )
    [finding] = found(inspector.inspect(bad), "outbound_opening")
    assert "确认客户姓名" in finding.message and "致电目的" in finding.message
    assert "询问是否方便" in finding.message


# ------------------------------------------------------------------ greeting_variant


def test_greeting_must_fit_the_time_of_day(inspector: Inspector) -> None:
    morning = polite_call(answered_at="2026-11-23T08:30:00+08:00")
    [finding] = found(inspector.inspect(morning), "greeting_variant")
    assert "早上好" in finding.message and finding.suggestion.startswith("早上好")
    fitting = call(
        timed((A, "早上好," + GOOD_OPENING[3:]), (A, GOOD_CLOSING)), **META, answered_at="2026-11-23T08:30:00+08:00"
    )
    assert not found(inspector.inspect(fitting), "greeting_variant")
    afternoon = polite_call(answered_at="2026-11-23T14:30:00+08:00")
    assert not found(inspector.inspect(afternoon), "greeting_variant")


def test_spring_festival_greeting_comes_from_the_lunar_calendar(inspector: Inspector) -> None:
    spring = call(
        timed((A, "春节好,感谢致电智能科技客服中心,工号12345,很高兴为您服务!"), (A, GOOD_CLOSING)),
        **META,
        answered_at="2026-02-18T14:00:00+08:00",
    )  # 正月初二
    assert not found(inspector.inspect(spring), "greeting_variant")
    plain = polite_call(answered_at="2026-02-18T14:00:00+08:00")
    [finding] = found(inspector.inspect(plain), "greeting_variant")
    assert "春节好" in finding.message


def test_greeting_variant_without_call_time_is_not_applicable(inspector: Inspector) -> None:
    assert "greeting_variant" in inspector.inspect(polite_call()).not_applicable


# ------------------------------------------------------------------ closing and hang-up


def test_closing_needs_the_question_thanks_and_goodbye(inspector: Inspector) -> None:
    turns = [agent(GOOD_OPENING), customer("查话费"), agent("您本月话费58元。"), customer("好"), agent("好的,再见。")]
    [finding] = found(inspector.inspect(call(turns, **META)), "closing")
    assert finding.turn == 4 and "询问其他需求" in finding.message and "致谢" in finding.message
    question_before = call(
        [agent(GOOD_OPENING), agent("请问还有其他可以帮到您的吗?"), customer("没有了"), agent("感谢您的来电,再见!")],
        **META,
    )
    assert not found(inspector.inspect(question_before), "closing")


def test_hangup_order(inspector: Inspector) -> None:
    assert found(inspector.inspect(polite_call(hangup_by="agent")), "hangup_order")
    assert not found(inspector.inspect(polite_call(hangup_by="客户")), "hangup_order")
    chat = call([agent(GOOD_OPENING), agent(GOOD_CLOSING)], **{**META, "channel": "chat"})
    assert "hangup_order" not in inspector.inspect(chat).not_applicable
    voice = call([agent(GOOD_OPENING), agent(GOOD_CLOSING)], **META)
    assert "hangup_order" in inspector.inspect(voice).not_applicable


def test_silent_call_procedure(inspector: Inspector) -> None:
    proper = call(
        [
            agent("您好!请问有什么可以帮助您?", 0, 3),
            agent("您好,请问有什么可以帮助您?", 8, 11),
            agent("对不起,您的电话没有声音,请您换一部电话再次打来,好吗?再见!", 16, 22),
            customer("", 1, 2),
        ],
        **META,
    )
    assert not found(inspector.inspect(proper), "silent_call")
    rude = call([agent("喂?喂,说话呀!再不说话我就挂了啊!", 0, 4)], **META)
    report = inspector.inspect(rude)
    [finding] = found(report, "silent_call")
    assert "没有声音" in finding.message
    assert found(report, "forbidden_phrase")


# ------------------------------------------------------------------ attitude


def test_interruption_fires_on_talking_over_the_customer(inspector: Inspector) -> None:
    turns = [
        agent(GOOD_OPENING, 0, 8),
        customer("我家的宽带从昨天开始就一直断断续续的,晚上根本上不了网", 9, 16),
        agent("您先重启一下光猫试试", 13, 16),
        agent(GOOD_CLOSING, 17, 22),
    ]
    [finding] = found(inspector.inspect(call(turns, **META)), "interruption")
    assert finding.turn == 2 and "3.0" in finding.message


def test_back_channels_while_the_customer_talks_are_not_interruptions(inspector: Inspector) -> None:
    for short in ("嗯", "嗯嗯", "是的", "好的,我明白了", "對"):
        turns = [
            agent(GOOD_OPENING, 0, 8),
            customer("我家的宽带从昨天开始就一直断断续续的,晚上根本上不了网", 9, 16),
            agent(short, 11, 13),
            agent(GOOD_CLOSING, 17, 22),
        ]
        assert not found(inspector.inspect(call(turns, **META)), "interruption"), short


def test_dead_air_without_hold_notice(inspector: Inspector) -> None:
    turns = [
        agent(GOOD_OPENING, 0, 8),
        customer("帮我查下话费", 9, 11),
        agent("您本月话费58元", 25, 28),
        agent(GOOD_CLOSING, 29, 34),
    ]
    [finding] = found(inspector.inspect(call(turns, **META)), "dead_air")
    assert finding.turn == 2 and "14.0" in finding.message and "未告知" in finding.message


def test_announced_hold_with_thanks_is_fine_and_without_thanks_is_not(inspector: Inspector) -> None:
    held = [
        agent(GOOD_OPENING, 0, 8),
        customer("帮我查下话费", 9, 11),
        agent("好的,请您稍等。", 11.5, 13),
        agent("感谢您的耐心等待,您本月话费58元。", 40, 44),
        agent(GOOD_CLOSING, 45, 50),
    ]
    assert not found(inspector.inspect(call(held, **META)), "dead_air")
    held[3] = agent("您本月话费58元。", 40, 44)
    [finding] = found(inspector.inspect(call(held, **META)), "dead_air")
    assert "等待后未感谢" in finding.message


def test_timing_rules_without_timestamps_are_not_applicable(inspector: Inspector) -> None:
    unknown_channel = {k: v for k, v in META.items() if k != "channel"}
    report = inspector.inspect(call([agent(GOOD_OPENING), agent(GOOD_CLOSING)], **unknown_channel))
    for rule in ("interruption", "dead_air", "speech_rate"):
        assert rule in report.not_applicable
    reasons = {r.rule: r.missing for r in report.not_applicable_reasons}
    assert "时间戳" in reasons["dead_air"]


def test_voice_only_rules_are_not_part_of_a_chat_scorecard(inspector: Inspector) -> None:
    report = inspector.inspect(call([agent(GOOD_OPENING), agent(GOOD_CLOSING)], **{**META, "channel": "chat"}))
    for rule in ("interruption", "dead_air", "speech_rate", "hangup_order", "silent_call"):
        assert rule not in report.not_applicable


def test_customer_surname_must_be_used(inspector: Inspector) -> None:
    turns = [
        agent(GOOD_OPENING),
        customer("你好,我姓王,想查一下订单。"),
        agent("好的,请提供订单号。"),
        agent(GOOD_CLOSING),
    ]
    [finding] = found(inspector.inspect(call(turns, **META)), "customer_name")
    assert "王先生" in finding.message and finding.suggestion.startswith("王先生")
    turns[2] = agent("好的王女士,请提供订单号。")
    assert not found(inspector.inspect(call(turns, **META)), "customer_name")
    anonymous = [agent(GOOD_OPENING), customer("我想查订单"), agent(GOOD_CLOSING)]
    assert not found(inspector.inspect(call(anonymous, **META)), "customer_name")


def test_upset_customer_gets_empathy_first(inspector: Inspector) -> None:
    cold = [agent(GOOD_OPENING), customer("你们的网络太差了,我要投诉!"), agent("您提供一下号码。"), agent(GOOD_CLOSING)]
    [finding] = found(inspector.inspect(call(cold, **META)), "empathy")
    assert finding.turn == 2
    warm = [
        agent(GOOD_OPENING),
        customer("你们的网络太差了,我要投诉!"),
        agent("非常抱歉给您带来不便,我理解您的心情,我马上为您处理。"),
        agent(GOOD_CLOSING),
    ]
    assert not found(inspector.inspect(call(warm, **META)), "empathy")


def test_abuse_is_fatal_but_only_from_the_agent(inspector: Inspector) -> None:
    report = inspector.inspect(call([agent(GOOD_OPENING), agent("你神经病吧"), agent(GOOD_CLOSING)], **META))
    assert report.fatal and report.score == 0 and not report.passed
    customer_says = inspector.inspect(
        call([agent(GOOD_OPENING), customer("你们都是神经病"), agent(GOOD_CLOSING)], **META)
    )
    assert not found(customer_says, "abuse") and not customer_says.fatal


# ------------------------------------------------------------------ business


def test_account_details_before_identity_check(inspector: Inspector) -> None:
    early = [agent(GOOD_OPENING), customer("查余额"), agent("您的余额是58元。"), agent(GOOD_CLOSING)]
    [finding] = found(inspector.inspect(call(early, **META)), "identity_verification")
    assert finding.evidence == "您的余额是"
    verified = [
        agent(GOOD_OPENING),
        customer("查余额"),
        agent("为了保障您的账户安全,请提供身份证号后四位。"),
        customer("5678"),
        agent("验证通过,您的余额是58元。"),
        agent(GOOD_CLOSING),
    ]
    assert not found(inspector.inspect(call(verified, **META)), "identity_verification")


def test_privacy_full_id_number_is_fatal(inspector: Inspector) -> None:
    leak = [agent(GOOD_OPENING), agent("您登记的身份证号是110101199003074518,对吗?"), agent(GOOD_CLOSING)]
    report = inspector.inspect(call(leak, **META))
    [finding] = found(report, "privacy")
    assert finding.fatal and report.score == 0 and "身份证" in finding.message
    masked = [agent(GOOD_OPENING), agent("您登记的身份证号尾号4518,对吗?"), agent(GOOD_CLOSING)]
    assert not found(inspector.inspect(call(masked, **META)), "privacy")
    said_by_customer = [agent(GOOD_OPENING), customer("我的身份证号是110101199003074518"), agent(GOOD_CLOSING)]
    assert not found(inspector.inspect(call(said_by_customer, **META)), "privacy")


def test_transfer_needs_reason_destination_and_consent(inspector: Inspector) -> None:
    curt = [agent(GOOD_OPENING), customer("我要退货"), agent("我给你转一下。转接中。"), agent(GOOD_CLOSING)]
    [finding] = found(inspector.inspect(call(curt, **META)), "transfer_etiquette")
    for item in ("转接原因", "转接去向", "客户同意"):
        assert item in finding.message
    proper = [
        agent(GOOD_OPENING),
        customer("我要退货"),
        agent("您的问题需要售后专业部门处理,我需要为您转接到售后服务部,可以吗?"),
        customer("好的。"),
        agent("感谢您的耐心,现在为您转接。"),
        agent(GOOD_CLOSING),
    ]
    assert not found(inspector.inspect(call(proper, **META)), "transfer_etiquette")
    refused = [*proper[:3], customer("不要,我不想转。"), *proper[4:]]
    [finding] = found(inspector.inspect(call(refused, **META)), "transfer_etiquette")
    assert "客户同意" in finding.message


def test_deferred_answer_needs_a_time(inspector: Inspector) -> None:
    vague = [agent(GOOD_OPENING), customer("发票开错了"), agent("我帮您提交工单,有结果会联系您。"), agent(GOOD_CLOSING)]
    [finding] = found(inspector.inspect(call(vague, **META)), "commitment_time")
    assert finding.turn == 2
    for promise in (
        "我帮您提交工单,24小时内给您回复。",
        "我帮您提交工单,明天下午之前联系您。",
        "我帮您提交工单,两个工作日内给您答复。",
    ):
        timed_call = [agent(GOOD_OPENING), customer("发票开错了"), agent(promise), agent(GOOD_CLOSING)]
        assert not found(inspector.inspect(call(timed_call, **META)), "commitment_time"), promise


def test_numbers_the_customer_gives_are_read_back(inspector: Inspector) -> None:
    silent = [agent(GOOD_OPENING), customer("我的号码是13812345678"), agent("好的,已记录。"), agent(GOOD_CLOSING)]
    [finding] = found(inspector.inspect(call(silent, **META)), "read_back")
    assert finding.speaker == "customer" and finding.evidence == "13812345678"
    echoed = [
        agent(GOOD_OPENING),
        customer("我的号码是138 1234 5678"),
        agent("跟您核对一下,尾号5678,对吗?"),
        agent(GOOD_CLOSING),
    ]
    assert not found(inspector.inspect(call(echoed, **META)), "read_back")
    verification = [
        agent(GOOD_OPENING),
        agent("请您提供身份证号后四位进行身份验证。"),
        customer("4518"),
        agent("验证通过。"),
        agent(GOOD_CLOSING),
    ]
    assert not found(inspector.inspect(call(verification, **META)), "read_back")


def test_plain_consultation_within_three_minutes(inspector: Inspector) -> None:
    long_call = polite_call(
        (C, "宽带怎么报装?"),
        (A, "您可以在官网办理。"),
        answered_at="2026-11-23T10:00:00+08:00",
        ended_at="2026-11-23T10:03:30+08:00",
    )
    [finding] = found(inspector.inspect(long_call), "call_duration")
    assert "210.0" in finding.message
    complaint = polite_call(
        (C, "我要投诉你们的安装师傅!"),
        (A, "非常抱歉给您带来不便。"),
        answered_at="2026-11-23T10:00:00+08:00",
        ended_at="2026-11-23T10:08:00+08:00",
    )
    assert not found(inspector.inspect(complaint), "call_duration")
    untimed = call([agent(GOOD_OPENING), agent(GOOD_CLOSING)], **META)
    assert "call_duration" in inspector.inspect(untimed).not_applicable


# ------------------------------------------------------------------ language


def test_forbidden_phrases_survive_small_variations(inspector: Inspector) -> None:
    variants = ["你问我,我问谁啊?", "您问我我问谁", "你问我,我问谁呀", "你問我,我問誰?", "你 问 我 我 问 谁"]
    for text in variants:
        report = inspector.inspect(call([agent(GOOD_OPENING), agent(text), agent(GOOD_CLOSING)], **META))
        [finding] = found(report, "forbidden_phrase")
        assert finding.turn == 1 and finding.suggestion and finding.category == "language"
        assert finding.evidence and finding.evidence in text
        span = finding.evidence_span
        assert span is not None and text[span[0] : span[1]] == finding.evidence


def test_polite_forms_and_customer_speech_are_not_forbidden(inspector: Inspector) -> None:
    polite = ["请问您有什么事?", "请问您有什么事需要帮助?", "不知道您对哪个套餐更感兴趣呢?", "请您稍等片刻。"]
    for text in polite:
        report = inspector.inspect(call([agent(GOOD_OPENING), agent(text), agent(GOOD_CLOSING)], **META))
        assert not found(report, "forbidden_phrase") and not found(report, "negative_wording"), text
    report = inspector.inspect(
        call([agent(GOOD_OPENING), customer("你问我,我问谁啊?不知道!"), agent(GOOD_CLOSING)], **META)
    )
    assert not found(report, "forbidden_phrase") and not found(report, "negative_wording")


def test_each_forbidden_phrase_is_one_finding_with_its_own_suggestion(inspector: Inspector) -> None:
    report = inspector.inspect(call([agent(GOOD_OPENING), agent("你听错了,等一下。"), agent(GOOD_CLOSING)], **META))
    suggestions = {f.evidence: f.suggestion for f in found(report, "forbidden_phrase")}
    assert suggestions == {"你听错了": "可能我的表达不够清楚", "等一下": "请您稍等片刻"}


def test_negative_wording_needs_an_alternative(inspector: Inspector) -> None:
    flat = inspector.inspect(call([agent(GOOD_OPENING), agent("这个我不能给您办。"), agent(GOOD_CLOSING)], **META))
    [finding] = found(flat, "negative_wording")
    assert finding.evidence == "我不能"
    helpful = inspector.inspect(
        call([agent(GOOD_OPENING), agent("这个我不能直接修改,但是我可以帮您提交申请。"), agent(GOOD_CLOSING)], **META)
    )
    assert not found(helpful, "negative_wording")
    dont_know = inspector.inspect(
        call([agent(GOOD_OPENING), agent("不知道,你问别人吧。"), agent(GOOD_CLOSING)], **META)
    )
    [finding] = found(dont_know, "negative_wording")
    assert finding.suggestion == "我需要查询后告诉您"


def test_speech_rate_between_120_and_160(inspector: Inspector) -> None:
    text = "您好,您的宽带已经恢复正常,请您重启一下光猫再试一试,如果还有问题请随时联系我们。"
    fast = call(timed((A, GOOD_OPENING), (C, "好的"), (A, text * 3), (A, GOOD_CLOSING), rate=220), **META)
    [finding] = found(inspector.inspect(fast), "speech_rate")
    assert "语速" in finding.message
    normal = call(timed((A, GOOD_OPENING), (C, "好的"), (A, text * 3), (A, GOOD_CLOSING), rate=140), **META)
    assert not found(inspector.inspect(normal), "speech_rate")


# ------------------------------------------------------------------ scorecard


def test_deductions_stop_at_the_rules_points(inspector: Inspector, rulebook) -> None:
    rude = "就这样吧。" * 12
    report = inspector.inspect(call([agent(GOOD_OPENING), agent(rude), agent(GOOD_CLOSING)], **META))
    findings = found(report, "forbidden_phrase")
    points = rulebook.rule("forbidden_phrase").points
    assert len(findings) == 12 and sum(f.deduction for f in findings) == points
    assert report.categories["language"].score == report.categories["language"].max - points


def test_not_applicable_rules_leave_the_denominator(inspector: Inspector, rulebook) -> None:
    chat = call([agent(GOOD_OPENING), agent("不知道。"), agent(GOOD_CLOSING)], **{**META, "channel": "chat"})
    report = inspector.inspect(chat)
    assert {"answer_delay", "greeting_variant"} <= set(report.not_applicable)
    other_kind = {"hangup_order", "silent_call", "outbound_opening", "dead_air", "interruption", "speech_rate"}
    counted = [r for r in rulebook.rules if r.id not in other_kind and r.id not in report.not_applicable]
    possible = sum(r.points for r in counted)
    lost = sum(f.deduction for f in report.findings)
    assert sum(c.max for c in report.categories.values()) == possible
    assert report.score == round(100 * (possible - lost) / possible, 1)
    assert not set(report.not_applicable) & other_kind


def test_outbound_calls_are_not_scored_on_inbound_rules(inspector: Inspector) -> None:
    outbound = call(
        [
            agent("您好,请问是张先生吗?我是智能科技客服12345,本次致电是关于您的报修回访,请问现在方便吗?"),
            customer("方便"),
            agent(GOOD_CLOSING),
        ],
        **META,
        direction="outbound",
        answered_at="2026-11-23T08:30:00+08:00",
    )
    report = inspector.inspect(outbound)
    assert not {f.rule for f in report.findings} & {"opening", "greeting_variant", "answer_delay"}
    assert "answer_delay" not in report.not_applicable


def test_opening_split_over_two_turns_and_empty_first_turn(inspector: Inspector) -> None:
    split = [
        agent(""),
        agent("您好,智能科技客服中心。"),
        agent("工号12345,很高兴为您服务。"),
        customer("你好"),
        agent(GOOD_CLOSING),
    ]
    assert not found(inspector.inspect(call(split, **META)), "opening")


def test_the_rulebooks_own_friday_closing_passes(inspector: Inspector) -> None:
    friday = call(
        [
            agent("晚上好,感谢致电智能科技客服中心,工号12345,很高兴为您服务!请问有什么可以帮您?"),
            customer("我想查一下话费。"),
            agent("请问还有其他可以帮到您的吗?"),
            customer("没有了。"),
            agent("祝您周末愉快,再见!"),
        ],
        **META,
        answered_at="2026-11-20T19:30:00+08:00",
    )
    assert not found(inspector.inspect(friday), "closing")
    untimed = call(
        [
            agent(GOOD_OPENING),
            customer("没有了。"),
            agent("请问还有其他可以帮到您的吗?"),
            customer("没有了。"),
            agent("祝您周末愉快,再见!"),
        ],
        **META,
    )
    [finding] = found(inspector.inspect(untimed), "closing")
    assert "致谢" in finding.message


def test_account_disclosure_in_other_words(inspector: Inspector) -> None:
    for said in (
        "您的话费余额为50元。",
        "您本月的账单一共是128元。",
        "好的,已经帮您修改了地址。",
        "您的密码已经重置了。",
    ):
        turns = [agent(GOOD_OPENING), customer("帮我看一下"), agent(said), agent(GOOD_CLOSING)]
        assert found(inspector.inspect(call(turns, **META)), "identity_verification"), said
    for said in ("您可以在App里查看您的账单。", "您的订单已经发货了,请注意查收。"):
        turns = [agent(GOOD_OPENING), customer("帮我看一下"), agent(said), agent(GOOD_CLOSING)]
        assert not found(inspector.inspect(call(turns, **META)), "identity_verification"), said


def test_dead_air_follows_the_five_second_response_standard(inspector: Inspector) -> None:
    def reply_after(seconds: float) -> list[dict]:
        return [
            agent(GOOD_OPENING, 0, 8),
            customer("帮我查下话费", 9, 11),
            agent("您本月话费58元", 11 + seconds, 14 + seconds),
        ]

    assert found(inspector.inspect(call(reply_after(7), **META)), "dead_air")
    assert not found(inspector.inspect(call(reply_after(3), **META)), "dead_air")
    chat = inspector.inspect(call(reply_after(30), **{**META, "channel": "chat"}))
    assert not found(chat, "dead_air") and "dead_air" not in chat.not_applicable
