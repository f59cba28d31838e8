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
KPI_FORMATS = ("table", "json", "xlsx")
KPI_STATUS = "由 kefu kpi 从导出文件计算"

if TYPE_CHECKING:
    from kefu.dataio.performance import RecordFile
    from kefu.performance.awards import Candidate
    from kefu.performance.kpi import CallFact, Mean, Ratio
    from kefu.performance.records import Records
    from kefu.performance.schemas import EvaluationRow, PartOut
    from kefu.performance.summary import By
    from kefu.performance.summary import Settings as KpiSettings


@app.command(cls=Command)
def kpi(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="文件",
            help="导出的记录,CSV 或 Excel,按表头识别:话单(CDR)、质检得分、满意度、销售、业务差错、出勤、人员名单",
        ),
    ],
    month: Annotated[
        str | None,
        typer.Option("--month", metavar="月份", help="只算这个月(如 2026-11,中心时区);有话单以外的记录时必填"),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="维度",
            help="centre(中心)、team(班组)或 agent(工号)。只有话单时默认 centre;月度考核时给出则改为列出各项指标",
        ),
    ] = None,
    within: Annotated[
        float | None,
        typer.Option(
            "--within", metavar="秒", min=0.1, max=600, help="服务水平的接听时限(默认 KEFU_SERVICE_LEVEL_SECONDS,20)"
        ),
    ] = None,
    abandon: Annotated[
        str | None,
        typer.Option(
            "--abandon", metavar="口径", help="放弃来电:short_ignored、failures 或 ignored(默认 KEFU_ABANDON_POLICY)"
        ),
    ] = None,
    short: Annotated[
        float | None,
        typer.Option(
            "--short",
            metavar="秒",
            min=0,
            max=120,
            help="短时放弃:这么多秒内挂断不计(默认 KEFU_SHORT_ABANDON_SECONDS,5)",
        ),
    ] = None,
    fcr_days: Annotated[
        int | None,
        typer.Option(
            "--fcr-days", metavar="天", min=1, max=90, help="一次解决率:几天内再来电算未解决(默认 KEFU_FCR_DAYS,7)"
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", metavar="格式", help="table、json 或 xlsx(xlsx 只用于月度考核,需 --output)")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", metavar="文件", help="写入这个文件(json 或 xlsx),而不是屏幕")
    ] = None,
) -> None:
    """从导出文件计算话务指标与月度考核(不需要平台,与平台同一套算法)。

    只有话单时:服务水平、放弃率、平均应答、平均处理时长和一次解决率,按 --by 分组。

    有话单以外的记录(质检得分、满意度、销售、业务差错、出勤、人员名单,或带“质检得分”列的话单)时须给出 --month,
    输出每位话务员的月度考核:通话质量 30%、客户满意度 25%、工作效率 20%、业务准确率 15%、销售业绩 10%
    的得分(括号内为实际值)、总分、等级,以及月度之星候选;再给 --by 则改为列出该维度的各项指标,不评分。
    月份之外的记录不计入(按中心日历),月后 --fcr-days 天内的来电只用来判断一次解决。

    例:kefu kpi 话单.csv 质检.xlsx 满意度.csv 销售.csv 差错.csv 出勤.xlsx 人员.csv --month 2026-11

    例(写给人事的 Excel):kefu kpi 导出/*.csv --month 2026-11 --format xlsx --output 2026-11绩效.xlsx
    """
    from kefu.dataio.performance import combined
    from kefu.performance import kpi as kpis
    from kefu.performance.service import kpi_settings
    from kefu.performance.summary import By
    from kefu.performance.summary import Settings as KpiSettings

    _check_kpi_options(month, by, output_format, output)
    centre = kpi_settings()  # the centre's KEFU_* settings, unless an option says otherwise
    within = centre.within if within is None else within
    fcr_days = centre.fcr_days if fcr_days is None else fcr_days
    try:
        mode = centre.policy.mode if abandon is None else kpis.AbandonMode(abandon)
    except ValueError:
        fail(f"--abandon 应为 short_ignored、failures 或 ignored,而不是「{abandon}」")
    policy = kpis.AbandonPolicy(mode, centre.policy.short_seconds if short is None else short)
    read = _kpi_files(files)
    evaluated = any(file.beyond_calls for file in read)
    if evaluated and month is None:
        fail("质检、满意度等考核记录按月计算,请用 --month 指定月份,如 --month 2026-11")
    if output_format == "xlsx" and not (evaluated and by is None):
        fail("--format xlsx 输出月度考核表:需要话单以外的考核记录和 --month,且不与 --by 同用")
    records = combined(read)
    repeated = sum(len(f.records.calls) for f in read) - len(records.calls)
    if repeated:
        _note(f"有 {repeated} 通电话的通话编号重复出现(同一通话导出了两次),只计一次")
    if month is not None:
        records = _within(records, month, fcr_days)
    settings = KpiSettings(within=within, policy=policy, fcr_days=fcr_days)
    if not evaluated:
        _call_kpis(records.calls, records.later, by or "centre", settings, output_format, output)
    elif by is not None:
        _kpi_summary(records, By(by), settings, output_format, output)
    else:
        if not any(file.kind.key == "errors" for file in read):
            _note("没有业务差错文件:业务准确率按没有差错计算")
        _month_evaluation(records, month or "", settings, [f.source for f in read], output_format, output)


