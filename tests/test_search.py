"""Knowledge-base search on the database's full-text engine (SQLite FTS5, PostgreSQL tsvector):
Chinese segmentation, traditional characters, ranking with field weights, phrase bonus,
coverage of the query, the substring fallback for codes, snippets, bad input, edits searchable
at once; situation scripts by stage and scenario and in the search results."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.core.db import transaction
from kefu.core.errors import Invalid, NotFound
from kefu.knowledge import search
from kefu.knowledge import service as kb
from kefu.knowledge.models import ArticleCategory, ArticleStatus
from kefu.knowledge.schemas import ArticleCreate, ArticleUpdate
from kefu.knowledge.search import analyze, mark

FAQ = ArticleCategory.FAQ


@dataclass(frozen=True)
class Doc:
    title: str
    body: str
    keywords: tuple[str, ...] = ()
    category: ArticleCategory = FAQ
    status: ArticleStatus = ArticleStatus.PUBLISHED


ARTICLES = [
    Doc("忘记密码怎么办?", "您可以通过绑定手机号接收验证码重置密码,或使用绑定邮箱找回。", ("账户与密码",)),
    Doc(
        "智能家居设备连接失败",
        "请确认设备在WiFi覆盖范围内,并检查手机网络是否正常。然后尝试重启设备和手机APP,按照配对向导重新操作。",
        ("产品使用",),
    ),
    Doc(
        "订阅服务如何取消?",
        '您可以登录账户中心,在"我的订阅"页面选择相应服务点击"取消续订"。取消后当前订阅期限内仍可继续使用,到期后不再扣费。',
        ("收费与账单",),
    ),
    Doc(
        "账户安全须知",
        "不要把密码告诉任何人。客服不会索要您的密码。密码请定期更换,密码不要与其他网站相同。",
        category=ArticleCategory.POLICY,
    ),
    Doc("夜间服务时间", "夜间服务时间:23:30-次日7:30", category=ArticleCategory.POLICY),
    Doc("错误代码说明", "设备显示错误代码E1025时,请重新插拔电源。", category=ArticleCategory.MANUAL),
]


def add(sessions, *docs: Doc) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Create the articles through the service (which indexes them); their ids by title."""
    with transaction(sessions) as session:
        return {
            doc.title: kb.do_create_article(
                session,
                None,
                ArticleCreate(
                    title=doc.title,
                    body=doc.body,
                    keywords=list(doc.keywords),
                    category=doc.category,
                    status=doc.status,
                ),
            ).id
            for doc in docs
        }


def find(sessions, query: str, **options) -> list[search.Hit]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return search.search(session, query, **options)


def titles(hits: list[search.Hit]) -> list[str]:
    return [hit.title for hit in hits]


@pytest.fixture
def articles(sessions):  # type: ignore[no-untyped-def]
    add(sessions, *ARTICLES)
    return sessions


def test_text_is_simplified_folded_and_segmented() -> None:
    assert analyze("忘記密碼怎麼辦?") == analyze("忘记密码怎么办") == ["忘记", "密码", "怎么", "怎么办"]
    assert analyze("智能家居") == ["智能", "家居", "智能家居"]  # search mode: the word and its parts
    assert analyze("ＷｉＦｉ 帳戶") == analyze("wifi 账户") == ["wifi", "账户"]
    assert analyze("的了吗?!") == []  # particles and punctuation are not terms


def test_chinese_words_inside_longer_text_are_found(articles) -> None:  # type: ignore[no-untyped-def]
    assert titles(find(articles, "家居"))[0] == "智能家居设备连接失败"  # part of 智能家居
    assert titles(find(articles, "验证码"))[0] == "忘记密码怎么办?"
    assert titles(find(articles, "怎样取消订阅"))[0] == "订阅服务如何取消?"  # other word order, other wording
    assert titles(find(articles, "手机 APP 重启"))[0] == "智能家居设备连接失败"


def test_a_short_query_finds_the_part_of_a_longer_word(sessions) -> None:  # type: ignore[no-untyped-def]
    add(sessions, Doc("服务评价", "处理结果不尽人意时,请主动致歉"))
    assert analyze("人意") == ["人", "意"]  # jieba cuts the short query differently …
    assert titles(find(sessions, "人意")) == ["服务评价"]  # … but the indexed term is used


