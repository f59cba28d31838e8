"""The knowledge base on the web: the /api/knowledge endpoints on SQLite and PostgreSQL (search,
permissions, optimistic locking, bad input, "what changed" per user, scripts), the pages' checks,
and the main flows in a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from browser_helpers import login
from conftest import AppFactory, client_for, live_server
from kefu.core.db import transaction
from kefu.core.settings import Settings
from kefu.demo import seed_demo
from kefu.knowledge import service
from kefu.knowledge.demo import FAQ_004
from kefu.knowledge.schemas import ArticleUpdate
from kefu.web.app import create_app

FORGOT_PASSWORD = FAQ_004[0]  # 忘记密码怎么办? with its standard answer (004)


@pytest.fixture
def app(app_factory: AppFactory) -> FastAPI:
    return app_factory(activity=True)  # the whole demo: calls with scorecards, work orders, articles


def article_id(client: TestClient, title: str) -> int:
    for category in ("faq", "procedure", "policy", "manual", "script"):
        for item in client.get("/api/knowledge/articles", params={"category": category}).json():
            if item["title"] == title:
                return item["id"]
    raise AssertionError(f"no article {title!r}")


NEW_ARTICLE = {
    "title": "账户被锁定怎么办?",
    "category": "常见问题",
    "body": "连续5次输错密码后账户会锁定15分钟,到时自动解锁;急需使用可通过绑定手机号验证后立即解锁。",
    "keywords": "账户锁定、解锁、密码",
    "source": "本中心规范 2.3",
}


# ---------------------------------------------------------------- search


def test_search_finds_the_faq_from_a_traditional_query(app) -> None:  # type: ignore[no-untyped-def]
    agent = client_for(app)
    found = agent.get("/api/knowledge/search", params={"q": "忘記密碼怎麼辦"})
    assert found.status_code == 200, found.text
    result = found.json()
    first = result["hits"][0]
    assert first["kind"] == "article" and first["title"] == FORGOT_PASSWORD.question
    assert first["category_label"] == "常见问题" and first["url"] == f"/knowledge/{first['ref']}"
    assert first["snippet"] == FORGOT_PASSWORD.answer  # the standard answer, word for word
    marked = [first["snippet"][start:end] for start, end in first["highlights"]]
    assert "密码" in marked
    assert [first["title"][start:end] for start, end in first["title_highlights"]] == ["忘记密码怎么办"]
    assert result["count"] == len(result["hits"]) and result["took_ms"] < 1000

    silent = agent.get("/api/knowledge/search", params={"q": "無聲電話"}).json()["hits"][0]
    assert silent["kind"] == "script" and silent["ref"] == "silent_call"
    assert silent["url"] == "/knowledge/scripts?stage=opening#silent_call"
    faq_only = agent.get("/api/knowledge/search", params={"q": "密码", "category": "faq"}).json()["hits"]
    assert faq_only and {h["category"] for h in faq_only} == {"faq"}
    assert agent.get("/api/knowledge/search", params={"q": "量子计算机"}).json()["hits"] == []


def test_search_input_is_checked(app) -> None:  # type: ignore[no-untyped-def]
    agent = client_for(app)
    empty = agent.get("/api/knowledge/search", params={"q": "  "})
    assert empty.status_code == 422 and "请输入要搜索的内容" in empty.json()["detail"]
    missing = agent.get("/api/knowledge/search")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "query.q"
    long = agent.get("/api/knowledge/search", params={"q": "密码" * 150})
    assert long.status_code == 422 and "过长" in long.json()["detail"]
    assert agent.get("/api/knowledge/search", params={"q": "密码", "limit": 0}).status_code == 422
    assert TestClient(app).get("/api/knowledge/search", params={"q": "密码"}).status_code == 401


def test_an_edit_made_elsewhere_is_searchable_at_once(app) -> None:  # type: ignore[no-untyped-def]
    """The index is the database's: an edit saved by another process (here: beside the web
    layer) is found by the next search, and searches arriving together all answer."""
    agent = client_for(app)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda q: agent.get("/api/knowledge/search", params={"q": q}), ["密码"] * 8))
    assert all(a.status_code == 200 for a in answers)
    assert len({tuple(h["ref"] for h in a.json()["hits"]) for a in answers}) == 1  # the same answer each time

    leave = article_id(agent, "休假制度")
    assert agent.get("/api/knowledge/search", params={"q": "调休"}).json()["hits"] == []
    with transaction(app.state.sessions) as session:
        service.do_update_article(session, None, leave, ArticleUpdate(version=1, title="休假与调休制度"))
    assert agent.get("/api/knowledge/search", params={"q": "调休"}).json()["hits"][0]["ref"] == leave


# ---------------------------------------------------------------- permissions and writes


def test_agent_cannot_write_a_trainer_can(app) -> None:  # type: ignore[no-untyped-def]
    agent, trainer = client_for(app, "10001"), client_for(app, "40001")
    denied = agent.post("/api/knowledge/articles", json=NEW_ARTICLE)
    assert denied.status_code == 403 and "话务员无权" in denied.json()["detail"]
    password = article_id(agent, FORGOT_PASSWORD.question)
    assert agent.patch(f"/api/knowledge/articles/{password}", json={"version": 1, "title": "x"}).status_code == 403
    assert agent.post(f"/api/knowledge/articles/{password}/archive", json={"version": 1}).status_code == 403
    assert agent.get("/api/knowledge/articles", params={"status": "draft"}).status_code == 403
    assert client_for(app, "30001").post("/api/knowledge/articles", json=NEW_ARTICLE).status_code == 403  # QA

    created = trainer.post("/api/knowledge/articles", json=NEW_ARTICLE)
    assert created.status_code == 201, created.text
    article = created.json()
    assert (
        article["status"] == "draft" and article["version"] == 1 and article["keywords"] == ["账户锁定", "解锁", "密码"]
    )
    url = f"/api/knowledge/articles/{article['id']}"
    assert agent.get(url).status_code == 404  # a draft is for the editors only
    assert agent.get("/api/knowledge/search", params={"q": "账户锁定"}).json()["hits"] == []
    drafts = trainer.get("/api/knowledge/search", params={"q": "账户锁定", "status": "draft"}).json()["hits"]
    assert [h["ref"] for h in drafts] == [article["id"]]

    published = trainer.post(f"{url}/publish", json={"version": 1})
    assert published.status_code == 200 and published.json()["status_label"] == "已发布"
    hits = agent.get("/api/knowledge/search", params={"q": "賬戶鎖定"}).json()["hits"]
    assert hits[0]["ref"] == article["id"]  # searchable as soon as it is published
    supervisor = client_for(app, "50001")
    assert supervisor.patch(url, json={"version": 2, "body": NEW_ARTICLE["body"] + "(主管补充)"}).status_code == 200


def test_a_stale_update_is_refused_and_nothing_is_lost(app) -> None:  # type: ignore[no-untyped-def]
    trainer, supervisor = client_for(app, "40001"), client_for(app, "50001")
    url = f"/api/knowledge/articles/{article_id(trainer, '夜间服务时间')}"
    base = trainer.get(url).json()["version"]
    first = trainer.patch(url, json={"version": base, "body": "夜间服务时间:23:00-次日7:00", "change_note": "调整时段"})
    assert first.status_code == 200 and first.json()["version"] == base + 1
    stale = supervisor.patch(url, json={"version": base, "title": "夜间值班时间"})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    stale_status = supervisor.post(f"{url}/archive", json={"version": base})
    assert stale_status.status_code == 409
    article = trainer.get(url).json()
    assert article["title"] == "夜间服务时间" and article["body"] == "夜间服务时间:23:00-次日7:00"
    assert [v["number"] for v in article["history"]] == [1, 2]
    assert article["history"][-1]["change_note"] == "调整时段"
    hits = trainer.get("/api/knowledge/search", params={"q": "夜间值班时间"}).json()["hits"]
    assert all(h["title"] != "夜间值班时间" for h in hits)
    again = supervisor.patch(url, json={"version": base + 1, "title": "夜间值班时间"})  # based on the latest
    assert again.status_code == 200 and again.json()["body"] == "夜间服务时间:23:00-次日7:00"


def test_bad_input_is_explained_per_field(app) -> None:  # type: ignore[no-untyped-def]
    trainer = client_for(app, "40001")
    bad = trainer.post(
        "/api/knowledge/articles",
        json={"title": "", "category": "笑话", "keywords": ["好" * 40], "status": "secret", "vip": True},
    )
    assert bad.status_code == 422
    fields = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert fields["title"] == "标题不能为空"
    assert "分类应为产品手册、常见问题、标准流程、最新政策、话术之一" in fields["category"]
    assert fields["keywords"] == "关键词「好好好好好好好好好好…」过长(最多 32 字)"
    assert "status" in fields and "vip" in fields and len(bad.json()["errors"]) == 6  # and the missing body

    url = f"/api/knowledge/articles/{article_id(trainer, '休假制度')}"
    no_version = trainer.patch(url, json={"title": "休假"})
    assert no_version.status_code == 422 and no_version.json()["errors"][0]["field"] == "version"
    too_long = trainer.patch(url, json={"version": 1, "change_note": "改" * 301})
    assert too_long.status_code == 422 and "修改说明最多 300 字" in too_long.json()["errors"][0]["message"]
    unchanged = trainer.patch(url, json={"version": 1, "title": "休假制度"})
    assert unchanged.status_code == 422 and unchanged.json()["detail"] == "没有需要保存的修改"
    assert trainer.post(f"{url}/publish", json={"version": 1}).json()["detail"] == "文章已是「已发布」状态"
    assert trainer.get("/api/knowledge/articles/99999").status_code == 404
    assert trainer.patch("/api/knowledge/articles/99999", json={"version": 1, "title": "x"}).status_code == 404
    assert trainer.get("/api/knowledge/articles", params={"category": "jokes"}).status_code == 422
    assert trainer.get(url).json()["version"] == 1  # none of the above changed anything


# ---------------------------------------------------------------- browsing, history, what changed


def test_browse_by_category_history_and_archive(app) -> None:  # type: ignore[no-untyped-def]
    agent, trainer = client_for(app), client_for(app, "40001")
    counts = {c["category"]: c["count"] for c in agent.get("/api/knowledge/categories").json()}
    assert counts["faq"] == 7 and set(counts) == {"manual", "faq", "procedure", "policy", "script"}
    faqs = agent.get("/api/knowledge/articles", params={"category": "faq"}).json()
    assert len(faqs) == 7 and {f["category_label"] for f in faqs} == {"常见问题"}

    products = agent.get(f"/api/knowledge/articles/{article_id(agent, '产品线概述')}").json()
    assert products["version"] == 2 and [v["number"] for v in products["history"]] == [1, 2]
    assert products["history"][0]["change_note"] == "新建" and "004" in products["history"][1]["change_note"]

    url = f"/api/knowledge/articles/{article_id(agent, '排班与工作时间')}"
    archived = trainer.post(f"{url}/archive", json={"version": 1, "change_note": "排班改由系统发布"})
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert agent.get(url).json()["status_label"] == "已归档"  # still readable, with its history
    assert agent.get("/api/knowledge/search", params={"q": "排班"}).json()["hits"] == []
    change = next(c for c in agent.get("/api/knowledge/changes").json()["changes"] if c["title"] == "排班与工作时间")
    assert change["archived"] and change["change_notes"] == ["排班改由系统发布"]
    assert {c["category"]: c["count"] for c in agent.get("/api/knowledge/categories").json()}["policy"] == 2


def test_what_changed_is_per_user(app) -> None:  # type: ignore[no-untyped-def]
    li, wang, lead, trainer = (client_for(app, no) for no in ("10001", "10002", "20001", "40001"))
    view = li.get("/api/knowledge/changes").json()
    assert {c["title"] for c in view["changes"]} == {"产品线概述", "跨区来电与超出服务范围的处理"}
    products = next(c for c in view["changes"] if c["title"] == "产品线概述")
    assert products["from_version"] == 1 and products["to_version"] == 2 and products["added_lines"] == 2
    assert "+作为客服人员" in products["body_diff"]
    first_visit = lead.get("/api/knowledge/changes").json()  # never visited: the last week, all new
    assert first_visit["since"] is None and all(c["is_new"] for c in first_visit["changes"])

    read = li.post("/api/knowledge/changes/read", json={"as_of": view["as_of"]})
    assert read.status_code == 200 and read.json()["user_id"] == view["user_id"]
    assert li.get("/api/knowledge/changes").json()["changes"] == []
    assert len(wang.get("/api/knowledge/changes").json()["changes"]) == 2  # only Li's visit moved

    url = f"/api/knowledge/articles/{article_id(trainer, '休假制度')}"
    trainer.patch(url, json={"version": 1, "body": "法定节假日、带薪年假、病假、婚假、产假", "change_note": "补充产假"})
    mine = li.get("/api/knowledge/changes").json()["changes"]
    assert [c["title"] for c in mine] == ["休假制度"] and mine[0]["change_notes"] == ["补充产假"]
    assert wang.get("/api/knowledge/changes").json()["changes"][0]["title"] == "休假制度"  # newest first
    assert li.post("/api/knowledge/changes/read").status_code == 200  # no body: up to now
    assert li.get("/api/knowledge/changes").json()["changes"] == []
    assert li.post("/api/knowledge/changes/read", json={"as_of": "yesterday"}).status_code == 422


def test_scripts_by_stage_and_scenario(app) -> None:  # type: ignore[no-untyped-def]
    agent = client_for(app)
    stages = agent.get("/api/knowledge/stages").json()
    assert [s["id"] for s in stages] == ["opening", "gathering", "providing", "follow_up", "closing"]
    assert all(s["count"] > 0 and s["scenarios"] for s in stages) and "无声电话" in stages[0]["scenarios"]
    silent = agent.get("/api/knowledge/scripts", params={"stage": "opening", "scenario": "无声电话"}).json()
    assert [s["id"] for s in silent] == ["silent_call"] and silent[0]["stage_name"] == stages[0]["name"]
    assert agent.get("/api/knowledge/scripts/silent_call").json()["steps"] == silent[0]["steps"]
    assert len(agent.get("/api/knowledge/scripts").json()) == sum(s["count"] for s in stages)
    assert agent.get("/api/knowledge/scripts", params={"stage": "lunch"}).status_code == 404
    assert agent.get("/api/knowledge/scripts/nope").status_code == 404


# ---------------------------------------------------------------- the pages (without a browser)


def test_pages_check_permissions_and_keep_a_stale_edit(app) -> None:  # type: ignore[no-untyped-def]
    agent, trainer, supervisor = client_for(app), client_for(app, "40001"), client_for(app, "50001")
    article = article_id(agent, "休假制度")
    page = agent.get(f"/knowledge/{article}")
    assert page.status_code == 200 and "休假制度" in page.text and f"/knowledge/{article}/edit" not in page.text
    assert "新建文章" not in agent.get("/knowledge").text
    for url in ("/knowledge/new", f"/knowledge/{article}/edit"):
        assert agent.get(url).status_code == 403
    form = {"title": "x", "category": "faq", "body": "y"}
    assert agent.post("/knowledge/new", data=form).status_code == 403
    assert agent.post(f"/knowledge/{article}/edit", data={**form, "version": "1"}).status_code == 403
    assert f"/knowledge/{article}/edit" in trainer.get(f"/knowledge/{article}").text

    bad = trainer.post("/knowledge/new", data={"title": "", "category": "faq", "body": "正文"})
    assert bad.status_code == 422 and "请填写标题" in bad.text and "正文" in bad.text

    edit = {"title": "休假制度", "category": "policy", "keywords": "休假", "source": "", "body": "主管的改动"}
    saved = supervisor.post(f"/knowledge/{article}/edit", data={**edit, "version": "1"}, follow_redirects=False)
    assert saved.status_code == 303
    mine = "培训师写的新规定:年假按工龄计算"
    stale = trainer.post(f"/knowledge/{article}/edit", data={**edit, "body": mine, "version": "1"})
    assert stale.status_code == 409
    assert "已被他人修改" in stale.text and mine in stale.text and "主管的改动" in stale.text
    assert 'name="version" value="2"' in stale.text  # saving again builds on what the supervisor saved
    assert agent.get(f"/api/knowledge/articles/{article}").json()["body"] == "主管的改动"


# ---------------------------------------------------------------- in a real browser (SQLite)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("kefu-kb")
    app = create_app(Settings(data_dir=folder, secret_key="browser-test"))
    seed_demo(app.state.sessions, must_change_password=False)
    with live_server(app) as url:
        yield url


def new_page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=server)
    return context, context.new_page()


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context, page = new_page(browser, server)
    yield page
    context.close()


def test_agent_searches_in_traditional_characters_and_opens_the_faq(page, server) -> None:  # type: ignore[no-untyped-def]
    login(page, server, "10001")
    page.get_by_role("link", name="知识库").click()
    page.wait_for_url("**/knowledge")
    assert page.locator(".kb-cats [data-category=faq] .count").inner_text() == "7"
    page.keyboard.type("忘記密碼")  # the search box has the focus
    page.keyboard.press("Enter")
    page.wait_for_url("**/knowledge?q=*")
    first = page.locator(".hit").first
    assert first.locator(".hit-title").inner_text() == FORGOT_PASSWORD.question
    assert first.locator(".snippet").inner_text() == FORGOT_PASSWORD.answer
    assert first.locator(".hit-title mark").all_inner_texts() == ["忘记密码"]
    assert "密码" in first.locator(".snippet mark").all_inner_texts()
    assert (
        page.locator(".snippet mark").first.evaluate("m => getComputedStyle(m).backgroundColor") != "rgba(0, 0, 0, 0)"
    )

    page.keyboard.press("ArrowDown")  # from the search box to the first result, then open it
    page.keyboard.press("Enter")
    page.wait_for_url("**/knowledge/*")
    assert FORGOT_PASSWORD.question in page.locator("h1").inner_text()
    assert page.locator("#article-body").inner_text() == FORGOT_PASSWORD.answer
    assert page.get_by_role("link", name="编辑").count() == 0  # agents only read
    assert "第 1 版" in page.locator("#history").inner_text()


def test_a_trainers_edit_reaches_the_agents_workbench(browser, server, page) -> None:  # type: ignore[no-untyped-def]
    login(page, server, "40001")
    page.goto("/knowledge?q=休假")
    page.locator(".hit .hit-title", has_text="休假制度").click()
    page.get_by_role("link", name="编辑").click()
    page.wait_for_url("**/edit")
    body = page.get_by_label("正文")
    body.fill(body.input_value() + "\n婚假、产假按国家规定执行")
    page.get_by_label("修改说明").fill("补充婚假、产假的规定")
    page.get_by_role("button", name="保存").click()
    assert "已保存为第 2 版" in page.locator(".flash").inner_text()
    assert "婚假、产假按国家规定执行" in page.locator("#last-change ins").all_inner_texts()[-1]

    context, agent = new_page(browser, server)
    try:
        login(agent, server, "10002")
        card = agent.locator("#knowledge-updates")
        assert "休假制度" in card.locator("li").first.inner_text() and "修改" in card.inner_text()
        card.get_by_role("link", name="查看全部更新及改动").click()
        agent.wait_for_url("**/knowledge/changes")
        change = agent.locator(".kb-change", has_text="休假制度")
        assert "补充婚假、产假的规定" in change.inner_text()
        assert "婚假、产假按国家规定执行" in change.locator("ins").all_inner_texts()[-1]
        agent.get_by_role("button", name="全部标为已读").click()
        assert "已全部标为已读" in agent.locator(".flash").inner_text()
        assert agent.locator("#no-changes").is_visible(), agent.locator("main").inner_text()
        agent.goto("/")
        assert "没有新的知识更新" in agent.locator("#knowledge-updates").inner_text()
    finally:
        context.close()


def test_scripts_by_stage_and_no_editing_for_agents(page, server) -> None:  # type: ignore[no-untyped-def]
    login(page, server, "10001")
    page.goto("/knowledge/new")
    assert "无权" in page.locator("[role=alert]").inner_text()
    page.goto("/knowledge/scripts")
    assert page.locator(".kb-tabs a").count() == 5
    page.locator(".kb-tabs a[data-stage=providing]").click()
    page.get_by_role("link", name="用户愤怒").click()
    scripts = page.locator(".kb-script")
    assert scripts.count() >= 1 and all("用户愤怒" in text for text in scripts.all_inner_texts())