def _check_kpi_options(month: str | None, by: str | None, output_format: str, output: Path | None) -> None:
    from kefu.core.errors import KefuError
    from kefu.dataio.performance import month_days

    if by is not None and by not in KPI_GROUPS:
        fail(f"--by 应为 centre、team 或 agent,而不是「{by}」")
    if output_format not in KPI_FORMATS:
        fail(f"--format 应为 table、json 或 xlsx,而不是「{output_format}」")
    if output_format == "table" and output is not None:
        fail("--output 只用于 --format json 或 xlsx")
    if output_format == "xlsx" and output is None:
        fail("--format xlsx 需要用 --output 指定写入的文件")
    if month is not None:
        try:
            month_days(month)
        except KefuError:
            fail(f"--month 应为 年-月,如 2026-11,而不是「{month}」")


def _kpi_files(files: list[Path]) -> list[RecordFile]:
    """Every file read and recognised, each said on stderr; every problem of every file at once."""
    from kefu.core.errors import KefuError
    from kefu.dataio.performance import read_record_files

    contents: list[tuple[bytes, str]] = []
    for path in files:
        try:
            contents.append((path.read_bytes(), path.name))
        except OSError as error:
            fail(f"{path}:{os_reason(error)}")
    try:
        read = read_record_files(contents)
    except KefuError as error:
        fail(str(error))
    for file in read:
        _note(file.describe())
    return read


def _within(records: Records, month: str, fcr_days: int) -> Records:
    """The month's records (the centre's calendar), saying how many were left out."""
    from kefu.dataio.performance import record_count, within_month

    inside = within_month(records, month, fcr_days)
    left_out = record_count(records) - record_count(inside)
    if left_out:
        _note(f"不在 {month} 的记录 {left_out} 条,未计入")
    return inside


def _note(message: str) -> None:
    """What the command read or left out, on stderr: json on stdout stays clean."""
    err.print(message, highlight=False, soft_wrap=True, markup=False)


def _share(ratio: Ratio) -> str:
    return "—" if ratio.value is None else f"{ratio.value:.1%}({ratio.numerator}/{ratio.denominator})"


def _mean(mean: Mean, unit: str = " 秒") -> str:
    return "—" if mean.value is None else f"{mean.value:.1f}{unit}"