def test_a_traditional_query_finds_the_simplified_article(articles) -> None:  # type: ignore[no-untyped-def]
    assert titles(find(articles, "忘記密碼怎麼辦"))[0] == "忘记密码怎么办?"
    assert titles(find(articles, "訂閱服務如何取消"))[0] == "订阅服务如何取消?"
    assert titles(find(articles, "帳戶中心"))[0] == "订阅服务如何取消?"  # 帳 and 賬 both fold to 账


def test_a_title_match_ranks_first(articles) -> None:  # type: ignore[no-untyped-def]
    """账户安全须知 says 密码 five times in its body; the FAQ has it once in the title (and once
    in its body)."""
    hits = find(articles, "密码")
    assert titles(hits) == ["忘记密码怎么办?", "账户安全须知"]
    assert hits[0].score > hits[1].score


def test_a_hit_must_cover_most_of_the_query(sessions) -> None:  # type: ignore[no-untyped-def]
    add(sessions, Doc("套餐价格", "基础版1999元"), Doc("计算机使用说明", "请按说明书操作"))
    assert find(sessions, "量子计算机价格") == []  # 价格 alone, or 计算机 alone, is not enough
    assert titles(find(sessions, "计算机说明")) == ["计算机使用说明"] and titles(find(sessions, "价格")) == ["套餐价格"]
    add(sessions, Doc("忘记密码怎么办?", "通过绑定手机号重置密码"))
    assert find(sessions, "退款怎么办") == []  # 怎么办 (and the 怎么 inside it) count once, 退款 is missing
    assert titles(find(sessions, "密码怎么办")) == ["忘记密码怎么办?"]


def test_the_whole_phrase_earns_a_bonus(sessions) -> None:  # type: ignore[no-untyped-def]
    ids = add(sessions, Doc("设备说明", "连接网络后设备会自动更新。若失败,请检查路由器。"))
    ids |= add(sessions, Doc("设备操作", "如果设备更新失败,请重启后再试。"))
    assert [hit.ref for hit in find(sessions, "更新失败")] == [ids["设备操作"], ids["设备说明"]]


def test_nothing_found_is_an_empty_list(articles) -> None:  # type: ignore[no-untyped-def]
    assert find(articles, "火星探测器发射") == []
    assert find(articles, "的") == []  # only a particle: nothing to search for


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_query_is_refused(sessions, query: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid, match="请输入要搜索的内容"):
        find(sessions, query)


def test_a_very_long_query_is_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid, match="最多 200 字"):
        find(sessions, "密码" * 101)


SPECIAL = ["%", "_", "*", ".*", "(", "[", "\\", "' OR 1=1 --", "<script>alert(1)</script>", "😀", "\x00", "|||"]
SPECIAL += ['"密码" OR', "密码 AND NOT", "NEAR(密码", "title:密码", "a:*", "'", '"']  # operators are words here
SYNTAX = ['"密码"', "密码*", "(密码", "密码:*", "!密码 & 验证码", "密码%", "-密码", "^密码", "{密码}", "密码 | 验证码"]


def test_special_characters_do_not_crash(articles) -> None:  # type: ignore[no-untyped-def]
    """Neither FTS5's query syntax nor tsquery's, nor SQL's, reaches the engine from a query."""
    for query in SPECIAL:
        assert isinstance(find(articles, query), list), query
    for query in SYNTAX:
        assert titles(find(articles, query))[0] == "忘记密码怎么办?", query


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60))
def test_any_text_gives_hits_or_a_clear_error(articles, text: str) -> None:  # type: ignore[no-untyped-def]
    try:
        hits = find(articles, text)
    except Invalid:
        assert not text.strip()
    else:
        assert all(0 <= s <= e <= len(h.snippet) for h in hits for s, e in h.highlights)


