"""The theory exam in a real browser: the trainer loads the shipped bank and sends a new hire to
the exam; the candidate answers, the page is reloaded (a dropped connection) and the answers are
still there; the trainer grades the short answers; and a paper whose time runs out is handed in
by the page itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from browser_helpers import login
from conftest import live_server
from kefu.accounts.models import User
from kefu.core.db import transaction, utcnow
from kefu.core.settings import Settings
from kefu.demo import seed_demo
from kefu.training import service
from kefu.training.models import Sitting, SittingStatus, Stage
from kefu.training.schemas import StageIn
from kefu.web.app import create_app


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    folder = tmp_path_factory.mktemp("kefu-training")
    application = create_app(Settings(data_dir=folder, secret_key="browser-test"))
    seed_demo(application.state.sessions, must_change_password=False)
    with live_server(application) as url:
        yield application, url
    application.state.engine.dispose()


@pytest.fixture
def page(browser, school):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=school[1])
    yield context.new_page()
    context.close()


def test_the_trainer_loads_the_bank_and_sends_a_new_hire_to_the_exam(page, school) -> None:  # type: ignore[no-untyped-def]
    application, url = school
    login(page, url, "40001")
    page.goto("/training/questions")
    if page.locator("#bank-total").inner_text() == "0 道":
        page.locator("#shipped-form button").click()
        page.wait_for_load_state()
        assert page.locator(".flash").inner_text().startswith("随附题库已载入")
    assert int(page.locator("#bank-total").inner_text().split()[0]) >= 120
    assert page.locator("#questions tbody tr").count() >= 120
    with application.state.sessions() as session:  # type: ignore[attr-defined]
        agent_id = session.scalars(select(User.id).where(User.agent_no == "10002")).one()
    page.goto("/training")
    page.locator('#stage-form input[name="agent_id"]').fill(str(agent_id))
    page.locator("#stage-form select").select_option("awaiting_exam")
    page.locator("#stage-form button").click()
    page.wait_for_load_state()
    assert page.locator('#trainees tr[data-agent="10002"] .stage').inner_text() == "待考"


def test_answers_survive_a_reload_and_the_trainer_grades(page, school, browser) -> None:  # type: ignore[no-untyped-def]
    url = school[1]
    login(page, url, "10002")
    page.goto("/training")
    assert page.locator("#my-stage").inner_text() == "待考"
    page.locator("#start-form button").click()
    page.wait_for_url("**/training/exams/*")
    assert page.locator("fieldset.question").count() == 60
    first_choice = page.locator('fieldset.question[data-type="single"]').first
    first_choice.locator("input").nth(1).check()
    page.locator("#saved", has_text="已保存").wait_for()
    short = page.locator('fieldset.question[data-type="short"] textarea').first
    short.fill("先道歉,再说明原因,给出解决方案和时限。")
    page.locator('fieldset[data-type="short"][data-saved="true"]').first.wait_for()
    timer = page.locator("#timer").inner_text()
    assert timer.startswith("剩余 89 分") or timer.startswith("剩余 90 分")
    page.reload()  # the connection dropped: what was saved is still there
    assert page.locator('fieldset.question[data-type="single"]').first.locator("input").nth(1).is_checked()
    assert "先道歉" in page.locator('fieldset.question[data-type="short"] textarea').first.input_value()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#hand-in").click()
    page.wait_for_url("**/training")
    assert "简答题待培训师阅卷" in page.locator(".flash").inner_text()

    trainer = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=url).new_page()
    login(trainer, url, "40001")
    trainer.goto("/training")
    trainer.locator("#to-grade a").first.click()
    trainer.wait_for_url("**/result")
    for box in trainer.locator('#grade-form input[name^="points-"]').all():
        box.fill("4")
    trainer.locator("#save-grades").click()
    trainer.wait_for_load_state()
    assert trainer.locator(".flash").inner_text().startswith("阅卷完成")
    assert trainer.locator("#result-status").inner_text() in ("通过", "未通过")
    trainer.context.close()


def test_the_page_hands_in_by_itself_when_time_is_up(page, school) -> None:  # type: ignore[no-untyped-def]
    application, url = school
    sessions = application.state.sessions  # type: ignore[attr-defined]
    with transaction(sessions) as session:
        agent = session.scalars(select(User).where(User.agent_no == "10001")).one()
        trainer = session.scalars(select(User).where(User.agent_no == "40001")).one()
        service.do_set_stage(session, trainer, StageIn(agent_id=agent.id, stage=Stage.AWAITING_EXAM))
        sitting = service.do_start_exam(session, agent)
        sitting.deadline = utcnow() + timedelta(seconds=4)  # a paper nearly at its end
        sitting_id = sitting.id
    login(page, url, "10001")
    page.goto(f"/training/exams/{sitting_id}")
    page.wait_for_url("**/result", timeout=20_000)  # handed in by the page, not by a click
    assert page.locator("#result-status").inner_text() == "未通过"  # nothing answered: final at once, 0 points
    with sessions() as session:
        done = session.get(Sitting, sitting_id)
        assert done.status is SittingStatus.FAILED and done.total == 0 and done.submitted_at <= done.deadline


def test_a_role_play_from_start_to_scored_transcript(page, school) -> None:  # type: ignore[no-untyped-def]
    login(page, school[1], "10001")
    page.goto("/training/roleplay")
    headings = [page.locator("h2").nth(i).inner_text() for i in range(page.locator("h2").count())]
    assert {"基础场景", "复杂场景", "投诉处理", "异常处理", "销售话术"} <= set(headings)
    assert page.locator("details.scenario").count() >= 15
    scenario = page.locator('details.scenario[data-code="basic-01"]')
    scenario.locator("summary").click()
    assert "[必要]" in scenario.inner_text()
    scenario.get_by_role("button", name="开始演练").click()
    page.wait_for_url("**/training/roleplay/*")
    replies = [
        "您好,感谢致电智能科技客服中心,我是客服小李,工号12345,很高兴为您服务。",
        "张先生您好,为了保障您的账户安全,请您提供一下手机号码最后四位进行身份验证。",
        "谢谢您的配合,验证通过。我们有基础版、标准版和高级版三种套餐,分别是1999元、3999元和5999元。",
        "张先生,请问您对哪个套餐更感兴趣呢?",
        "请问还有其他可以帮到您的吗?感谢您的来电,祝您生活愉快,再见。",
    ]
    for text in [*replies, *["好的"] * 8]:
        if page.locator("#reply").count() == 0:
            break
        before = page.locator("#turns li").count()
        page.locator('#reply textarea[name="text"]').fill(text)
        page.locator("#reply button").click()
        page.wait_for_load_state()
        assert page.locator("#turns li").count() > before  # the customer answered (or the play ended)
    assert page.locator("#result").count() == 1
    assert page.locator("#roleplay-score").inner_text() != "—"
    said, total = page.locator("#key-said").inner_text().split("/")
    assert int(total) >= 4 and int(said) >= 4


def test_the_trainer_records_a_practical_exam_and_assigns_practice(page, school) -> None:  # type: ignore[no-untyped-def]
    application, url = school
    login(page, url, "40001")
    page.goto("/training/practicals/new")
    page.locator('select[name="agent_id"]').select_option(label="王敏(10002)· 待考")
    page.locator('select[name="scenario-0"]').select_option("basic-01")
    page.locator('textarea[name="transcript-0"]').fill(
        "客户:你好\n客服:您好,感谢致电,我是客服小王,工号10002,很高兴为您服务"
    )
    page.locator('select[name="scenario-1"]').select_option("complaint-01")
    page.locator('textarea[name="transcript-1"]').fill("客户:你们怎么搞的!\n客服:非常抱歉给您带来不便,我理解您的心情")
    for box in page.locator('#practical-form input[name^="score-"]').all():
        box.fill("88")
    page.locator("#practical-form button[type=submit]").click()
    page.wait_for_url("**/training/practicals/*")
    assert page.locator("#practical-total").inner_text().startswith("88")
    assert page.locator("section.simulated").count() == 2
    page.goto("/training")
    assert "王敏" in page.locator("#practicals tbody tr").first.inner_text()
    with application.state.sessions() as session:  # type: ignore[attr-defined]
        agent_id = session.scalars(select(User.id).where(User.agent_no == "10001")).one()
    page.goto(f"/training/agents/{agent_id}/practice")
    assert page.locator("h1").inner_text().startswith("针对性练习")
    offered = page.locator("#proposals button")
    if offered.count():
        offered.first.click()
        page.wait_for_load_state()
        assert page.locator(".flash").inner_text() == "练习已安排"
        assert page.locator("#assignments tbody tr").first.locator("td").nth(2).inner_text() == "未完成"


def test_a_pair_role_play_in_two_browsers_scored_by_the_trainer(page, school, browser) -> None:  # type: ignore[no-untyped-def]
    url = school[1]
    login(page, url, "10001")
    page.goto("/training/roleplay")
    scenario = page.locator('details.scenario[data-code="complaint-01"]')
    scenario.locator("summary").click()
    scenario.locator(".pair-form select").select_option(label="王敏(10002)")
    scenario.locator(".pair-form button").click()
    page.wait_for_url("**/training/roleplay/*")
    play_url = page.url
    customer = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=url).new_page()
    login(customer, url, "10002")
    customer.goto(play_url)
    customer.locator('#reply textarea[name="text"]').fill("你们的设备又坏了,到底怎么回事!")
    customer.locator("#reply button").click()
    customer.wait_for_load_state()
    page.reload()
    assert "怎么回事" in page.locator("#turns").inner_text()
    page.locator('#reply textarea[name="text"]').fill("非常抱歉给您带来不便,我理解您的心情,我马上为您处理。")
    page.locator("#reply button").click()
    page.wait_for_load_state()
    page.locator("#finish button").click()
    page.wait_for_load_state()
    assert page.locator("#result").count() == 1 and page.locator("#roleplay-score").inner_text() != "—"
    customer.context.close()
    trainer = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=url).new_page()
    login(trainer, url, "40001")
    trainer.goto(play_url)
    trainer.locator('#score-form input[name="score"]').fill("88")
    trainer.locator('#score-form input[name="comment"]').fill("道歉及时,方案可以更具体")
    trainer.locator("#score-form button").click()
    trainer.wait_for_load_state()
    assert trainer.locator("#trainer-score").inner_text().startswith("88")
    trainer.context.close()