def _emit(data: Any, output: Path | None) -> None:
    """JSON on stdout, or into ``output``."""
    import json

    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        out.print_json(text)
    else:
        _write(output, (text + "\n").encode("utf-8"))


def _write(output: Path, data: bytes) -> None:
    try:
        output.write_bytes(data)
    except OSError as error:
        fail(f"无法写入 {output}:{os_reason(error)}")
    _note(f"已写入 {output}")


def _call_kpis(
    calls: list[CallFact],
    later: list[CallFact],
    by: str,
    settings: KpiSettings,
    output_format: str,
    output: Path | None,
) -> None:
    """The call KPIs of a switch's export, per centre, team or agent."""
    from dataclasses import asdict

    from kefu.performance import kpi as kpis

    def key(call: CallFact) -> str:
        return "全中心" if by == "centre" else (getattr(call, by) or "(未填)")

    # A repeat counts whoever took it (kefu.performance.kpi): resolved over all calls, then grouped.
    resolved = kpis.contacts_resolved(calls, settings.fcr_days, later)
    groups: dict[str, list[int]] = {}
    for index, call in enumerate(calls):
        groups.setdefault(key(call), []).append(index)
    rows = {
        name: kpis.figures(
            [calls[i] for i in indexes],
            within=settings.within,
            policy=settings.policy,
            resolved=[resolved[i] for i in indexes],
        )
        for name, indexes in sorted(groups.items())
    }
    if output_format == "json":

        def plain(figure: kpis.Figures) -> dict[str, Any]:
            return {
                name: {**asdict(value), "value": value.value} if isinstance(value, kpis.Ratio | kpis.Mean) else value
                for name, value in vars(figure).items()
            }

        _emit({name: plain(f) for name, f in rows.items()}, output)
        return
    table = Table(title=f"话单指标({KPI_GROUPS[by]})", title_justify="left")
    table.add_column(KPI_GROUPS[by])
    for header in ("来电", "接听", f"服务水平({settings.within:g} 秒)", "放弃率", "平均应答", "平均处理", "一次解决率"):
        table.add_column(header, justify="right")
    for name, f in rows.items():
        table.add_row(
            escape(name), str(f.offered), str(f.answered), _share(f.service_level), _share(f.abandonment),
            _mean(f.asa), _mean(f.handling), _share(f.fcr),
        )  # fmt: skip
    out.print(table)
    target = f"服务水平目标 ≥ {kpis.SERVICE_LEVEL_TARGET:.0%}({settings.within:g} 秒内接听)"
    out.print(f"{target};{settings.policy.describe()}。", highlight=False)


def _kpi_summary(records: Records, by: By, settings: KpiSettings, output_format: str, output: Path | None) -> None:
    """Every KPI of the month per centre, team or agent (``summarise``), without the grading."""
    from kefu.performance.schemas import KpiOut
    from kefu.performance.summary import By, summarise

    found = summarise(records, by, settings)
    if output_format == "json":
        _emit({k.key: KpiOut.of(k).model_dump(mode="json") for k in found}, output)
        return
    table = Table(title=f"各项指标({by.label})", title_justify="left")
    table.add_column(by.label)
    if by is By.AGENT:
        table.add_column("姓名")
        table.add_column("班组")
    headers = ("来电", "接听", f"服务水平({settings.within:g} 秒)", "放弃率", "平均应答", "平均处理", "一次解决率")
    for header in (*headers, "质检均分", "满意度", "推荐成功率", "业务准确率", "出勤率"):
        table.add_column(header, justify="right")
    for k in found:
        c = k.calls
        who = [escape(k.key), *([escape(k.name or ""), escape(k.team or "")] if by is By.AGENT else [])]
        table.add_row(
            *who, str(c.offered), str(c.answered), _share(c.service_level), _share(c.abandonment), _mean(c.asa),
            _mean(c.handling), _share(c.fcr), _mean(k.quality, " 分"), _share(k.csat), _share(k.conversion),
            _share(k.accuracy), _share(k.attendance),
        )  # fmt: skip
    out.print(table)
    out.print(f"服务水平:{settings.within:g} 秒内接听;{settings.policy.describe()}。", highlight=False)