def test_a_code_jieba_cuts_differently_is_found_as_a_substring(articles) -> None:  # type: ignore[no-untyped-def]
    assert titles(find(articles, "E102")) == ["错误代码说明"]  # the index only knows the term e1025
    add(articles, Doc("套餐变更", "畅享套餐的代码为CP-2026-118,请在办理时报给客户。"))
    assert analyze("CP2026118") == ["cp2026118"] and "cp2026118" not in analyze("CP-2026-118")
    assert titles(find(articles, "cp2026118")) == ["套餐变更"]  # punctuation inside a code is ignored


def test_the_snippet_quotes_the_body_and_marks_the_terms(sessions) -> None:  # type: ignore[no-untyped-def]
    body = "开头的几句话与问题无关。" * 8 + "忘記密碼時,請通過綁定手機號接收驗證碼重置密碼。" + "结尾的话。" * 10
    add(sessions, Doc("帳號說明", body))
    [hit] = find(sessions, "忘记密码", snippet_length=40)
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "忘記密碼時" in hit.snippet  # quoted as written (traditional), found through the simplified form
    marked = [hit.snippet[s:e] for s, e in hit.highlights]
    assert marked[:2] == ["忘記密碼", "密碼"] and len(hit.snippet) <= 42
    assert hit.snippet_html().count("<mark>") == len(hit.highlights)


def test_html_of_a_hit_is_escaped(sessions) -> None:  # type: ignore[no-untyped-def]
    assert mark("<b>密码</b>", [(3, 5)]) == "&lt;b&gt;<mark>密码</mark>&lt;/b&gt;"
    add(sessions, Doc("<script>密码</script>", "正文"))
    assert "<script>" not in find(sessions, "密码")[0].title_html()


def test_category_and_status_filters(sessions) -> None:  # type: ignore[no-untyped-def]
    add(
        sessions,
        Doc("密码说明", "正文"),
        Doc("密码政策", "正文", category=ArticleCategory.POLICY),
        Doc("密码草稿", "正文", status=ArticleStatus.DRAFT),
    )
    assert sorted(titles(find(sessions, "密码"))) == ["密码政策", "密码说明"]
    assert titles(find(sessions, "密码", categories=["policy"])) == ["密码政策"]
    assert sorted(titles(find(sessions, "密码", categories=[FAQ], statuses=["published", "draft"]))) == [
        "密码草稿",
        "密码说明",
    ]
    assert len(find(sessions, "密码", limit=1)) == 1
    with pytest.raises(Invalid, match="未知的分类或状态"):
        find(sessions, "密码", categories=["杂项"])


def test_edits_are_searchable_at_once_and_only_once_committed(sessions) -> None:  # type: ignore[no-untyped-def]
    ids = add(sessions, Doc("忘记密码怎么办", "重置密码"), Doc("退货流程", "七天无理由退货"))
    returns = ids["退货流程"]
    assert titles(find(sessions, "退货")) == ["退货流程"]
    with transaction(sessions) as session:
        kb.do_update_article(
            session, None, returns, ArticleUpdate(version=1, title="换货流程", body="质量问题可以换货")
        )
    assert find(sessions, "退货") == [] and titles(find(sessions, "换货")) == ["换货流程"]

    with sessions() as session:  # an edit rolled back is never found
        kb.do_update_article(session, None, returns, ArticleUpdate(version=2, title="维修流程", body="送修"))
        assert titles(search.search(session, "维修")) == ["维修流程"]  # (in its own transaction, it is)
        session.rollback()
    assert find(sessions, "维修") == [] and titles(find(sessions, "换货")) == ["换货流程"]

    with transaction(sessions) as session:
        kb.do_set_status(session, None, ids["忘记密码怎么办"], ArticleStatus.ARCHIVED, version=1)
    assert find(sessions, "密码") == []
    assert titles(find(sessions, "密码", statuses=["archived"])) == ["忘记密码怎么办"]


