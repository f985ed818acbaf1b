"""The ``sheets-connector`` command: thin wrappers over the library.

Every user error is one clear message and an exit code (2 for a config/usage problem, 1 when a
run could not complete); never a traceback unless ``--debug`` is given.
"""
from __future__ import annotations

import functools
import logging
import os
import shlex
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as ProgressBar
from rich.table import Table as RichTable

from . import __version__, messages
from .cancel import CancelToken
from .config import Config, json_schema, load_config
from .console import echo_json, locale_hint, make_console, protect_std_streams
from .errors import ConnectorError, InwiseUnavailable, SourceError
from .messages.catalog import Place, Said, error_words, in_language, place_text, said
from .service.cli import serve_command  # the service's command lives with the service
from .state.location import ENV_URL as STATE_URL_ENV

if TYPE_CHECKING:
    from .demo import SheetsDemo
    from .sync.summary import Progress, RunSummary


# Built by console.py: what a stream cannot encode (cp1252, ASCII) is printed as a plain equivalent.
out = make_console()
err = make_console(stderr=True)


class Ctx:
    debug = False
    language = "en"  # the mapping's, once it is read: errors that end the command are said in it


def _load(config_path: str) -> Config:
    """The mapping, and from now on its language for the errors that end the command."""
    cfg = load_config(config_path)
    Ctx.language = cfg.language
    return cfg


class _OneLine(logging.Formatter):
    """Library log records as one plain line; the traceback only with --debug."""

    def __init__(self, debug: bool) -> None:
        super().__init__("%(levelname_word)s%(message)s")
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        word = {"WARNING": "Warning: ", "ERROR": "Error: ", "CRITICAL": "Error: "}.get(record.levelname, "")
        record.levelname_word = word
        text = record.getMessage()
        line = f"{word}{text}"
        if self.debug and record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(debug: bool) -> None:
    """The CLI's logging: warnings from the library as one line on stderr; everything with --debug."""
    logger = logging.getLogger("sheets_connector")
    for h in list(logger.handlers):
        if getattr(h, "_sheets_connector_cli", False):
            logger.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._sheets_connector_cli = True  # type: ignore[attr-defined]
    handler.setFormatter(_OneLine(debug))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    logger.propagate = False