def _month_evaluation(
    records: Records,
    month: str,
    settings: KpiSettings,
    sources: list[str],
    output_format: str,
    output: Path | None,
) -> None:
    """Each agent's month as the platform evaluates it (``evaluate_month``), with the stars."""
    from kefu.performance import awards
    from kefu.performance.evaluation import current_policy
    from kefu.performance.export import month_workbook
    from kefu.performance.schemas import EvaluationRow, PolicyOut
    from kefu.performance.service import basis_of, entries
    from kefu.performance.summary import evaluate_month

    rows = [
        EvaluationRow.of(result, agent_id=None, name=result.kpis.name, team=result.kpis.team)
        for result in evaluate_month(records, settings)
    ]
    if output_format == "json":
        _emit([row.model_dump(mode="json") for row in rows], output)
        return
    if output_format == "xlsx":
        basis = basis_of(settings) | {"数据来源": "、".join(sources)}
        assert output is not None  # xlsx without --output is refused with the options
        policy = PolicyOut.of(current_policy())
        _write(output, month_workbook(month, rows, status=KPI_STATUS, basis=basis, policy=policy))
        return
    out.print(_evaluation_table(month, rows))
    _missing_dimensions(rows)
    _stars(awards.star_candidates(entries(rows))[:5])


def _evaluation_table(month: str, rows: list[EvaluationRow]) -> Table:
    from kefu.performance.evaluation import current_policy

    policy = current_policy()
    grades = "、".join(f"{g} {label} ≥ {low:g}" for g, label, low in policy.grades[:-1])
    table = Table(title=f"{month} 月度考核(括号内为实际值;等级:{grades})", title_justify="left")
    for header in ("工号", "姓名", "班组"):
        table.add_column(header)
    table.add_column("接听", justify="right")
    for dimension in policy.dimensions:
        table.add_column(f"{dimension.label} {dimension.weight:.0%}", justify="right")
    table.add_column("总分", justify="right")
    table.add_column("等级")
    for row in rows:
        parts = {p.key: p for p in row.parts}
        table.add_row(
            escape(row.agent_no),
            escape(row.kpis.name or ""),
            escape(row.team or ""),
            str(row.calls),
            *(_part(parts.get(d.key), d.key) for d in policy.dimensions),
            "—" if row.total is None else f"{row.total:.2f}",
            f"{row.grade} {row.grade_label}" if row.grade else "—",
        )
    return table


def _part(part: PartOut | None, key: str) -> str:
    from kefu.performance.export import RAW_FORMAT

    return "—" if part is None else f"{part.score:g}({RAW_FORMAT[key].format(part.raw)})"


def _missing_dimensions(rows: list[EvaluationRow]) -> None:
    """The dimensions left out of totals for want of data, with whose."""
    agents: dict[tuple[str, ...], list[str]] = {}
    for row in rows:
        if row.missing:
            agents.setdefault(tuple(row.missing), []).append(row.agent_no)
    for missing, whose in agents.items():
        who = "全部话务员" if len(whose) == len(rows) else "、".join(whose)
        line = f"没有数据、不计入总分(其余维度按权重放大):{'、'.join(missing)} — {who}"
        out.print(line, highlight=False, markup=False)


