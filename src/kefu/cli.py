"""The ``kefu`` command."""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime, tzinfo
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from typer import rich_utils
from typer._click import exceptions as refusals  # Typer's own Click (pinned in pyproject.toml)
from typer.core import TyperCommand, TyperGroup

from kefu.core import validation
from kefu.core.errors import os_reason
from kefu.rulebook.loader import RulebookError, load_rulebook
from kefu.rulebook.schema import Rulebook

# Typer's own words in the help, in Chinese (module settings it reads on every help page).
rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
rich_utils.OPTIONS_PANEL_TITLE = "选项"
rich_utils.COMMANDS_PANEL_TITLE = "命令"
rich_utils.ERRORS_PANEL_TITLE = "错误"
rich_utils.DEFAULT_STRING = "[默认:{}]"
rich_utils.REQUIRED_LONG_STRING = "[必填]"
rich_utils.ENVVAR_STRING = "[环境变量:{}]"
rich_utils.DEPRECATED_STRING = "(已弃用) "
rich_utils.ABORTED_TEXT = "已中止。"
rich_utils.RICH_HELP = "运行 [blue]{command_path} {help_option}[/] 查看用法。"
USAGE_WORDS = {"[OPTIONS]": "[选项]", "COMMAND [ARGS]...": "命令 [参数]..."}