def test_searching_while_articles_change(sessions) -> None:  # type: ignore[no-untyped-def]
    ids = list(add(sessions, *(Doc(f"密码问题{i}", "重置密码的方法") for i in range(10))).values())
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for round_ in range(3):
                for article_id in ids:
                    with transaction(sessions) as session:
                        update = ArticleUpdate(version=round_ + 1, body=f"重置密码的方法(第 {round_ + 2} 版)")
                        kb.do_update_article(session, None, article_id, update)
        except BaseException as err:  # pragma: no cover - the failure being tested for
            errors.append(err)

    def reader() -> None:
        try:
            for _ in range(20):
                assert len(find(sessions, "重置密码", limit=20)) == 10
        except BaseException as err:  # pragma: no cover - the failure being tested for
            errors.append(err)

    threads = [threading.Thread(target=writer), *(threading.Thread(target=reader) for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {hit.snippet for hit in find(sessions, "重置密码", limit=20)} == {"重置密码的方法(第 4 版)"}


def test_reindexing_gives_the_same_answers(articles) -> None:  # type: ignore[no-untyped-def]
    before = [(h.key, h.score) for h in find(articles, "密码")]
    with transaction(articles) as session:
        assert kb.reindex_articles(session) == len(ARTICLES)
    assert [(h.key, h.score) for h in find(articles, "密码")] == before


# ---------------------------------------------------------------- situation scripts


def test_a_silent_call_search_finds_the_script(articles, rulebook) -> None:  # type: ignore[no-untyped-def]
    for query in ("无声电话", "無聲電話", "电话没有声音"):
        hit = find(articles, query, rulebook=rulebook)[0]
        assert hit.key == "script:silent_call" and hit.kind == "script" and hit.ref == "silent_call", query
        assert hit.category == ArticleCategory.SCRIPT and hit.category_label == "话术"
    hit = find(articles, "无声电话", rulebook=rulebook)[0]
    assert hit.title == "无声电话处理" and hit.source.startswith("003")
    assert "稍停5秒" in hit.snippet and [hit.snippet[a:b] for a, b in hit.highlights] == ["电话", "电话"]
    assert find(articles, "无声电话", rulebook=rulebook, categories=[FAQ]) == []


def test_scripts_are_searchable_by_what_the_agent_must_not_say(articles, rulebook) -> None:  # type: ignore[no-untyped-def]
    assert "script:silent_call" in [hit.key for hit in find(articles, "喂,说话呀", rulebook=rulebook)]


def test_scripts_are_indexed_once_per_rulebook(sessions, rulebook) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        assert kb.index_scripts(session, rulebook) is True
        assert kb.index_scripts(session, rulebook) is False  # the same rulebook: nothing to write
    assert find(sessions, "无声电话", rulebook=rulebook)[0].key == "script:silent_call"
    changed = rulebook.model_copy(update={"scripts": [s for s in rulebook.scripts if s.id != "silent_call"]})
    with transaction(sessions) as session:
        assert kb.index_scripts(session, changed) is True  # a centre's rulebook without the script
    assert "script:silent_call" not in [hit.key for hit in find(sessions, "无声电话", rulebook=changed)]


def test_scripts_browsed_by_stage_and_scenario(rulebook) -> None:  # type: ignore[no-untyped-def]
    stages = kb.script_stages(rulebook)
    assert [s.stage.id for s in stages] == ["opening", "gathering", "providing", "follow_up", "closing"]
    assert sum(len(s.scripts) for s in stages) == len(rulebook.scripts)
    assert all(script.stage == s.stage.id for s in stages for script in s.scripts)
    assert [s.id for s in kb.list_scripts(rulebook, stage="opening", scenario="无声电话")] == ["silent_call"]
    assert {s.id for s in kb.list_scripts(rulebook, scenario="核实身份")} == {
        "identity_check",
        "identity_check_example",
    }
    assert "无声电话" in kb.script_scenarios(rulebook, stage="opening")
    assert "无声电话" not in kb.script_scenarios(rulebook, stage="closing")
    assert kb.get_script("silent_call", rulebook).steps[-1] == "挂机"
    assert kb.list_scripts() == rulebook.scripts  # the shipped rulebook by default
    with pytest.raises(NotFound, match="话术 nope 不存在"):
        kb.get_script("nope", rulebook)
    with pytest.raises(NotFound, match="没有通话阶段「nope」"):
        kb.list_scripts(rulebook, stage="nope")