def _stars(stars: list[Candidate]) -> None:
    from kefu.performance import awards

    if not stars:
        out.print(f"月度之星候选:无(接听至少 {awards.MIN_CALLS} 通才参评)", highlight=False)
        return
    rule = f"接听至少 {awards.MIN_CALLS} 通;按接听量向班组平均收缩后的总分排序,先验 {awards.PRIOR_CALLS} 通"
    out.print(f"月度之星候选({rule}):", highlight=False)
    for rank, star in enumerate(stars, start=1):
        who = star.agent + (f" {star.name}" if star.name and star.name != star.agent else "")
        team = f"({star.team})" if star.team else ""
        line = f"  {rank}. {who}{team} 总分 {star.total:g},收缩后 {star.adjusted:g},接听 {star.calls} 通"
        out.print(line, highlight=False, markup=False)


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
def forecast(
    files: Annotated[list[Path], typer.Argument(metavar="话单", help="历史话单(CDR):CSV 或 Excel,每行一通来电")],
    interval: Annotated[int, typer.Option("--interval", metavar="分钟", help="时段长度:15、30 或 60")] = 30,
    days: Annotated[int, typer.Option("--days", metavar="天", min=1, max=62, help="预测历史之后的多少天")] = 7,
    weeks: Annotated[int, typer.Option("--weeks", metavar="周", min=0, max=12, help="回测最近几周")] = 2,
    output_format: Annotated[str, typer.Option("--format", metavar="格式", help="table、json 或 csv")] = "csv",
) -> None:
    """按时段预测来电量与平均处理时长(Holt-Winters 日总量 × 同类日的日内分布,节假日单独处理),
    并回测:模型与“上周同时段”基线在最近几周上的误差(WAPE)并列给出。csv 输出可直接交给 kefu staffing。

    例:kefu forecast 十月话单.csv 十一月话单.csv --interval 30 --days 7 > 预测.csv
    """
    import json

    from kefu.core.errors import KefuError
    from kefu.dataio.cdr import read_cdr
    from kefu.workforce.forecast import forecast as predict
    from kefu.workforce.forecast import history

    if output_format not in STAFFING_FORMATS:
        fail(f"--format 应为 table、json 或 csv,而不是「{output_format}」")
    calls = []
    for path in files:
        try:
            calls += read_cdr(path.read_bytes(), path.name)
        except OSError as error:
            fail(f"{path}:{os_reason(error)}")
        except KefuError as error:
            fail(f"{path}:{error}")
    try:
        past = history([c.ring_at for c in calls], [c.handling_seconds for c in calls], interval)
        ahead = predict(past, days, weeks)
    except ValueError as error:
        fail(str(error))

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    _note(
        f"回测(最近 {ahead.backtest_weeks} 周,WAPE 越小越好):模型 {share(ahead.model_wape)},"
        f"基线“上周同时段” {share(ahead.baseline_wape)}"
    )
    rows = [
        {
            "interval": f"{when:%Y-%m-%d %H:%M}",
            "calls": round(float(calls_), 1),
            "aht": round(float(ahead.aht[when]), 1),
        }
        for when, calls_ in ahead.calls.items()
    ]
    if output_format == "json":
        backtest = {"weeks": ahead.backtest_weeks, "model_wape": ahead.model_wape, "baseline_wape": ahead.baseline_wape}
        out.print_json(json.dumps({"backtest": backtest, "intervals": rows}, ensure_ascii=False))
        return
    if output_format == "csv":
        lines = ["时段,来电量,平均处理时长", *(f"{r['interval']},{r['calls']:g},{r['aht']:g}" for r in rows)]
        out.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=f"来电预测(每 {interval} 分钟)", title_justify="left")
    for header in ("时段", "来电量", "平均处理时长(秒)"):
        table.add_column(header, justify="left" if header == "时段" else "right")
    for r in rows:
        table.add_row(r["interval"], f"{r['calls']:g}", f"{r['aht']:g}")
    out.print(table)


STAFFING_FORMATS = ("table", "json", "csv")
STAFFING_HEADERS = {
    "interval": "时段", "calls": "来电量", "erlangs": "话务量(爱尔兰)", "agents": "在线坐席", "rostered": "排班人数",
    "service_level": "服务水平", "asa": "平均应答(秒)", "occupancy": "占用率", "waiting": "等待概率",
    "abandoned": "放弃率",
}  # fmt: skip


