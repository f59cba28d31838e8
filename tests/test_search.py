"""Knowledge-base search (in memory): Chinese segmentation, traditional characters, BM25F
ranking, phrase bonus, snippets, bad input, incremental updates; situation scripts by stage and
scenario and in the search results."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.core.errors import Invalid, NotFound
from kefu.knowledge import service as kb
from kefu.knowledge.models import ArticleCategory, ArticleStatus
from kefu.knowledge.search import Document, KnowledgeIndex, SearchIndex, analyze, mark

FAQ = ArticleCategory.FAQ

ARTICLES = [
    Document(
        "article:1", "忘记密码怎么办?", "您可以通过绑定手机号接收验证码重置密码,或使用绑定邮箱找回。", ("账户与密码",)
    ),
    Document(
        "article:2",
        "智能家居设备连接失败",
        "请确认设备在WiFi覆盖范围内,并检查手机网络是否正常。然后尝试重启设备和手机APP,按照配对向导重新操作。",
        ("产品使用",),
    ),
    Document(
        "article:3",
        "订阅服务如何取消?",
        '您可以登录账户中心,在"我的订阅"页面选择相应服务点击"取消续订"。取消后当前订阅期限内仍可继续使用,到期后不再扣费。',
        ("收费与账单",),
    ),
    Document(
        "article:4",
        "账户安全须知",
        "不要把密码告诉任何人。客服不会索要您的密码。密码请定期更换,密码不要与其他网站相同。",
        category=ArticleCategory.POLICY,
    ),
    Document("article:5", "夜间服务时间", "夜间服务时间:23:30-次日7:30", category=ArticleCategory.POLICY),
    Document("article:6", "错误代码说明", "设备显示错误代码E1025时,请重新插拔电源。", category=ArticleCategory.MANUAL),
]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    index = SearchIndex()
    for doc in ARTICLES:
        index.add(doc)
    return index


def keys(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.key for hit in hits]


def test_text_is_simplified_folded_and_segmented() -> None:
    assert analyze("忘記密碼怎麼辦?") == analyze("忘记密码怎么办") == ["忘记", "密码", "怎么", "怎么办"]
    assert analyze("智能家居") == ["智能", "家居", "智能家居"]  # search mode: the word and its parts
    assert analyze("ＷｉＦｉ 帳戶") == analyze("wifi 账户") == ["wifi", "账户"]
    assert analyze("的了吗?!") == []  # particles and punctuation are not terms


def test_chinese_words_inside_longer_text_are_found(index: SearchIndex) -> None:
    assert keys(index.search("家居"))[0] == "article:2"  # part of 智能家居
    assert keys(index.search("验证码"))[0] == "article:1"
    assert keys(index.search("怎样取消订阅"))[0] == "article:3"  # other word order, other wording
    assert keys(index.search("手机 APP 重启"))[0] == "article:2"


def test_a_short_query_finds_the_part_of_a_longer_word() -> None:
    index = SearchIndex()
    index.add(Document("article:1", "服务评价", "处理结果不尽人意时,请主动致歉"))
    assert analyze("人意") == ["人", "意"]  # jieba cuts the short query differently …
    assert keys(index.search("人意")) == ["article:1"]  # … but the indexed term is used


def test_a_traditional_query_finds_the_simplified_article(index: SearchIndex) -> None:
    assert keys(index.search("忘記密碼怎麼辦"))[0] == "article:1"
    assert keys(index.search("訂閱服務如何取消"))[0] == "article:3"
    assert keys(index.search("帳戶中心"))[0] == "article:3"  # 帳 and 賬 both fold to 账


def test_a_title_match_ranks_first(index: SearchIndex) -> None:
    """article:4 says 密码 five times in its body; article:1 has it once in the title (and once
    in its body)."""
    hits = index.search("密码")
    assert keys(hits) == ["article:1", "article:4"]
    assert hits[0].score > hits[1].score


def test_a_hit_must_cover_most_of_the_query() -> None:
    index = SearchIndex()
    index.add(Document("article:1", "套餐价格", "基础版1999元"))
    index.add(Document("article:2", "计算机使用说明", "请按说明书操作"))
    assert index.search("量子计算机价格") == []  # 价格 alone, or 计算机 alone, is not enough
    assert keys(index.search("计算机说明")) == ["article:2"] and keys(index.search("价格")) == ["article:1"]
    index.add(Document("article:3", "忘记密码怎么办?", "通过绑定手机号重置密码"))
    assert index.search("退款怎么办") == []  # 怎么办 (and the 怎么 inside it) count once, 退款 is missing
    assert keys(index.search("密码怎么办")) == ["article:3"]


def test_the_whole_phrase_earns_a_bonus() -> None:
    index = SearchIndex()
    index.add(Document("article:1", "设备说明", "连接网络后设备会自动更新。若失败,请检查路由器。"))
    index.add(Document("article:2", "设备说明", "如果设备更新失败,请重启后再试。"))
    assert keys(index.search("更新失败")) == ["article:2", "article:1"]


def test_nothing_found_is_an_empty_list(index: SearchIndex) -> None:
    assert index.search("火星探测器发射") == []
    assert index.search("的") == []  # only a particle: nothing to search for


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_query_is_refused(index: SearchIndex, query: str) -> None:
    with pytest.raises(Invalid, match="请输入要搜索的内容"):
        index.search(query)


def test_a_very_long_query_is_refused(index: SearchIndex) -> None:
    with pytest.raises(Invalid, match="最多 200 字"):
        index.search("密码" * 101)


@pytest.mark.parametrize(
    "query",
    ["%", "_", "*", ".*", "(", "[", "\\", "' OR 1=1 --", "<script>alert(1)</script>", "😀", "\x00", "|||", "密码%"],
)
def test_special_characters_do_not_crash(index: SearchIndex, query: str) -> None:
    hits = index.search(query)
    assert isinstance(hits, list)
    if query == "密码%":
        assert keys(hits)[0] == "article:1"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gives_hits_or_a_clear_error(text: str) -> None:
    index = SearchIndex()
    for doc in ARTICLES[:3]:
        index.add(doc)
    try:
        hits = index.search(text)
    except Invalid:
        assert not text.strip()
    else:
        assert all(0 <= s <= e <= len(h.snippet) for h in hits for s, e in h.highlights)


def test_a_code_jieba_cuts_differently_is_found_as_a_substring(index: SearchIndex) -> None:
    assert keys(index.search("E102")) == ["article:6"]  # the index only knows the term e1025


def test_the_snippet_quotes_the_body_and_marks_the_terms() -> None:
    body = "开头的几句话与问题无关。" * 8 + "忘記密碼時,請通過綁定手機號接收驗證碼重置密碼。" + "结尾的话。" * 10
    index = SearchIndex(snippet_length=40)
    index.add(Document("article:9", "帳號說明", body))
    [hit] = index.search("忘记密码")
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "忘記密碼時" in hit.snippet  # quoted as written (traditional), found through the simplified form
    marked = [hit.snippet[s:e] for s, e in hit.highlights]
    assert marked[:2] == ["忘記密碼", "密碼"] and len(hit.snippet) <= 42
    assert hit.snippet_html().count("<mark>") == len(hit.highlights)


def test_html_of_a_hit_is_escaped() -> None:
    assert mark("<b>密码</b>", [(3, 5)]) == "&lt;b&gt;<mark>密码</mark>&lt;/b&gt;"
    index = SearchIndex()
    index.add(Document("article:1", "<script>密码</script>", "正文"))
    assert "<script>" not in index.search("密码")[0].title_html()


def test_category_and_status_filters() -> None:
    index = SearchIndex()
    index.add(Document("article:1", "密码说明", "正文", category=FAQ))
    index.add(Document("article:2", "密码政策", "正文", category=ArticleCategory.POLICY))
    index.add(Document("article:3", "密码草稿", "正文", category=FAQ, status=ArticleStatus.DRAFT))
    assert sorted(keys(index.search("密码"))) == ["article:1", "article:2"]
    assert keys(index.search("密码", categories=["policy"])) == ["article:2"]
    assert sorted(keys(index.search("密码", categories=[FAQ], statuses=["published", "draft"]))) == [
        "article:1",
        "article:3",
    ]
    assert len(index.search("密码", limit=1)) == 1
    with pytest.raises(Invalid, match="未知的分类或状态"):
        index.search("密码", categories=["杂项"])


def test_updates_are_incremental() -> None:
    index = SearchIndex()
    index.add(Document("article:1", "忘记密码怎么办", "重置密码"))
    index.add(Document("article:2", "退货流程", "七天无理由退货"))
    assert keys(index.search("退货")) == ["article:2"]
    index.add(Document("article:2", "换货流程", "质量问题可以换货"))  # same key: replaced
    assert index.search("退货") == [] and keys(index.search("换货")) == ["article:2"]
    assert index.remove("article:1") and not index.remove("article:1")
    assert index.search("密码") == [] and len(index) == 1
    index.remove("article:2")
    assert index.search("换货") == [] and index._total == [0, 0, 0] and index._postings == {}


def test_searching_while_the_index_changes() -> None:
    index = SearchIndex()
    for i in range(50):
        index.add(Document(f"article:{i}", f"密码问题{i}", "重置密码的方法"))
    errors: list[BaseException] = []

    def writer() -> None:
        for i in range(50, 250):
            index.add(Document(f"article:{i}", f"密码问题{i}", "重置密码的方法"))
            index.remove(f"article:{i - 50}")

    def reader() -> None:
        try:
            for _ in range(100):
                index.search("重置密码")
        except BaseException as err:  # pragma: no cover - the failure being tested for
            errors.append(err)

    threads = [threading.Thread(target=writer), *(threading.Thread(target=reader) for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(index) == 50


# ---------------------------------------------------------------- situation scripts


@pytest.fixture(scope="module")
def knowledge(rulebook) -> KnowledgeIndex:  # type: ignore[no-untyped-def]
    index = KnowledgeIndex()
    index.add_scripts(rulebook)
    for doc in ARTICLES:
        index.add(doc)
    return index


def test_a_silent_call_search_finds_the_script(knowledge: KnowledgeIndex, rulebook) -> None:  # type: ignore[no-untyped-def]
    for query in ("无声电话", "無聲電話", "电话没有声音"):
        hit = knowledge.search(query)[0]
        assert hit.key == "script:silent_call" and hit.kind == "script" and hit.ref == "silent_call", query
        assert hit.category == ArticleCategory.SCRIPT and hit.category_label == "话术"
    hit = knowledge.search("无声电话")[0]
    assert hit.title == "无声电话处理" and hit.source.startswith("003")
    assert "稍停5秒" in knowledge.document(hit.key).body
    assert keys(knowledge.search("无声电话", categories=[FAQ])) == []


def test_scripts_are_searchable_by_what_the_agent_must_not_say(knowledge: KnowledgeIndex) -> None:
    assert "script:silent_call" in keys(knowledge.search("喂,说话呀"))


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