@contextmanager
def stop_on_signals(cancel: CancelToken) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) cancels the run: rows on their way finish and every result is written.
    A second one stops at once (the results then go to a CSV).  SIGTERM is a deploy or a
    shutdown, not a person: rows not sent keep their previous result (see CancelToken.by_user)."""
    presses = 0

    def handler(signum: int, frame: Any) -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            err.print("\nStopping: rows already on their way finish and get their result, then the results are "
                      "written. (Press Ctrl-C again to stop at once.)", markup=False)
            if signum == signal.SIGTERM:
                cancel.cancel("stopped by a shutdown or deploy (SIGTERM)", by_user=False)
            else:
                cancel.cancel("stopped by you")
        else:
            cancel.interrupt()

    try:
        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: nothing to install
        yield
        return
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _fail(e: BaseException, debug: bool) -> NoReturn:
    if isinstance(e, ConnectorError):
        err.print(_warning_line(error_words(e), e.language or Ctx.language, "run.error_line"), markup=False)
        sys.exit(e.exit_code)
    if debug:
        traceback.print_exc()
    elif locale_hint(e):
        err.print("Error: " + str(locale_hint(e)), markup=False)
    else:
        err.print(messages.render(messages.msg("cli.unexpected", error=f"{type(e).__name__}: {e}"), Ctx.language),
                  markup=False)
    sys.exit(1)


@contextmanager
def _errors(debug: bool) -> Iterator[None]:
    try:
        yield
    except (click.ClickException, click.Abort, SystemExit):
        raise
    except KeyboardInterrupt:
        # only reaches here outside a sync's send/write (those keep their results themselves)
        err.print(messages.render(messages.msg("cli.stopped"), Ctx.language), markup=False)
        sys.exit(130)
    except BaseException as e:  # noqa: BLE001 - turned into one clear message
        _fail(e, debug)


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    """A progress bar on a terminal; a no-op callback otherwise."""
    if not enabled or not err.is_terminal:
        yield None
        return
    with ProgressBar(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            label = messages.render(messages.msg(f"run.stage_{stage}"), Ctx.language) if stage in ("send", "pull") else stage
            if stage not in tasks:
                tasks[stage] = bar.add_task(label, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


# --- output ------------------------------------------------------------------------------------

def _calls_in_words(calls: dict[str, int], language: str) -> str:
    """inwise requests as staff understand them: "24 contacts sent one by one, new contacts read once"."""
    return messages.calls_in_words(calls, language)


def print_summary(summary: RunSummary, *, max_problems: int = 15, shown: Sequence[str] = (), language: str = "en",
                  mapping: str | None = None) -> None:
    """The run in words, in the mapping's language; ``shown``: warnings already printed while it ran."""
    def say(key: str, **values: object) -> str:
        return messages.summary_text(key, language, **values)

    verb = say("checked") if summary.dry_run else say("synced")
    if summary.command == "pull-new":
        verb = say("pulled")
    how = say("how_batch") if summary.mode == "batch" else say("how_upsert")
    took = messages.render(messages.msg("runs.seconds", s=float(summary.duration_s)), language)
    out.print(f"{verb}: {place_text(summary.source, language)} · {how} · {took}", markup=False)
    if summary.command != "pull-new":
        t = RichTable(show_header=True, header_style="bold")
        t.add_column(say("outcome"))
        t.add_column(say("rows"), justify="right")
        for k in ("created", "updated", "conflict", "invalid", "missing", "duplicate", "error"):
            if summary.dry_run and k in ("created", "updated", "conflict", "error"):
                continue
            t.add_row(say(k), str(summary.counts.get(k, 0)))
        for k in ("held", "no_consent"):
            if summary.counts.get(k):  # only sheets with those columns have such rows
                t.add_row(say(k), str(summary.counts[k]))
        t.add_row(say("unchanged"), str(summary.counts.get("unchanged", 0)))
        if summary.dry_run:
            t.add_row(say("would_send"), str(len(summary.preview)))
        t.add_row(say("rows_read"), str(summary.rows_read), style="dim")
        out.print(t)
    probs = summary.problems()
    if probs:
        out.print(say("attention", n=len(probs)), markup=False)
        for o in probs[:max_problems]:
            out.print("  " + say("problem_row", row=o.row, reason=o.detail_in(language)), markup=False)
        if len(probs) > max_problems:
            more = len(probs) - max_problems
            out.print("  " + say("more_dry" if summary.dry_run else "more", n=more), markup=False)
    if summary.api_calls:
        calls = _calls_in_words(summary.api_calls, language)
        retries = messages.render(messages.msg("run.retries", n=summary.retries), language) if summary.retries else ""
        out.print(say("sent_to_inwise", calls=calls) + retries, markup=False)
    if not summary.dry_run:
        out.print(say("new_contacts", pulled=summary.new_contacts_pulled, added=summary.new_contacts_appended),
                  markup=False)
    for w in summary.warnings:
        if w not in shown:
            err.print(_warning_line(w, language), markup=False)
    if summary.written_to:
        out.print(say("written_to", path=summary.written_to), markup=False)
    if summary.run_id is not None:
        out.print(say("run", run=summary.run_id, mapping=_shell_path(mapping) if mapping else "mapping.yaml"),
                  markup=False)


def _warning_line(text: str, language: str | None, key: str = "run.warning_line") -> str:
    """``Warning: ...`` / ``אזהרה: ...``: a run's own warning in the language, other words as they are."""
    return messages.render(messages.msg(key, text=in_language(text, language)), language)