@app.command(cls=Command)
def staffing(
    forecast: Annotated[
        Path | None,
        typer.Argument(metavar="预测文件", help="CSV 或 Excel:时段、来电量,可选 平均处理时长、平均耐心(秒)"),
    ] = None,
    calls: Annotated[float | None, typer.Option("--calls", metavar="通数", min=0, help="一个时段的来电量")] = None,
    interval: Annotated[float, typer.Option("--interval", metavar="分钟", min=1, max=1440, help="时段长度")] = 30,
    aht: Annotated[float, typer.Option("--aht", metavar="秒", min=1, max=86_400, help="平均处理时长")] = 180,
    target: Annotated[float, typer.Option("--target", metavar="比例", min=0.01, max=0.99, help="服务水平目标")] = 0.85,
    within: Annotated[float, typer.Option("--within", metavar="秒", min=0, max=3600, help="接听时限")] = 20,
    patience: Annotated[
        float | None, typer.Option("--patience", metavar="秒", min=1, help="客户平均耐心:给出则按 Erlang A 计算放弃")
    ] = None,
    shrinkage: Annotated[
        float,
        typer.Option("--shrinkage", metavar="比例", min=0, max=0.95, help="缺勤与非话务时间占比(休息、培训、请假)"),
    ] = 0.0,
    output_format: Annotated[str, typer.Option("--format", metavar="格式", help="table、json 或 csv")] = "table",
) -> None:
    """每个时段需要多少坐席(Erlang C;给出 --patience 时用 Erlang A,计入放弃)。

    例:kefu staffing --calls 100 --interval 30 --aht 180 --target 0.85 --within 20

    例:kefu staffing 预测.csv --patience 300 --shrinkage 0.3 --format csv
    """
    import csv
    import io
    import json

    from kefu.core.errors import KefuError
    from kefu.dataio.forecast import read_forecast
    from kefu.workforce.erlang import Load, on_roster, required

    if output_format not in STAFFING_FORMATS:
        fail(f"--format 应为 table、json 或 csv,而不是「{output_format}」")
    if (forecast is None) == (calls is None):
        fail("请给出预测文件,或用 --calls 给出一个时段的来电量(二者选一)")
    if forecast is not None:
        try:
            rows = read_forecast(forecast.read_bytes(), forecast.name)
        except OSError as error:
            fail(f"{forecast}:{os_reason(error)}")
        except KefuError as error:
            fail(f"{forecast}:{error}")
        wanted = [(r.label, Load(r.calls, interval * 60, r.aht or aht, r.patience or patience)) for r in rows]
    else:
        wanted = [(f"{interval:g} 分钟", Load(calls or 0.0, interval * 60, aht, patience))]
    results = []
    for label, load in wanted:
        try:
            found = required(load, target, within)
        except ValueError as error:
            fail(f"{label}:{error}")
        results.append(
            {
                "interval": label, "calls": load.calls, "erlangs": round(load.erlangs, 3), "agents": found.agents,
                "rostered": on_roster(found.agents, shrinkage), "service_level": round(found.service_level, 4),
                "asa": round(found.asa, 2), "occupancy": round(found.occupancy, 4), "waiting": round(found.waiting, 4),
                "abandoned": round(found.abandoned, 4),
            }
        )  # fmt: skip
    if output_format == "json":
        out.print_json(json.dumps(results, ensure_ascii=False))
        return
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(STAFFING_HEADERS), lineterminator="\n")
        writer.writerow(STAFFING_HEADERS)
        writer.writerows(results)
        out.print(buffer.getvalue(), end="", markup=False, highlight=False, soft_wrap=True)
        return
    model = f"Erlang A(平均耐心 {patience:g} 秒)" if patience else "Erlang C"
    table = Table(title=f"所需坐席:{model},{target:.0%} 在 {within:g} 秒内接听", title_justify="left")
    for key, header in STAFFING_HEADERS.items():
        table.add_column(header, justify="left" if key == "interval" else "right")
    for r in results:
        table.add_row(
            escape(str(r["interval"])), f"{r['calls']:g}", f"{r['erlangs']:.2f}", str(r["agents"]), str(r["rostered"]),
            f"{r['service_level']:.1%}", f"{r['asa']:.1f}", f"{r['occupancy']:.1%}", f"{r['waiting']:.1%}",
            f"{r['abandoned']:.1%}",
        )  # fmt: skip
    out.print(table)
    if shrinkage:
        out.print(f"排班人数 = 在线坐席 ÷ (1 − {shrinkage:.0%}),向上取整。", highlight=False)