class _ChineseHelp:
    """Click's usage line and help option in Chinese (``用法:kefu qa [选项] [路径]...``)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [USAGE_WORDS.get(piece, piece) for piece in super().collect_usage_pieces(ctx)]  # type: ignore[misc]

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix="用法:")

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help, option.metavar = "显示此帮助并退出。", ""
        return option


class Command(_ChineseHelp, TyperCommand):
    pass


class Group(_ChineseHelp, TyperGroup):
    pass


app = typer.Typer(
    cls=Group,
    help="kefu 客服 — 服务规范即数据:按规范质检通话与会话。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
rules_app = typer.Typer(cls=Group, help="查看与校验规则库。", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

if TYPE_CHECKING:
    from kefu.core.settings import Settings

out = Console()
err = Console(stderr=True)

RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", "-r", metavar="文件", help="中心自己的规则文件(YAML),叠加在默认规则库上;可多次给出。"),
]


class Failure(Exception):
    """Something the user can fix: printed as one line, exit status 2."""


def fail(message: str) -> NoReturn:
    raise Failure(message)


def _rulebook(paths: list[Path] | None) -> Rulebook:
    try:
        return load_rulebook(paths or [])
    except RulebookError as error:
        fail("规则库有误:\n" + str(error))


def example_paths() -> list[Path]:
    folder = resources.files("kefu") / "examples"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith((".json", ".jsonl", ".csv", ".txt")))


# ---------------------------------------------------------------- qa


@app.command(cls=Command)
def qa(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(metavar="路径", help="转写文件或文件夹;不给则质检随包附带的示例通话。", show_default=False),
    ] = None,
    rules: RulesOption = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", metavar="格式", help="输出格式:table | json | jsonl | csv | html")
    ] = "table",
    output: Annotated[Path | None, typer.Option("--out", "-o", metavar="文件", help="写入文件而不是标准输出。")] = None,
) -> None:
    """质检通话转写(JSON、JSON Lines、CSV、文本),输出评分卡。"""
    from kefu.inspection.engine import Inspector
    from kefu.inspection.parsers import TranscriptError, iter_paths, parse_file
    from kefu.inspection.report import OutputFormat, print_table, render, summary_line

    try:
        output_format = OutputFormat(fmt)
    except ValueError:
        fail(f"不支持的输出格式 --format {fmt}:可选 {'、'.join(f.value for f in OutputFormat)}")
    rulebook = _rulebook(rules)
    inspector = Inspector(rulebook)
    try:
        files = list(iter_paths(paths)) if paths else example_paths()
    except TranscriptError as error:
        fail(str(error))
    if not files:
        fail("没有找到转写文件(查找的是 *.json、*.jsonl、*.csv、*.txt)")

    transcripts, failures = [], []
    for path in files:
        for item in parse_file(path):
            if item.error is not None:
                failures.append(str(item.error))
                err.print(f"[red]错误:[/red]{escape(str(item.error))}", highlight=False, soft_wrap=True)
            elif item.transcript is not None:
                item.transcript.id = item.transcript.id or path.stem
                transcripts.append(item.transcript)

    items = []
    columns = (TextColumn("质检"), BarColumn(), MofNCompleteColumn(), TextColumn("通"), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=len(transcripts) < 2) as progress:
        for transcript in progress.track(transcripts):
            items.append((transcript, inspector.inspect(transcript)))

    if output_format is OutputFormat.TABLE and output is None:
        print_table([report for _, report in items], out)
        out.print(f"\n{summary_line([report for _, report in items])}")
    else:
        text = render(output_format, items, failures)
        if output is None:
            sys.stdout.write(text)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as error:
                fail(f"无法写入 {output}:{os_reason(error)}")
            err.print(f"{summary_line([r for _, r in items])};已写入 {output}")
    if failures:
        err.print(f"[red]{len(failures)} 个转写无法读取,见上方错误[/red]")
        raise typer.Exit(1)


# ---------------------------------------------------------------- rules


@rules_app.command("list", cls=Command)
def rules_list(rules: RulesOption = None) -> None:
    """列出所有质检规则。"""
    rulebook = _rulebook(rules)
    table = Table(title=f"{rulebook.name} {rulebook.version} · 合格线 {rulebook.pass_line:g}")
    for column in ("规则", "名称", "类别", "分值", "每次扣分", "来源"):
        table.add_column(column, overflow="fold")
    for rule in rulebook.rules:
        name = rule.name + (" [red](致命)[/red]" if rule.fatal else "") + ("" if rule.enabled else " [dim](停用)[/dim]")
        table.add_row(
            rule.id,
            name,
            rulebook.categories[rule.category].name,
            f"{rule.points:g}",
            f"{rule.deduction:g}",
            rule.source,
        )
    out.print(table)


@rules_app.command("show", cls=Command)
def rules_show(
    rule_id: Annotated[str, typer.Argument(metavar="规则", help="规则 id,如 forbidden_phrase")],
    rules: RulesOption = None,
) -> None:
    """显示一条规则的全部配置。"""
    import yaml

    rulebook = _rulebook(rules)
    try:
        rule = rulebook.rule(rule_id)
    except KeyError:
        fail(f"没有规则「{rule_id}」;运行 kefu rules list 可查看全部规则")
    data = rule.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    data = {"id": rule.id, **data}
    out.print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), highlight=False, markup=False)
    used = {name for name in yaml.safe_dump(data).split() if name in rulebook.phrase_sets}
    for name in sorted(used):
        phrase_set = rulebook.phrase_sets[name]
        title = f"{escape(phrase_set.label or '')}:{len(phrase_set.entries)} 条"
        out.print(f"\n[bold]{name}[/bold] {title}", highlight=False)
        for entry in phrase_set.entries:
            advice = f" → {entry.suggestion}" if entry.suggestion else ""
            out.print(f"  {entry.text}{advice}", highlight=False, markup=False)


@rules_app.command("validate", cls=Command)
def rules_validate(files: Annotated[list[Path], typer.Argument(metavar="文件", help="中心规则文件")]) -> None:
    """校验中心规则文件(叠加在默认规则库上后是否有效)。"""
    rulebook = _rulebook(files)
    out.print(f"有效:{'、'.join(map(str, files))} — {len(rulebook.rules)} 条规则,合格线 {rulebook.pass_line:g}")


@rules_app.command("scripts", cls=Command)
def rules_scripts(
    stage: Annotated[str | None, typer.Option(metavar="阶段", help="通话阶段 id,如 opening")] = None,
    search: Annotated[str | None, typer.Option("--search", "-s", metavar="文字", help="按场景或标题筛选")] = None,
    rules: RulesOption = None,
) -> None:
    """按通话阶段和场景浏览情景话术。"""
    rulebook = _rulebook(rules)
    stages = {s.id: s for s in rulebook.stages}
    if stage is not None and stage not in stages:
        fail(f"没有通话阶段「{stage}」;可选:{'、'.join(stages)}")
    shown = 0
    for script in rulebook.scripts:
        if stage and script.stage != stage:
            continue
        if search and search not in script.scenario + script.title:
            continue
        shown += 1
        where = f"{stages[script.stage].name} · {script.scenario} · {script.source}"
        out.print(f"\n[bold]{escape(script.title)}[/bold]  [dim]{escape(where)}[/dim]", highlight=False)
        for step in script.steps:
            out.print(f"  • {step}", highlight=False, markup=False)
        for avoid in script.avoid:
            out.print(f"  [red]✗ 不可说:{escape(avoid)}[/red]", highlight=False)
    if not shown:
        fail("没有符合条件的话术")


# ---------------------------------------------------------------- greet and check


def _parse_moment(value: str | None, zone: tzinfo) -> datetime:
    """Now, or the time given: one without a zone is on the centre's clock (``zone``)."""
    if value is None:
        return datetime.now(zone)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--at「{value}」不是日期和时间,应如 2026-01-01T08:30")
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


