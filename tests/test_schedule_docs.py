"""The README's scheduled-task recipes are well-formed and run real commands: the launchd plist
parses and its program arguments, like the cron line's and the Windows .cmd file's command, are
accepted by the command line.  (Task Scheduler and launchd themselves cannot run here.)"""
from __future__ import annotations

import plistlib
import re
import shlex
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from croniter import croniter

from sheets_connector.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
SCHEDULE = README[README.index("### Running it on a schedule"): README.index("### Python versions")]


def block(lang: str, contains: str) -> str:
    return next(b for b in re.findall(rf"```{lang}\n(.*?)\n```", SCHEDULE, flags=re.S) if contains in b)


def israeli_week(cron: str) -> bool:
    """The cron expression fires at 07:00 on Sunday to Thursday of a week, and on no other day."""
    start = datetime(2026, 12, 5, 12, 0)  # a Saturday
    it = croniter(cron, start)
    fired = [it.get_next(datetime) for _ in range(5)]
    return [d.strftime("%a %H:%M") for d in fired] == ["Sun 07:00", "Mon 07:00", "Tue 07:00", "Wed 07:00",
                                                        "Thu 07:00"] and it.get_next(datetime).strftime("%a") == "Sun"


def accepted(args: list[str]) -> None:
    """The arguments are a ``sync`` the command line accepts (``--help`` stops it before it runs)."""
    assert args[0].endswith(("sheets-connector", "sheets-connector.exe")), args
    r = CliRunner().invoke(main, [*args[1:], "--help"])
    assert r.exit_code == 0 and "Send the rows that changed" in r.output, r.output


def test_launchd_plist_parses_and_logs_to_a_file() -> None:
    plist = plistlib.loads(block("xml", "<plist").encode("utf-8"))
    accepted(plist["ProgramArguments"])
    assert plist["StandardOutPath"] == plist["StandardErrorPath"] and plist["StandardOutPath"].endswith(".log")
    assert "INWISE_API_KEY" in plist["EnvironmentVariables"]
    times = plist["StartCalendarInterval"]
    assert sorted(t["Weekday"] for t in times) == [0, 1, 2, 3, 4] and {(t["Hour"], t["Minute"]) for t in times} == {(7, 0)}


def test_cron_line_runs_sync_and_appends_to_a_log() -> None:
    line = next(x for x in block("sh", "0 7 * * ").splitlines() if x.startswith("0 7"))
    assert israeli_week(" ".join(line.split()[:5]))
    words = shlex.split(line)[5:]
    accepted(words[: words.index(">>")])
    assert words[words.index(">>") + 1].endswith(".log") and words[-1] == "2>&1"


def test_windows_cmd_file_runs_sync_and_appends_to_a_log() -> None:
    cmd = block("bat", "@echo off")
    line = next(x for x in cmd.splitlines() if "sheets-connector.exe" in x)
    words = shlex.split(line.replace("\\", "/"), posix=True)
    accepted(words[: words.index(">>")])
    assert words[words.index(">>") + 1].endswith("sync.log")
    task = block("bat", "schtasks")
    assert re.search(r'schtasks /Create /TN "inwise sync" /TR "[^"]+sync\.cmd" /SC WEEKLY /D SUN,MON,TUE,WED,THU '
                     r'/ST 07:00', task)


MENU = README[README.index("## The sheet menu and the service"): README.index("## The local Google Sheets emulator")]


def menu_line(prefix: str) -> list[str]:
    line = next(x for x in MENU.splitlines() if x.startswith(prefix))
    return shlex.split(line[line.index("`", len(prefix)) + 1: line.rindex("`")])


def test_the_menu_sections_scheduler_lines_run_sync() -> None:
    cron = menu_line("- cron:")
    assert cron[:5] == ["0", "7", "*", "*", "0-4"] and cron[5:8] == ["cd", "/srv/sheets", "&&"]
    assert israeli_week(" ".join(cron[:5]))
    accepted(cron[8: cron.index(">>")])
    timer = menu_line("- a systemd timer:")
    assert timer[0] == "systemd-run" and "--on-calendar=Sun..Thu 07:00" in timer
    accepted(timer[next(i for i, w in enumerate(timer) if w.endswith("/sheets-connector")):])
    job = menu_line("- a Kubernetes CronJob:")
    assert job[:3] == ["kubectl", "create", "cronjob"] and "--schedule=0 7 * * 0-4" in job
    accepted(job[job.index("--") + 1:])


def test_the_menu_sections_serve_line_is_accepted() -> None:
    words = shlex.split(next(x for x in MENU.splitlines() if x.strip().startswith("`sheets-connector serve")).strip("` "))
    r = CliRunner().invoke(main, [*words[1:], "--help"])
    assert r.exit_code == 0 and "Run the web service for the sheet menu" in r.output, r.output
    assert words[words.index("--host") + 1] == "127.0.0.1"