@app.command(cls=Command)
def roster(
    requirement: Annotated[
        Path, typer.Argument(metavar="需求文件", help="每半小时需要的人数:kefu staffing 的 CSV(时段、排班人数)")
    ],
    agents: Annotated[
        Path, typer.Argument(metavar="人员文件", help="工号、姓名,可选 请假日期(如 2026-12-08;2026-12-09)")
    ],
    start: Annotated[str, typer.Option("--start", metavar="日期", help="排班周的第一天,如 2026-12-07")],
    seconds: Annotated[
        float,
        typer.Option(
            "--seconds",
            metavar="秒",
            min=1,
            max=600,
            help="求解时限(求解器的确定性时间,约等于秒;到时给出已找到的最好排班)",
        ),
    ] = 12,
    output_format: Annotated[str, typer.Option("--format", metavar="格式", help="table 或 json")] = "table",
) -> None:
    """排一周的班(OR-Tools CP-SAT):早班 08–16、中班 12–20、晚班 16–24、夜间服务 23:30–07:30;
    每人五天、两天休息,两班之间至少休息 11 小时,请假日不排,夜班与周末班尽量均分。
    覆盖不了的时段逐一列出缺口,不会只说“无解”。

    例:kefu staffing 预测.csv --shrinkage 0.3 --format csv > 需求.csv; kefu roster 需求.csv 人员.csv --start 2026-12-07
    """
    import json
    from datetime import date, timedelta

    from kefu.core.errors import KefuError
    from kefu.dataio.forecast import read_agents, read_requirement
    from kefu.workforce.roster import DAYS, SHIFTS, SLOTS, Agent, Rules, solve

    if output_format not in ("table", "json"):
        fail(f"--format 应为 table 或 json,而不是「{output_format}」")
    try:
        first = date.fromisoformat(start)
    except ValueError:
        fail(f"--start 应为 年-月-日,如 2026-12-07,而不是「{start}」")
    try:
        needed = read_requirement(requirement.read_bytes(), requirement.name)
        people = read_agents(agents.read_bytes(), agents.name)
    except OSError as error:
        fail(f"{error.filename}:{os_reason(error)}")
    except KefuError as error:
        fail(str(error))
    grid = [[0] * SLOTS for _ in range(DAYS)]
    for when, count in needed.items():
        day = (when.date() - first).days
        if 0 <= day < DAYS:
            slot = when.hour * 2 + when.minute // 30
            grid[day][slot] = max(grid[day][slot], count)
    if not any(any(day) for day in grid):
        fail(f"需求文件里没有 {first} 起一周的时段")
    team = [
        Agent(no, name, frozenset((d - first).days for d in leave if 0 <= (d - first).days < DAYS), before)
        for no, name, leave, before in people
    ]
    try:
        result = solve(grid, team, rules=Rules(seconds=seconds))
    except ValueError as error:
        fail(str(error))
    labels = {shift.code: shift.label for shift in SHIFTS}
    days = [first + timedelta(days=d) for d in range(DAYS)]

    def clock(slot: int) -> str:
        return f"{slot // 2:02d}:{30 * (slot % 2):02d}"

    short = [{"date": str(days[d]), "time": clock(slot), "missing": missing} for d, slot, missing in result.shortfall]
    if output_format == "json":
        data = {
            "status": result.status,
            "shifts": {
                no: [labels.get(code, "休") if code else "休" for code in plan] for no, plan in result.shifts.items()
            },
            "shortfall": short,
            "uncovered_by_any_shift": [clock(s) for s in result.gaps],
        }
        out.print_json(json.dumps(data, ensure_ascii=False))
        return
    table = Table(title=f"{first} 起一周排班({'最优' if result.optimal else '时限内最好的'}解)", title_justify="left")
    table.add_column("工号")
    table.add_column("姓名")
    for day in days:
        table.add_column(f"{day:%m-%d}\n{'一二三四五六日'[day.weekday()]}", justify="center")
    names = {a.agent_no: a.name for a in team}
    for no, plan in result.shifts.items():
        table.add_row(escape(no), escape(names[no]), *[labels.get(code, "") if code else "休" for code in plan])
    out.print(table)
    for slot in result.gaps:
        out.print(f"注意:{clock(slot)}–{clock(slot + 1)} 不在任何班次内,无人值守。", highlight=False)
    if short:
        total = sum(s["missing"] for s in short)
        out.print(f"有 {len(short)} 个半小时人手不足(共缺 {total} 人次),例如:", highlight=False)
        for s in short[:10]:
            out.print(f"  {s['date']} {s['time']} 缺 {s['missing']} 人", highlight=False)
    else:
        out.print("需求全部覆盖。", highlight=False)