def _shell_path(path: str) -> str:
    """The mapping file as the user would type it again: relative to the current folder when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = path
    shown = rel if not rel.startswith("..") else path
    return shlex.quote(shown) if os.name != "nt" else (f'"{shown}"' if " " in shown else shown)


def _emit(summary: RunSummary, as_json: bool, shown: Sequence[str] = (), cfg: Config | None = None,
          config_path: str | None = None) -> None:
    if as_json:
        echo_json(summary.to_dict())
    else:
        print_summary(summary, shown=shown, language=cfg.language if cfg else "en", mapping=config_path)


# --- commands -------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sheets-connector")
@click.option("--debug", is_flag=True, help="Show full tracebacks for unexpected errors.")
def main(debug: bool) -> None:
    """Keep your inwise contact list in a spreadsheet.

    \b
    Start here:   sheets-connector demo
    Your sheet:   sheets-connector init Contacts.xlsx      (writes Contacts.mapping.yaml)
                  sheets-connector init <Google Sheet address> --credentials key.json
                  sheets-connector sync --config Contacts.mapping.yaml
    """
    Ctx.debug = debug
    protect_std_streams()  # click's own messages and --debug tracebacks cannot crash on encoding either
    setup_logging(debug)


config_option = click.option(
    "--config", "-c", "config_path", required=True, type=click.Path(dir_okay=False),
    help="The YAML mapping (`sheets-connector init WORKBOOK` writes one).",
)


def _use_state_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    # the same channel as the environment variable, which this option overrides (see state/location.py)
    if value:
        os.environ[STATE_URL_ENV] = value
    return value


state_url_option = click.option(
    "--state-url", default=None, expose_value=False, callback=_use_state_url, metavar="URL",
    help="The state store: postgresql://user@host/db (shared by several machines) or a SQLite file. "
         "Default: $SHEETS_CONNECTOR_STATE_URL, else the mapping's state_url/state_dir, else your user's state.db.")

wait_option = click.option("--wait", is_flag=True,
                           help="If another run holds the sheet, wait for it to end instead of stopping.")


def _waiting(message: str) -> None:
    if isinstance(message, Said) and message.message.id == "run.busy":  # who holds the sheet, not what to do
        err.print(messages.render(messages.msg("run.waiting", busy=dict(message.message.args)["busy"]), Ctx.language),
                  markup=False)
    else:
        err.print(f"Waiting: {message.split(' Only one run')[0]}", markup=False)


def _exit_code(summary: Any) -> None:
    outage = getattr(summary, "outage", None)
    language = getattr(summary, "language", "en")
    if outage:
        err.print(_warning_line(outage, language, "run.error_line"), markup=False)
    if summary.error:
        err.print(_warning_line(summary.error, language, "run.error_line"), markup=False)
    if summary.interrupted:
        sys.exit(130)
    if outage:
        sys.exit(InwiseUnavailable.exit_code)
    if summary.error:
        sys.exit(1)


@main.command()
@config_option
@click.option("--dry-run", is_flag=True, help="Read, map and validate; show what would be sent. Sends and writes nothing.")
@click.option("--full", is_flag=True, help="Send every row, also those unchanged since their last sync.")
@wait_option
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON on stdout.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Also write every row that needs attention (row, outcome, reason) to this CSV file, for Excel.")
@state_url_option
def sync(config_path: str, dry_run: bool, full: bool, wait: bool, as_json: bool, csv_path: str | None) -> None:
    """Send the rows that changed since their last sync to inwise and write each row's outcome back.

    \b
    Example:
      export INWISE_API_KEY=...
      sheets-connector sync --config mapping.yaml
      sheets-connector sync --config mapping.yaml --dry-run
      sheets-connector sync --config mapping.yaml --full --wait
    """
    from .sync import Collaborators
    from .sync import sync as run_sync  # this function is called sync too

    with _errors(Ctx.debug):
        cfg = _load(config_path)
        cancel = CancelToken()
        shown: list[str] = []

        def warn_now(text: str) -> None:  # e.g. dates the sheet's locale may have swapped: said before sending
            shown.append(text)
            err.print(_warning_line(text, cfg.language), markup=False)

        with _progress(not as_json) as progress, stop_on_signals(cancel):
            told = Collaborators(progress=progress, cancel=cancel, on_wait=_waiting,
                                 on_warning=None if as_json else warn_now)
            summary = run_sync(cfg, told, dry_run=dry_run, full=full, wait=wait, trigger="cli")
        if csv_path:
            _write_problems_csv(summary, csv_path, cfg.language)
        _emit(summary, as_json, shown, cfg, config_path)
        if dry_run and not as_json:
            _print_preview(summary.preview_lines, len(summary.preview), language=cfg.language)
        _exit_code(summary)


def _write_problems_csv(summary: RunSummary, path: str, language: str = "en") -> None:
    """Every row that needs attention in a CSV Excel opens as it is (UTF-8 with a BOM: Hebrew stays Hebrew),
    in the mapping's language."""
    import csv

    say = functools.partial(messages.summary_text, language=language)
    try:
        with open(path, "w", newline="", encoding="utf-8-sig") as f:
            w = csv.writer(f)
            w.writerow([say("csv_row"), say("csv_outcome"), say("csv_what")])
            for o in summary.problems():
                outcome = o.outcome if language == "en" else say(o.outcome).lstrip("✗ ")
                w.writerow([o.row, outcome, messages.rtl(o.detail_in(language), language)])
    except OSError as e:
        raise SourceError(f"Cannot write the CSV {path}: {e.strerror or e}. Choose another file name or folder.") from None
    err.print(say("csv_written", n=len(summary.problems()), path=path), markup=False)


