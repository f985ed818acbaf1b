"""Every command on every console: the real commands in a subprocess with cp1252, ASCII (also
as ``LANG=C`` gives it) and UTF-8 output streams.  What a stream cannot show is replaced by a
plain equivalent; ``--json`` is valid JSON; the workbook keeps the exact text."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from util import column, write_workbook

from sheets_connector.console import dumps_json, make_console, plain

# name -> (environment, encoding the child's stdout really uses)
STREAMS: dict[str, tuple[dict[str, str], str]] = {
    "cp1252": ({"PYTHONIOENCODING": "cp1252"}, "cp1252"),  # Windows, output to a file or a pipe
    "ascii": ({"PYTHONIOENCODING": "ascii"}, "ascii"),
    "utf-8": ({"PYTHONIOENCODING": "utf-8"}, "utf-8"),
    # LANG=C as Python >= 3.7 sets it up (its UTF-8 mode), and a bare C locale without it
    "LANG=C": ({"LANG": "C", "LC_ALL": "C"}, "utf-8"),
    "LANG=C, no UTF-8 mode": ({"LANG": "C", "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}, "ascii"),
}

ROWS = [
    ["דנה", "כהן", "dana@example.co.il", "054-1111111", None],
    ["Rachel", "Green", "rachel@@example.com", None, None],
]


def run(stream: str, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[bytes], str, str]:
    """Run the command; return the process and its stdout/stderr decoded STRICTLY in the
    stream's encoding (a byte the stream could not hold would fail the test)."""
    extra, encoding = STREAMS[stream]
    e = {k: v for k, v in os.environ.items()
         if k not in ("INWISE_API_KEY", "PYTHONIOENCODING", "PYTHONUTF8", "LC_ALL", "LANG", "LC_CTYPE")}
    e.update(extra)
    e.update(env or {})
    e["COLUMNS"] = "200"
    p = subprocess.run([sys.executable, "-m", "sheets_connector", *args], capture_output=True, env=e, timeout=120)
    out, err = p.stdout.decode(encoding), p.stderr.decode(encoding)
    assert "Traceback" not in err and "UnicodeEncodeError" not in err, err
    return p, out, err


def mapping(tmp: Path, base_url: str) -> Path:
    p = tmp / "mapping.yaml"
    p.write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx}}
columns:
  email: Email
  mobile: Mobile
  fields: {{1: First name, 2: Last name}}
inwise:
  base_url: {base_url}