exam_app = typer.Typer(cls=Group, help="培训考核:成绩分析。", no_args_is_help=True)
app.add_typer(exam_app, name="exam")


@exam_app.command("analyse", cls=Command)
def exam_analyse(
    results: Annotated[Path, typer.Argument(metavar="成绩文件", help="CSV 或 Excel:考生、题号、得分、满分,每行一题")],
    output_format: Annotated[str, typer.Option("--format", metavar="格式", help="table 或 json")] = "table",
) -> None:
    """试题分析(Moodle 测验统计的定义):难度指数 = 平均得分 ÷ 满分;区分度 = 该题得分与其余题目总分的
    相关系数。低于 0.2 的区分度、过难或过易的题目给出建议,便于培训师淘汰不好的题目。

    例:kefu exam analyse 成绩.csv(平台「试题分析」页可导出该文件)
    """
    import json

    from kefu.core.errors import KefuError
    from kefu.dataio.questions import read_results
    from kefu.training.analysis import analyse

    if output_format not in ("table", "json"):
        fail(f"--format 应为 table 或 json,而不是「{output_format}」")
    try:
        items = analyse(read_results(results.read_bytes(), results.name))
    except OSError as error:
        fail(f"{results}:{os_reason(error)}")
    except KefuError as error:
        fail(str(error))
    if output_format == "json":
        rows = [
            {"question": i.question, "attempts": i.attempts, "facility": i.facility,
             "discrimination": i.discrimination, "advice": i.advice}
            for i in items
        ]  # fmt: skip
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(title=f"试题分析({len(items)} 题)", title_justify="left")
    for header in ("题号", "作答人次", "难度指数", "区分度", "建议"):
        table.add_column(header, justify="right" if header in ("作答人次", "难度指数", "区分度") else "left")
    for i in items:
        table.add_row(
            escape(i.question), str(i.attempts), "—" if i.facility is None else f"{i.facility:.0%}",
            "—" if i.discrimination is None else f"{i.discrimination:.2f}", i.advice or "",
        )  # fmt: skip
    out.print(table)


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
    from kefu.flows.demo_centre import CENTRE_ACCOUNTS
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
        out.print(f"  另有演示中心的 {CENTRE_ACCOUNTS}(六周话务、满意度、销售、质检抽检,见「绩效」)", highlight=False)
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