@app.command(cls=Command)
def greet(
    at: Annotated[
        str | None, typer.Option("--at", metavar="时刻", help="时刻,如 2026-02-17T08:30(中心时区);默认现在")
    ] = None,
    rules: RulesOption = None,
) -> None:
    """给出此刻应使用的开场白和结束语(分时段、节假日、农历春节),按中心时区(KEFU_TIMEZONE)。"""
    from kefu.rulebook.calendar import moment_greetings

    settings = _settings()
    rulebook = _rulebook(rules).on_clock(settings.tz)
    expected = moment_greetings(rulebook.greetings, _parse_moment(at, settings.tz))
    moment = expected.moment  # on the centre's clock
    out.print(
        f"时间:{moment:%Y-%m-%d %H:%M} 周{'一二三四五六日'[moment.weekday()]}({settings.timezone})"
        + (f" · {expected.holiday}" if expected.holiday else ""),
        highlight=False,
    )
    out.print(f"开场白:{expected.opening}", highlight=False, markup=False)
    out.print(f"结束语:{expected.closing}", highlight=False, markup=False)


@app.command(cls=Command)
def check(
    text: Annotated[str, typer.Argument(metavar="话术", help="一句客服话术")],
    rules: RulesOption = None,
) -> None:
    """检查一句话里的服务禁语与否定用语,给出推荐说法。"""
    from kefu.inspection.assist import SentenceChecker

    hits = SentenceChecker(_rulebook(rules)).check(text)
    if not hits:
        out.print("[green]未发现服务禁语或否定用语[/green]")
        return
    for hit in hits:
        advice = hit.suggestion or "请换用规范用语"
        source = f"  [dim]{escape(hit.source)}[/dim]" if hit.source else ""
        out.print(
            f"[red]{escape(hit.label)}[/red]「{escape(hit.evidence)}」 → 建议:{escape(advice)}{source}", highlight=False
        )
    raise typer.Exit(1)


# ---------------------------------------------------------------- performance


KPI_GROUPS = {"centre": "中心", "team": "班组", "agent": "工号"}