def _print_preview(lines: list[str], total: int, n: int = 5, raw_hint: str = "--json", language: str = "en") -> None:
    if not lines:
        return
    out.print(messages.render(messages.msg("check.preview", n=min(n, len(lines)), total=total, hint=raw_hint), language),
              markup=False)
    for line in lines[:n]:
        out.print("  " + line, markup=False)


@main.command("pull-new")
@config_option
@wait_option
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON on stdout.")
@state_url_option
def pull_new_cmd(config_path: str, wait: bool, as_json: bool) -> None:
    """Only add the contacts inwise created since the last pull to the new-contacts tab.

    \b
    Example:
      sheets-connector pull-new --config mapping.yaml
    """
    from .sync import Collaborators, pull_new

    with _errors(Ctx.debug):
        cfg = _load(config_path)
        cancel = CancelToken()
        with _progress(not as_json) as progress, stop_on_signals(cancel):
            summary = pull_new(cfg, Collaborators(progress=progress, cancel=cancel, on_wait=_waiting), wait=wait,
                               trigger="cli")
        _emit(summary, as_json, (), cfg, config_path)
        _exit_code(summary)


@main.command()
@config_option
@click.option("--rows", default=5, show_default=True, help="How many rows to preview.")
def check(config_path: str, rows: int) -> None:
    """Validate the mapping against the real header row and preview the first rows.

    For a Google Sheet it first says which account it connects as, whether the sheet is shared
    with it as an editor, and the tabs it sees. Nothing is sent to inwise.

    \b
    Example:
      sheets-connector check --config mapping.yaml
    """
    from .check import describe_source, result_placement
    from .contacts import column_letter, content_misfits, field_title
    from .sync import plan

    with _errors(Ctx.debug):
        cfg = _load(config_path)
        table = cfg.open_table()
        describe_source(cfg, table, lambda line: out.print(line, markup=False))  # a Google Sheet: account, sharing, tabs
        p = plan(cfg, table)
        table.check_writable()  # what sync checks before sending (results placement, the file, its writer)
        c = p.mapper.columns
        lang = cfg.language

        def say(key: str, **values: object) -> str:
            return messages.render(messages.msg(key, **values), lang)

        out.print(say("check.mapping_ok", location=Place(p.data.location), row=p.data.header_row), markup=False)
        t = RichTable(show_header=True, header_style="bold")
        t.add_column(say("check.col_inwise"))
        t.add_column(say("check.col_column"))
        t.add_column(say("check.col_header"))
        for role, idx in (("email", c.email), ("mobile", c.mobile), ("external_id", c.external_id)):
            if idx is not None:
                t.add_row(say(f"check.role_{role}"), column_letter(idx), p.data.header[idx])
        for number, idx, _ in c.fields:
            t.add_row(field_title(number, p.data.header[idx], lang), column_letter(idx), p.data.header[idx])
        for role, col in (p.mapper.per_row.columns().items() if p.mapper.per_row else ()):
            t.add_row(say(f"check.role_{role}"), column_letter(col.index), p.data.header[col.index])
        placed, warnings = result_placement(cfg, table, p.data.location)
        for label, where, h in placed:
            t.add_row(label, where, h)
        out.print(t)
        for warning in warnings:
            out.print(say("check.warning", text=warning), markup=False)
        for note in content_misfits(p.mapper, p.data.header, p.data.rows):
            out.print(messages.render(note, lang), markup=False)
        chosen = {"held": 0, "no_consent": 0}  # not sent because the row says so: not problems
        for m in p.mapped:
            if m.problem and m.problem.kind in chosen:
                chosen[m.problem.kind] += 1
        problems = [m for m in p.mapped if m.problem and m.problem.kind not in chosen]
        to_send = p.to_send()
        out.print(say("check.rows", n=len(p.mapped), ready=len(to_send), problems=len(problems),
                      held=say("check.rows_held", n=chosen["held"]) if chosen["held"] else "",
                      no_consent=say("check.rows_no_consent", n=chosen["no_consent"]) if chosen["no_consent"] else ""),
                  markup=False)
        for m in problems[:10]:
            reason = messages.render(m.problem.message, cfg.language) if m.problem else ""
            out.print("  " + messages.summary_text("problem_row", cfg.language, row=m.number, reason=reason), markup=False)
        if len(problems) > 10:
            out.print("  " + say("check.more", n=len(problems) - 10), markup=False)
        _print_preview(p.preview_lines(limit=rows, language=lang), len(to_send), n=rows, raw_hint="sync --dry-run --json",
                       language=lang)
        for w in p.date_warnings:  # the sheet's locale and the mapping may read dates differently
            err.print(say("check.warning", text=w), markup=False)
        if not os.environ.get(cfg.inwise.api_key_env):
            err.print(say("check.no_key", env=cfg.inwise.api_key_env), markup=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (keep it local).")
@click.option("--port", "-p", default=8765, show_default=True, help="Port (0 = any free port).")
@click.option("--api-key", "-k", "api_keys", multiple=True, envvar="INWISE_API_KEY",
              help="API key(s) the sandbox accepts [default: $INWISE_API_KEY or sandbox-key].")
@click.option("--latency-ms", default=0.0, help="Fixed latency added to every API request.")
@click.option("--jitter-ms", default=0.0, help="Extra random latency, 0..N ms.")
@click.option("--error-rate", default=0.0, help="Share (0-1) of API requests answered 503.")
@click.option("--rate-limit-rate", default=0.0, help="Share (0-1) answered 429 with Retry-After.")
@click.option("--retry-after", default=1.0, help="Retry-After seconds sent with 429s.")
@click.option("--drop-rate", default=0.0, help="Share (0-1) of connections dropped without an answer.")
@click.option("--max-concurrent", default=0, help="Answer 429 above this many requests in flight (0 = no cap).")
@click.option("--seed", type=int, default=None, help="Random seed for the injected faults.")
@click.option("--answer", type=click.Choice(["json", "html", "truncated"]), default="json",
              help="What answers at the address: inwise's JSON, an HTML maintenance page (200, nothing done), "
                   "or JSON cut in half (done, answer cut).")
@click.option("--state-file", type=click.Path(dir_okay=False), default=None, help="Keep contacts in this JSON file across restarts.")
@click.option("--seed-file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="JSON list of contacts that exist before the first run.")
@click.option("--demo-contacts", is_flag=True, help="Start with the demo's existing contacts.")
def sandbox(host: str, port: int, api_keys: tuple[str, ...], latency_ms: float, jitter_ms: float, error_rate: float,
            rate_limit_rate: float, retry_after: float, drop_rate: float, max_concurrent: int, seed: int | None,
            answer: str, state_file: str | None, seed_file: str | None, demo_contacts: bool) -> None:
    """Run the local inwise sandbox (a stand-in for the inwise API) until Ctrl-C.

    \b
    Example:
      sheets-connector sandbox --port 8765 --api-key my-test-key --latency-ms 50
      # in mapping.yaml:  inwise: {base_url: http://127.0.0.1:8765/rest/v1}
    """
    from .sandbox import DEFAULT_API_KEY, Faults, serve

    with _errors(Ctx.debug):
        keys = tuple(k for k in api_keys if k) or (DEFAULT_API_KEY,)
        if demo_contacts and not seed_file:
            seed_file = str(resources.files("sheets_connector") / "examples" / "existing_contacts.json")
        faults = Faults(latency_ms=latency_ms, jitter_ms=jitter_ms, error_rate=error_rate,
                        rate_limit_rate=rate_limit_rate, retry_after_s=retry_after, drop_rate=drop_rate,
                        max_concurrent=max_concurrent, seed=seed, answer=answer)
        logging.getLogger("sheets_connector.sandbox").setLevel(logging.INFO)  # a stderr line per request
        serve(host=host, port=port, api_keys=keys, faults=faults, state_file=state_file, seed_file=seed_file,
              on_ready=lambda sb: click.echo(f"inwise sandbox listening on {sb.base_url} (API key: set)"))
        click.echo("inwise sandbox stopped.")


@main.command()
@click.option("--workdir", "-w", default="sheets-connector-demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder that receives the example workbook and mapping.")
@click.option("--mode", type=click.Choice(["upsert", "batch"]), default=None, help="Override the send mode.")
@click.option("--source", type=click.Choice(["xlsx", "google-sheet", "sheets"]), default="xlsx", show_default=True,
              help="google-sheet: the same example in a local Google Sheets emulator (no Google account needed).")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON on stdout.")
def demo(workdir: str, mode: str | None, source: str, as_json: bool) -> None:
    """Sync the bundled example workbook to a local inwise sandbox (no account needed).

    \b
    Example:
      sheets-connector demo
      sheets-connector demo --workdir try-it --mode batch
      sheets-connector demo --source google-sheet
    """
    from .demo import run_demo, run_sheets_demo

    with _errors(Ctx.debug):
        cancel = CancelToken()
        sheets = None
        with _progress(not as_json) as progress, stop_on_signals(cancel):
            if source == "xlsx":
                summary, paths = run_demo(Path(workdir), mode=mode, progress=progress, cancel=cancel)
            else:
                sheets = run_sheets_demo(Path(workdir), mode=mode, progress=progress, cancel=cancel)
                summary, paths = sheets.summary, sheets.paths
        if as_json:
            d = summary.to_dict()
            d["demo"] = {k: str(v) for k, v in paths.items()}
            echo_json(d)
        elif sheets is not None:
            _print_sheets_demo_end(sheets)
        else:
            _print_demo_end(summary, paths)
        if summary.interrupted:
            sys.exit(130)


def _print_demo_end(summary: RunSummary, paths: dict[str, Path]) -> None:
    print_summary(summary, mapping=str(paths["mapping"]))
    out.print(
        f"\nOpen the updated workbook: {paths['workbook']}\n"
        f"The mapping it used:        {paths['mapping']}\n"
        "Next, with your own workbook: write its mapping (it is checked right away) with\n"
        "  sheets-connector init YOUR-WORKBOOK.xlsx",
        markup=False,
    )


def _print_sheets_demo_end(demo: SheetsDemo) -> None:
    print_summary(demo.summary)
    out.print("\nThe Google Sheet after the sync, tab 'Contacts' (the demo's emulator stopped with it):", markup=False)
    t = RichTable(show_header=True, header_style="bold")
    for h in ["row", *demo.view.header]:
        t.add_column(h, overflow="fold")
    for number, cells in demo.view.rows:
        t.add_row(str(number), *cells)
    out.print(t)
    tabs = "\n".join(f"  {p}" for k, p in demo.paths.items() if k.startswith("tab "))
    out.print(
        f"Every tab as a CSV file:\n{tabs}\n"
        f"The mapping it used: {demo.paths['mapping']}\n"
        "Next: share your own Google Sheet with a service account (README, 'Google Sheets'), then run\n"
        "  sheets-connector check --config mapping.yaml",
        markup=False,
    )


@main.command("init")
@click.argument("workbook", type=click.Path(dir_okay=False))
@click.option("--sheet", "-s", default=None, help="The tab with the contacts (default: the first).")
@click.option("--output", "-o", default=None, type=click.Path(dir_okay=False),
              help="Where to write the mapping (default: next to the workbook, <name>.mapping.yaml; for a Google "
                   "Sheet, <its title>.mapping.yaml here).")
@click.option("--credentials", default=None, type=click.Path(dir_okay=False),
              help="Google Sheet: the service account's key file (default: $GOOGLE_APPLICATION_CREDENTIALS), or with "
                   "--oauth the OAuth client file.")
@click.option("--oauth", is_flag=True, help="Google Sheet: sign in as yourself in the browser (auth: oauth).")
@click.option("--api-url", default=None, hidden=True, help="Google Sheet: the local Sheets emulator's address.")
@click.pass_context
def init_cmd(ctx: click.Context, workbook: str, sheet: str | None, output: str | None, credentials: str | None,
             oauth: bool, api_url: str | None) -> None:
    """Write a mapping for your workbook or Google Sheet from its header row, then check it.

    WORKBOOK is an .xlsx file, or a Google Sheet's address as in the browser's address bar.

    \b
    Example:
      sheets-connector init Contacts.xlsx
      sheets-connector init "C:\\Users\\dana\\Documents\\Contacts.xlsx" --sheet Members
      sheets-connector init https://docs.google.com/spreadsheets/d/1AbC.../edit --credentials key.json
      sheets-connector init https://docs.google.com/spreadsheets/d/1AbC.../edit --oauth --credentials client.json
    """
    from .init_mapping import write_mapping

    with _errors(Ctx.debug):
        result = write_mapping(workbook, sheet=sheet, output=output, credentials=credentials, oauth=oauth,
                               api_url=api_url)
        out.print("\n".join(result.summary_lines()) + "\n", markup=False)
    ctx.invoke(check, config_path=str(result.mapping), rows=3)
    out.print("\n" + "\n".join(result.next_lines()), markup=False)


@main.command()
@click.option("--email", required=True, help="Email for a test contact (yours, or one you may create).")
@click.option("--mobile", required=True, help="Mobile for a second test contact.")
@click.option("--country", default="IL", show_default=True, help="Country of a local mobile number.")
@click.option("--base-url", default="https://api.inwise.com/rest/v1", show_default=True, help="inwise API address.")
@click.option("--api-key-env", default="INWISE_API_KEY", show_default=True,
              help="Environment variable holding the API key.")
@click.option("--out", "-o", default="inwise-probe.json", show_default=True, type=click.Path(dir_okay=False),
              help="Where to write the recording.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before changing anything.")
def probe(email: str, mobile: str, country: str, base_url: str, api_key_env: str, out: str, yes: bool) -> None:
    """Record how the real inwise API answers (8 requests), to settle what its docs leave open.

    \b
    Example:
      export INWISE_API_KEY=...
      sheets-connector probe --email me+probe@example.com --mobile 054-1234567
    """
    from .inwise import probe as p

    with _errors(Ctx.debug):
        target = p.target(email, mobile, country)
        click.echo(p.describe(target, base_url))
        if not yes and not click.confirm("Go ahead?", default=False):
            click.echo("Nothing was sent.")
            return
        recording = p.run(base_url, os.environ.get(api_key_env, ""), p.plan(target), target)
        path = p.save(recording, out)
        for line in p.findings(recording):
            click.echo("  " + line)
        click.echo(f"Recording written to {path} (the API key is not in it): attach it to a bug report.")


@main.group(invoke_without_command=True)
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False),
              help="Only the runs of this mapping's sheet (and its state store).")