""", encoding="utf-8")
    return p


@pytest.mark.parametrize("stream", list(STREAMS))
def test_demo_runs_on_every_stream(tmp_path: Path, stream: str) -> None:
    p, out, err = run(stream, "demo", "--workdir", str(tmp_path / "demo"))
    assert p.returncode == 0, err
    utf8 = STREAMS[stream][1] == "utf-8"
    if utf8:
        assert "✓ created" in out and "row 15: ✗ no email or mobile" in out and "email → #" in out
    else:
        assert "OK created" in out and "row 15: X no email or mobile" in out and "email -> #" in out
        assert "X conflict" in out and "Synced: contacts.xlsx, sheet 'Contacts'" in out
    if STREAMS[stream][1] == "ascii":
        assert "one contact at a time - " in out and "+----" in out  # the table drawn in ASCII
    # the table is still aligned after the replacements: every row line has the same width
    table = [line for line in out.splitlines() if line and line[0] in "|│┃"]
    assert len({len(line) for line in table}) == 1, table
    # the workbook holds the exact results and names, whatever the console could show
    wb = tmp_path / "demo" / "contacts.xlsx"
    results = column(wb, "Sync result")
    assert results[2].startswith("✓ created") and results[13].startswith("✗ conflict: email → #")
    assert load_workbook(wb)["Contacts"]["B2"].value == "דנה"


@pytest.mark.parametrize("stream", list(STREAMS))
def test_demo_json_is_valid_on_every_stream(tmp_path: Path, stream: str) -> None:
    p, out, err = run(stream, "demo", "--workdir", str(tmp_path / "demo"), "--json")
    assert p.returncode == 0, err
    d = json.loads(out)
    assert d["counts"]["conflict"] == 1
    conflict = next(o["detail"] for o in d["problems"] if o["detail"].startswith("conflict"))
    assert "email → #" in conflict  # the exact text, whatever the stream
    if STREAMS[stream][1] != "utf-8":
        assert p.stdout.isascii() and "email \\u2192 #" in out  # escaped, not replaced


@pytest.mark.parametrize("stream", list(STREAMS))
def test_sync_json_keeps_hebrew_exact(tmp_path: Path, sandbox, stream: str) -> None:
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    p, out, err = run(stream, "sync", "--config", str(mapping(tmp_path, sandbox.base_url)), "--json",
                      env={"INWISE_API_KEY": "test-key"})
    assert p.returncode == 0, err
    d = json.loads(out)
    assert d["counts"]["created"] == 1 and d["counts"]["invalid"] == 1
    assert STREAMS[stream][1] == "utf-8" or p.stdout.isascii()
    assert column(wb, "Sync result")[2].startswith("✓ created")
    sent = sandbox.contacts()
    assert [f["content"] for f in sent[0]["fields"] if f["name"] == "field1"] == ["דנה"]


@pytest.mark.parametrize("stream", list(STREAMS))
def test_check_shows_hebrew_or_a_plain_stand_in(tmp_path: Path, sandbox, stream: str) -> None:
    write_workbook(tmp_path / "contacts.xlsx", ROWS)
    p, out, err = run(stream, "check", "--config", str(mapping(tmp_path, sandbox.base_url)))
    assert p.returncode == 0, err
    assert "Mapping OK" in out and "row 3" in out and "+972541111111" in out
    if STREAMS[stream][1] == "utf-8":
        assert "row 2: dana@example.co.il · +972541111111 · First name = דנה" in out and "✗ invalid email" in out
    elif STREAMS[stream][0].get("PYTHONIOENCODING") == "cp1252":  # cp1252 has '·'
        assert "row 2: dana@example.co.il · +972541111111 · First name = ???" in out and "X invalid email" in out
    else:
        assert "row 2: dana@example.co.il - +972541111111 - First name = ???" in out and "X invalid email" in out
    assert "INWISE_API_KEY is not set" in err


@pytest.mark.parametrize("stream", ["cp1252", "ascii", "LANG=C"])
def test_error_messages_with_hebrew_paths_do_not_crash(tmp_path: Path, stream: str) -> None:
    folder = tmp_path / "אנשי קשר"  # a Hebrew folder name in the message
    folder.mkdir()
    m = folder / "mapping.yaml"
    m.write_text("source: {type: xlsx, path: 'רשימה.xlsx'}\ncolumns: {email: Email}\n", encoding="utf-8")
    p, out, err = run(stream, "check", "--config", str(m))
    assert p.returncode == 2 and "Cannot find the spreadsheet" in err
    assert ("אנשי קשר" in err) if STREAMS[stream][1] == "utf-8" else ("/???? ???/" in err)
    p, out, err = run(stream, "sync", "--no-such-option")
    assert p.returncode == 2 and "No such option" in err


def test_a_locale_that_cannot_spell_the_path_gets_a_plain_message(tmp_path: Path) -> None:
    # Without UTF-8 anywhere, Python cannot even look up a Hebrew file name written in the
    # mapping: say so and how to fix it.
    m = tmp_path / "mapping.yaml"
    m.write_text("source: {type: xlsx, path: 'רשימה.xlsx'}\ncolumns: {email: Email}\n", encoding="utf-8")
    p, out, err = run("LANG=C, no UTF-8 mode", "check", "--config", str(m))
    assert p.returncode == 1 and "PYTHONUTF8=1" in err and "character set" in err


# --- the replacements themselves ---------------------------------------------------------------


def test_plain_replacements() -> None:
    text = "✓ created · mode → #1 … ✗ conflict × 2 “quoted” – דנה café"
    assert plain(text, "utf-8") == text
    assert plain(text, "ascii") == 'OK created - mode -> #1 ... X conflict x 2 "quoted" - ??? cafe'
    # cp1252 keeps what it has (· … × “ ” – é) and replaces only the rest
    assert plain(text, "cp1252") == "OK created · mode -> #1 … X conflict × 2 “quoted” – ??? café"
    assert plain(text, "cp1255") == "OK created · mode -> #1 … X conflict × 2 “quoted” – דנה cafe"
    assert plain("a\u200fb\u00a0c ┏━┃", "ascii") == "ab c +-|"
    assert plain("⚠ 10 ₪ ≥ 5", "ascii") == "! 10 ILS >= 5"


def test_console_on_a_cp1252_file_aligns_and_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.table import Table

    buf = io.BytesIO()
    stream = io.TextIOWrapper(buf, encoding="cp1252", newline="\n")
    monkeypatch.setattr(sys, "stdout", stream)
    console = make_console(width=60)
    t = Table("outcome", "rows")
    t.add_row("✓ created", "3")
    t.add_row("✗ invalid", "12")
    console.print(t)
    console.print("row 2: ✗ דנה → #5", markup=False)
    stream.flush()
    text = buf.getvalue().decode("cp1252")
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert "| OK created |" in text and "| X invalid  |" in text
    assert len({len(line) for line in lines}) == 1
    assert "row 2: X ??? -> #5" in text


def test_dumps_json_escapes_only_where_needed() -> None:
    data = {"name": "דנה", "result": "✓ created"}
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    cp1252 = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    assert '"דנה"' in dumps_json(data, stream=utf8)
    escaped = dumps_json(data, stream=cp1252)
    assert escaped.isascii() and json.loads(escaped) == data