@app.command(cls=Command)
def kpi(
    files: Annotated[list[Path], typer.Argument(metavar="文件", help="话单(CDR):CSV 或 Excel,每行一通来电")],
    month: Annotated[
        str | None, typer.Option("--month", metavar="月份", help="只算这个月(如 2026-11,中心时区);默认全部")
    ] = None,
    by: Annotated[str, typer.Option("--by", metavar="维度", help="centre(中心)、team(班组)或 agent(工号)")] = "centre",
    within: Annotated[float, typer.Option("--within", metavar="秒", help="服务水平的接听时限")] = 20.0,
    abandon: Annotated[
        str, typer.Option("--abandon", metavar="口径", help="放弃来电:short_ignored、failures 或 ignored")
    ] = "short_ignored",
    short: Annotated[float, typer.Option("--short", metavar="秒", help="短时放弃:这么多秒内挂断不计")] = 5.0,
    fcr_days: Annotated[int, typer.Option("--fcr-days", metavar="天", help="一次解决率:几天内再来电算未解决")] = 7,
    output: Annotated[str, typer.Option("--format", metavar="格式", help="table 或 json")] = "table",
) -> None:
    """从话单计算服务水平、放弃率、平均应答、平均处理时长和一次解决率(不需要平台)。"""
    import json
    from dataclasses import asdict
    from datetime import date, timedelta

    from kefu.core.clock import on_centre_clock
    from kefu.core.errors import KefuError
    from kefu.dataio.cdr import read_cdr
    from kefu.performance import kpi as kpis

    if by not in KPI_GROUPS:
        fail(f"--by 应为 centre、team 或 agent,而不是「{by}」")
    if output not in ("table", "json"):
        fail(f"--format 应为 table 或 json,而不是「{output}」")
    try:
        policy = kpis.AbandonPolicy(kpis.AbandonMode(abandon), short)
    except ValueError:
        fail(f"--abandon 应为 short_ignored、failures 或 ignored,而不是「{abandon}」")
    calls: list[kpis.CallFact] = []
    for path in files:
        try:
            calls += read_cdr(path.read_bytes(), path.name)
        except OSError as error:
            fail(f"{path}:{os_reason(error)}")
        except KefuError as error:
            fail(f"{path}:{error}")
    later: list[kpis.CallFact] = []
    if month is not None:
        try:
            first = date.fromisoformat(f"{month}-01")
        except ValueError:
            fail(f"--month 应为 年-月,如 2026-11,而不是「{month}」")
        after = (first + timedelta(days=32)).replace(day=1)
        dated = [(on_centre_clock(c.ring_at).date(), c) for c in calls]
        later = [c for day, c in dated if after <= day < after + timedelta(days=fcr_days)]
        calls = [c for day, c in dated if first <= day < after]

    def key(call: kpis.CallFact) -> str:
        return "全中心" if by == "centre" else (getattr(call, by) or "(未填)")

    groups: dict[str, list[kpis.CallFact]] = {}
    for call in calls:
        groups.setdefault(key(call), []).append(call)
    rows = {
        name: kpis.figures(group, within=within, policy=policy, fcr_days=fcr_days, later=later)
        for name, group in sorted(groups.items())
    }
    if output == "json":

        def plain(figure: kpis.Figures) -> dict[str, Any]:
            return {
                name: {**asdict(value), "value": value.value} if isinstance(value, kpis.Ratio | kpis.Mean) else value
                for name, value in vars(figure).items()
            }

        out.print_json(json.dumps({name: plain(f) for name, f in rows.items()}, ensure_ascii=False))
        return
    table = Table(title=f"话单指标({KPI_GROUPS[by]})", title_justify="left")
    table.add_column(KPI_GROUPS[by])
    for header in ("来电", "接听", f"服务水平({within:g} 秒)", "放弃率", "平均应答", "平均处理", "一次解决率"):
        table.add_column(header, justify="right")

    def share(ratio: kpis.Ratio) -> str:
        return "—" if ratio.value is None else f"{ratio.value:.1%}({ratio.numerator}/{ratio.denominator})"

    def seconds(mean: kpis.Mean) -> str:
        return "—" if mean.value is None else f"{mean.value:.1f} 秒"

    for name, f in rows.items():
        table.add_row(
            name, str(f.offered), str(f.answered), share(f.service_level), share(f.abandonment),
            seconds(f.asa), seconds(f.handling), share(f.fcr),
        )  # fmt: skip
    out.print(table)
    target = f"服务水平目标 ≥ {kpis.SERVICE_LEVEL_TARGET:.0%}({within:g} 秒内接听)"
    out.print(f"{target};{policy.describe()}。", highlight=False)


# ---------------------------------------------------------------- serve and escalate


def _settings() -> Settings:
    """The platform's settings (KEFU_…); a bad value is the user's to fix, named in one message."""
    from kefu.core.settings import get_settings

    try:
        return get_settings()
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            name = "KEFU_" + "_".join(map(str, problem["loc"])).upper()
            message = validation.message(problem)
            problems.append(message if message.startswith(name) else f"{name}:{message}")
        fail("设置有误:" + ";".join(problems))


@app.command(cls=Command)
def serve(
    host: Annotated[str, typer.Option(metavar="地址", help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="端口", help="端口")] = 8000,
    demo: Annotated[bool, typer.Option("--demo/--no-demo", metavar="", help="空数据库首次启动时写入演示数据")] = True,
    workers: Annotated[
        int, typer.Option(min=1, max=64, metavar="个数", help="工作进程数;多于 1 个需要 PostgreSQL")
    ] = 1,
) -> None:
    """启动平台:创建或迁移数据库,首次启动写入演示数据,打印地址和演示账号。"""
    from kefu.core.db import transaction
    from kefu.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
    from kefu.quality.sampling import ensure_default_plan
    from kefu.web import serving
    from kefu.web.app import create_app

    settings = _settings()
    refused = serving.workers_refused(settings, workers)
    if refused:
        fail(refused)
    settings.ensure_data_dir()
    try:
        application = create_app(settings)
    except RulebookError as error:
        fail("规则库有误:\n" + str(error))
    except Exception as error:  # the database is the usual suspect: say which one
        fail(f"无法打开数据库 {settings.database}:{error}")
    seeded = demo and seed_demo(application.state.sessions, centre=True)
    out.print(f"kefu 客服 正在运行:[bold]http://{host}:{port}/[/bold]  (API 文档 /api/docs)", highlight=False)
    out.print(f"数据库:{settings.database}", highlight=False, markup=False)
    if seeded:
        out.print(f"已写入演示数据。演示账号(初始密码均为 {DEMO_PASSWORD},首次登录须修改密码):", highlight=False)
        for agent_no, name, role, _ in DEMO_USERS:
            out.print(f"  {agent_no}  {name}  {role.label}", highlight=False)
    interval = settings.escalation_interval
    escalation = f"每 {interval:g} 秒一次" if interval else "已关闭(KEFU_ESCALATION_INTERVAL=0)"
    out.print(f"超时工单自动升级:{escalation}", highlight=False, markup=False)
    if workers > 1:
        # Done once here, not raced by the workers: they start on a migrated, seeded database.
        with transaction(application.state.sessions) as session:
            ensure_default_plan(session)
        application.state.engine.dispose()
        out.print(f"工作进程:{workers} 个,每个最多同时处理 {settings.max_concurrent_requests} 个请求", highlight=False)
        serving.run(None, settings, host=host, port=port, workers=workers)
    else:
        serving.run(application, settings, host=host, port=port)