@click.option("--limit", "-n", default=20, show_default=True, help="How many runs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON on stdout.")
@click.pass_context
@state_url_option
def runs(ctx: click.Context, config_path: str | None, limit: int, as_json: bool) -> None:
    """The recent runs: when, how started, how long, rows per outcome, errors.

    \b
    Example:
      sheets-connector runs --config mapping.yaml
      sheets-connector runs show 12
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    if ctx.invoked_subcommand is not None:
        return
    from .state import history

    with _errors(Ctx.debug), _history_store(config_path) as (store, sheet):
        found = store.list_runs(sheet, limit)
        if as_json:
            echo_json([r.to_dict() for r in found])
            return
        if not found:
            out.print(messages.render(messages.msg("runs.none_yet", path=str(store.path)), Ctx.language), markup=False)
            return
        t = RichTable(show_header=True, header_style="bold")
        for head in history.table_headers(Ctx.language):
            t.add_column(head)
        for row in history.table_rows(found, Ctx.language):
            t.add_row(*row)
        out.print(t)


@runs.command("show")
@click.argument("run_id", type=int)
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False),
              help="The mapping whose state store holds the run (default: your user's store).")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON on stdout.")
@click.pass_context
@state_url_option
def runs_show(ctx: click.Context, run_id: int, config_path: str | None, as_json: bool) -> None:
    """One run in full, with the rows that failed and why.

    \b
    Example:
      sheets-connector runs show 12 --json
    """
    from .state import history

    with _errors(Ctx.debug), _history_store(config_path or ctx.obj.get("config_path")) as (store, _):
        found = store.get_run(run_id)
        if found is None:
            raise ConnectorError(said("runs.no_such", run=run_id, path=str(store.path)))
        if as_json:
            echo_json(found.to_dict(with_summary=True))
        else:
            for line in history.detail_lines(found):
                out.print(line, markup=False)


@main.group("state")
def state_group() -> None:
    """The state store (kept feed answers, row fingerprints, run history, locks)."""


@state_group.command("migrate")
@click.option("--to", "to_url", required=True, metavar="URL",
              help="The new store: postgresql://user@host/db (an empty database), or a SQLite file.")
@click.option("--from", "from_url", default=None, metavar="URL",
              help="The store to copy. Default: the one --config's mapping uses, else $SHEETS_CONNECTOR_STATE_URL, "
                   "else your user's state.db.")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False), default=None,
              help="A mapping whose store to copy (its state_url or state_dir).")
def state_migrate(to_url: str, from_url: str | None, config_path: str | None) -> None:
    """Copy the whole state into another store, losing nothing (feed answers not yet delivered,
    fingerprints, history).

    \b
    Example (one machine becomes several):
      sheets-connector state migrate --to postgresql://connector@db.example/connector
      export SHEETS_CONNECTOR_STATE_URL=postgresql://connector@db.example/connector
    """
    from .state import open_store, open_url
    from .state.transfer import copy_store

    with _errors(Ctx.debug):
        cfg = _load(config_path) if config_path else None
        source = open_url(from_url) if from_url else open_store(
            cfg.state_dir_path() if cfg else None, mapping_url=cfg.state_url_resolved() if cfg else None)
        try:
            target = open_url(to_url)
            try:
                copied = copy_store(source, target)
                where = target.url
            finally:
                target.close()
        finally:
            source.close()
        out = make_console()
        out.print(f"Copied {source.url} into {where}:", markup=False)
        for table, n in copied.items():
            out.print(f"  {table}: {n}", markup=False)
        out.print(f"The old store is left as it was. Point every run at the new one: --state-url, "
                  f"{STATE_URL_ENV}, or state_url in the mappings.", markup=False)


@contextmanager
def _history_store(config_path: str | None) -> Iterator[tuple[Any, str | None]]:
    from .state import open_store

    cfg = _load(config_path) if config_path else None
    store = open_store(cfg.state_dir_path() if cfg else None, mapping_url=cfg.state_url_resolved() if cfg else None)
    try:
        yield store, (cfg.identity().sheet if cfg else None)
    finally:
        store.close()


@main.command()
def schema() -> None:
    """Print the JSON Schema of the mapping file (for editors and validation)."""
    echo_json(json_schema())


main.add_command(serve_command)

if __name__ == "__main__":  # pragma: no cover
    main()
