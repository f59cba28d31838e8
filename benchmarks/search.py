"""Knowledge-base search on thousands of articles, on SQLite or PostgreSQL, against naive baselines.

    python benchmarks/search.py [--articles N] [--queries N] [--rounds N] [--postgres URL]

Fills a database with ``--articles`` (default 5,000) published articles through the knowledge
service, which writes each article's search row (jieba-segmented terms in SQLite FTS5 or in a
PostgreSQL tsvector) in the same transaction: bodies are 2–8 real JD.com agent replies
(``shared/data/jddc_agent_replies.txt``, placeholders filled as in ``calls.py``), now and then
with a paragraph of the seed-based demo articles; titles come from the seeds' FAQ questions, the
rulebook's script titles and the replies' first clauses. The database is a temporary SQLite file,
or with ``--postgres`` a PostgreSQL database on this machine (emptied first). Then:

1. **indexing**: ``reindex_articles`` (segments every article again and rewrites its row, what
   migration 0009 does for the articles already there) and the rulebook's situation scripts
   (``index_scripts``); then one edit through ``do_update_article``, its search row included;
2. **kefu search**: ``kefu.knowledge.search.search`` (top 10, snippets and highlights included,
   the scripts along) on a session of its own per query, as a request has, for about 200 queries
   (``--queries``): FAQ questions in simplified and traditional characters, script scenarios,
   words and word pairs from the articles, a few that match nothing;
3. **baseline, substring scan**: for each query, every article's title, keywords and body tested
   with ``query in text`` (exact, case-sensitive) and the matches ordered title-first — what a
   first version without a search engine does;
4. **baseline, SQL LIKE**: ``title LIKE '%q%' OR body LIKE '%q%'`` on the same database.

Queries are timed one by one (``perf_counter``), each query set repeated ``--rounds`` times in
interleaved rounds after a warm-up; p50/p99 are over all timed queries. The report also says
how many queries each method answers with at least one hit (a traditional query or a
different word order finds nothing with a substring). Always exits 0.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, make_url, or_, select

from calls import JDDC, load_replies
from kefu.accounts import service as accounts
from kefu.core.db import make_engine, migrate, session_factory, transaction
from kefu.core.security import Role
from kefu.knowledge import demo, search
from kefu.knowledge import service as kb
from kefu.knowledge.models import Article, ArticleCategory, ArticleStatus
from kefu.knowledge.schemas import ArticleCreate, ArticleUpdate
from kefu.knowledge.search import _converter, analyze
from kefu.rulebook.loader import load_rulebook

# Articles saved per transaction while filling (an editor saves one at a time).
FILL_BATCH = 50
TOPICS = ["退款", "发货", "物流", "发票", "价保", "退换货", "密码", "订单", "地址", "优惠券", "售后", "维修", "配送"]
CATEGORIES = [ArticleCategory.FAQ] * 4 + [ArticleCategory.MANUAL, ArticleCategory.PROCEDURE, ArticleCategory.POLICY]


def make_articles(count: int, replies: list[str], rng: random.Random) -> list[ArticleCreate]:
    seeds = demo._articles()
    rulebook = load_rulebook()
    titles = [a.title for a in seeds] + [s.title for s in rulebook.scripts]
    out = []
    for n in range(count):
        body = "\n".join(rng.sample(replies, rng.randint(2, 8)))
        if rng.random() < 0.2:
            body = rng.choice(seeds).body + "\n\n" + body
        if rng.random() < 0.3:
            title = rng.choice(titles) + f"({rng.choice(TOPICS)})"
        else:
            title = re.split(r"[,。!?]", rng.choice(replies))[0][:30] or f"文章{n}"
        out.append(
            ArticleCreate(
                title=title,
                category=rng.choice(CATEGORIES),
                body=body,
                keywords=rng.sample(TOPICS, rng.randint(1, 3)),
                status=ArticleStatus.PUBLISHED,
                source="benchmark: JDDC agent replies + seed demo",
            )
        )
    return out


def make_queries(count: int, articles: list[ArticleCreate], rng: random.Random) -> list[str]:
    rulebook = load_rulebook()
    to_traditional = __import__("opencc").OpenCC("s2t")
    faq = [f.question for f in demo.FAQ_004 + demo.AGENT_FAQ_004]
    queries = faq + [to_traditional.convert(q) for q in faq]
    queries += list(dict.fromkeys(s.scenario for s in rulebook.scripts))[:40]
    queries += ["火星探测器", "量子计算机价格", "股票代码600519", "签证办理"]  # match nothing
    while len(queries) < count:
        terms = [t for t in analyze(rng.choice(articles).body) if len(t) >= 2]
        if not terms:
            continue
        if rng.random() < 0.5:
            queries.append(rng.choice(terms))
        else:
            queries.append(" ".join(rng.sample(terms, min(2, len(terms)))))
    return queries[:count]


def substring_scan(rows: list[tuple[int, str, str, str]]) -> Callable[[str], list[int]]:
    def scan(query: str) -> list[int]:
        query = query.strip()
        in_title = [i for i, title, _, _ in rows if query in title]
        rest = [i for i, title, keywords, body in rows if query not in title and (query in keywords or query in body)]
        return (in_title + rest)[:10]

    return scan


def sql_like(factory) -> Callable[[str], list[int]]:  # type: ignore[no-untyped-def]
    def like(query: str) -> list[int]:
        pattern = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with factory() as session:
            return list(
                session.scalars(
                    select(Article.id)
                    .where(or_(Article.title.like(pattern, escape="\\"), Article.body.like(pattern, escape="\\")))
                    .limit(10)
                )
            )

    return like


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def time_queries(run: Callable[[str], object], queries: list[str]) -> tuple[list[float], int]:
    times, answered = [], 0
    gc.disable()
    try:
        for query in queries:
            start = time.perf_counter()
            hits = run(query)
            times.append(time.perf_counter() - start)
            answered += bool(hits)
    finally:
        gc.enable()
    return times, answered


def empty_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="a PostgreSQL database on this machine to measure on (emptied first)")
    args = parser.parse_args(argv)
    if args.postgres and make_url(args.postgres).host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--postgres must be a database on this machine (127.0.0.1 or localhost)")
    if not JDDC.is_file():
        print(f"real data not found: {JDDC} (the benchmark needs shared/data beside the repository)")
        return 0

    rng = random.Random(20261123)
    replies = load_replies()
    articles = make_articles(args.articles, replies, rng)
    queries = make_queries(args.queries, articles, rng)
    rulebook = load_rulebook()
    analyze("预热")  # jieba loads its dictionary once per process (about 0.6 s); not part of any figure

    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres or f"sqlite:///{folder}/kb.db"
        if args.postgres:
            empty_postgres(url)
        migrate(url)
        engine = make_engine(url)
        factory = session_factory(engine)
        with transaction(factory) as session:
            author = accounts.do_create_user(
                session, None, agent_no="90001", name="培训师", role=Role.TRAINER, password="kefu2026"
            ).id
        started = time.perf_counter()
        for first in range(0, len(articles), FILL_BATCH):
            with transaction(factory) as session:
                for data in articles[first : first + FILL_BATCH]:
                    kb.do_create_article(session, author, data)
        fill = time.perf_counter() - started
        characters = sum(len(a.title) + len(a.body) for a in articles)

        with transaction(factory) as session:
            started = time.perf_counter()
            kb.reindex_articles(session)
            reindex = time.perf_counter() - started
            started = time.perf_counter()
            kb.index_scripts(session, rulebook)
            scripts = time.perf_counter() - started
        if args.postgres:
            with engine.connect() as connection:  # what autovacuum does after a bulk load
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE knowledge_search"
                )

        # one edit, its search row written in the same transaction (what every save does)
        with factory() as session:
            article = session.scalars(select(Article).order_by(Article.id).limit(1)).one()
            started = time.perf_counter()
            kb.do_update_article(session, author, article.id, ArticleUpdate(version=article.version, title="新标题"))
            session.commit()
            edit = time.perf_counter() - started
            with_scripts = session.scalar(select(func.count()).select_from(Article)) + len(rulebook.scripts)

        def kefu(query: str) -> list[search.Hit]:
            with factory() as session:
                return search.search(session, query, rulebook=rulebook, limit=10)

        with factory() as session:
            rows = [
                (a.id, a.title, " ".join(a.keywords), a.body)
                for a in session.scalars(select(Article).order_by(Article.id))
            ]
        engine_name = "PostgreSQL tsvector" if args.postgres else "SQLite FTS5"
        methods: dict[str, Callable[[str], object]] = {
            f"kefu search ({engine_name}, top 10 + snippets)": kefu,
            "baseline: substring scan in memory": substring_scan(rows),
            f"baseline: SQL LIKE on {'PostgreSQL' if args.postgres else 'SQLite'}": sql_like(factory),
        }
        for run in methods.values():  # warm-up
            time_queries(run, queries[:20])
        times: dict[str, list[float]] = {name: [] for name in methods}
        answered: dict[str, int] = {}
        for _ in range(args.rounds):
            for name, run in methods.items():
                spent, found = time_queries(run, queries)
                times[name] += spent
                answered[name] = found
        engine.dispose()

    traditional = [q for q in queries if _converter().convert(q) != q]
    database = f"PostgreSQL ({make_url(url).render_as_string()})" if args.postgres else "SQLite (a temporary file)"
    print(f"kefu knowledge-base search benchmark · Python {platform.python_version()} · {platform.machine()}")
    print(f"database: {database}")
    print(
        f"articles: {len(articles):,} ({characters / len(articles):.0f} characters on average, {characters:,} in all)"
    )
    print(f"  + {len(rulebook.scripts)} situation scripts from the rulebook ({with_scripts:,} searchable documents)")
    per_article = fill / len(articles) * 1000
    print(
        f"database fill through the service, {FILL_BATCH} articles a transaction, search rows included: {fill:.1f} s"
        f" ({per_article:.2f} ms an article)"
    )
    print(f"queries: {len(queries)} ({len(traditional)} in traditional characters), {args.rounds} rounds each\n")
    print(f"reindexing every article: {reindex:.2f} s ({characters / reindex / 1000:.0f}k characters/s)")
    print(f"indexing the rulebook's scripts: {scripts * 1000:.0f} ms; one edit saved, its search row included:")
    print(f"  {edit * 1000:.1f} ms (searchable in every process once committed)\n")
    print(f"{'method':<52} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'queries with hits':>18}")
    for name in methods:
        values = [t * 1000 for t in times[name]]
        print(
            f"{name:<52} {percentile(values, 50):>8.2f} {percentile(values, 99):>8.2f}"
            f" {statistics.fmean(values):>8.2f} {answered[name]:>10}/{len(queries)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