@app.command(cls=Command)
def escalate() -> None:
    """升级所有超过 SLA 时限的工单(每个时限只升级一次),打印升级了多少张;可由 cron 定时运行。"""
    from kefu.core.db import make_engine, migrate, session_factory
    from kefu.workorders.escalation import run_escalation_round

    settings = _settings()
    try:
        if settings.database_url is None:
            settings.ensure_data_dir()
        migrate(settings.database)
        engine = make_engine(settings.database)
    except Exception as error:
        fail(f"无法打开数据库 {settings.database}:{error}")
    try:
        count = run_escalation_round(session_factory(engine))
    finally:
        engine.dispose()
    out.print(f"已升级 {count} 张超时工单", highlight=False)


def _parameter(param: Any) -> str:
    if param is None:
        return "参数"
    if param.param_type_name == "option":
        return f"选项 {max(param.opts, key=len)}"
    return f"参数 {param.metavar or param.name}"


# Click's own refusals that carry no more than their English message.
_USAGE_MESSAGES = (
    (re.compile(r"No such command '(.*)'\.?(?: Did you mean (.*)\?)?"), "没有命令「{0}」"),
    (re.compile(r"Missing command\."), "缺少命令"),
    (re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)"), "多余的参数:{0}"),
    (re.compile(r"Option '(.*)' requires (?:an argument|\d+ arguments)\."), "选项 {0} 后面需要一个值"),
    (re.compile(r"Option '(.*)' does not take a value\."), "选项 {0} 不需要值"),
)


def usage_problem(problem: refusals.ClickException) -> str:
    """A refusal of the command line (an unknown option, a missing argument, a bad value) in Chinese."""
    if isinstance(problem, refusals.NoSuchOption):
        hint = f"(您是不是想用 {'、'.join(sorted(problem.possibilities))}?)" if problem.possibilities else ""
        return f"没有选项 {problem.option_name}{hint}"
    if isinstance(problem, refusals.MissingParameter):
        return f"缺少{_parameter(problem.param)}"
    if isinstance(problem, refusals.BadParameter):
        cause = problem.__cause__
        reason = validation.message(cause.errors()[0]) if isinstance(cause, ValidationError) else problem.message
        return f"{_parameter(problem.param)} 的值不对:{reason}"
    text = problem.format_message()
    for pattern, template in _USAGE_MESSAGES:
        found = pattern.fullmatch(text)
        if found:
            message = template.format(*found.groups())
            suggested = found.group(2).replace("'", "") if found.lastindex == 2 else None
            return message + (f"(您是不是想用 {suggested}?)" if suggested else "")
    return text


def _say(message: str) -> None:
    err.print(message, highlight=False, soft_wrap=True, markup=False)


def main() -> None:
    try:
        code: Any = app(standalone_mode=False)
    except Failure as failure:
        _say(f"kefu:错误:{failure}")
        sys.exit(2)
    except refusals.NoArgsIsHelpError as shown:  # `kefu` or `kefu rules` alone: the help (printed already)
        sys.exit(shown.exit_code)
    except refusals.UsageError as problem:
        _say(f"kefu:错误:{usage_problem(problem)}")
        if problem.ctx is not None:
            _say(f"运行 {problem.ctx.command_path} --help 查看用法。")
        sys.exit(problem.exit_code)
    except typer.TyperException as problem:
        _say(f"kefu:错误:{problem.format_message()}")
        sys.exit(problem.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _say("已中止。")
        sys.exit(130)
    except Exception as error:  # a bug: still one line for the user, the trace on request
        if os.environ.get("KEFU_DEBUG"):
            raise
        _say(f"kefu:内部错误:{type(error).__name__}: {error}(设置 KEFU_DEBUG=1 可查看详情)")
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)
