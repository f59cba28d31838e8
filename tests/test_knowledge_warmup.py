"""Search right after a start: nothing is built in memory, so the first search answers like any
other (the startup loads jieba's dictionary and puts the rulebook's situation scripts in the
database's index), and every server process searches the same index — an edit saved through
one is found through another at once."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import client_for
from kefu.knowledge import service
from kefu.knowledge.demo import FAQ_004

FORGOT_PASSWORD = FAQ_004[0]  # 忘记密码怎么办?


def test_the_first_search_after_start_answers_from_the_database(app_factory: Any) -> None:
    app = app_factory(activity=True, escalation_interval=0)
    with TestClient(app) as client:  # the startup has run
        with app.state.sessions() as session:
            assert service.index_scripts(session, app.state.rulebook) is False  # indexed by the startup
        client_for(app, client=client)
        first = client.get("/api/knowledge/search", params={"q": "忘記密碼怎麼辦"})
        assert first.status_code == 200, first.text
        [hit, *_] = first.json()["hits"]
        assert hit["title"] == FORGOT_PASSWORD.question and hit["snippet"] == FORGOT_PASSWORD.answer
        silent = client.get("/api/knowledge/search", params={"q": "無聲電話"}).json()["hits"][0]
        assert silent["ref"] == "silent_call" and silent["url"].endswith("#silent_call")
    assert not hasattr(app.state, "knowledge_index")  # no index of the process's own


def test_every_process_searches_the_same_index(app_factory: Any) -> None:
    one, other = app_factory(activity=True, escalation_interval=0), app_factory(escalation_interval=0)
    trainer, agent = client_for(one, "40001"), client_for(other, "10001")
    assert agent.get("/api/knowledge/search", params={"q": "夜间值班"}).json()["hits"] == []
    hits = agent.get("/api/knowledge/search", params={"q": "夜间服务时间"}).json()["hits"]
    night = next(h for h in hits if h["kind"] == "article")
    url = f"/api/knowledge/articles/{night['ref']}"
    version = trainer.get(url).json()["version"]
    saved = trainer.patch(url, json={"version": version, "title": "夜间值班与服务时间"})
    assert saved.status_code == 200, saved.text
    [found] = agent.get("/api/knowledge/search", params={"q": "夜间值班"}).json()["hits"]
    assert found["ref"] == night["ref"] and found["title"] == "夜间值班与服务时间"
