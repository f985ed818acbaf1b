"""The write-back on real workbooks made by other programs (tests/corpus, issue 10).

Each corpus file gets one test: ``corpus_harness.run_case`` runs check_writable / read /
set_columns / append_rows / save on a copy and checks the standard (see the harness's
docstring).  A file whose outcome is a known bug of issue 10 is marked xfail(strict=True)
with the issue item in its reason (``known_bug`` in tests/corpus/manifest.json): when the fix
lands the test passes, strict xfail turns that into a failure, and whoever fixed it removes
the mark.  The slow tests open every result in LibreOffice and run the openpyxl writer alone
over the corpus (``pytest -m slow``).
"""
from __future__ import annotations

import csv
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpus_harness import (
    APPEND_ROWS,
    APPEND_TAB,
    COPY,
    CORPUS,
    IN_PLACE,
    REFUSED,
    CorpusFile,
    Outcome,
    compare,
    load_manifest,
    package_map,
    result_text,
    run_case,
    sha256,
    snapshot,
)

FILES = load_manifest()
# openpyxl warns about every extension it does not read; the harness checks what matters.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
LICENCES = {"Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "MPL-2.0"}
# Every kind of workbook issue 10 asks the corpus to cover (the manifest's feature words).
REQUIRED_FEATURES = {
    "chart", "pivot table", "table", "comments", "threaded comments", "macros", "external link",
    "shared formula", "array formula", "rich text", "hidden sheet", "protected sheet", "x14 extension",
    "merged cells", "strict", "header to XFD", "drawing hyperlink", "part without content type",
    "relationship to a missing part", "error values", "formula without cached value",
}
# ... and the kinds issue 22 added (generated: see SOURCES.md)
REQUIRED_FEATURES |= {"header-less data column", "style index past the list", "array formula beside the data",
                      "pivot over the contacts", "macro sheet"}
REQUIRED_PROGRAMS = ("Microsoft Excel", "Microsoft Macintosh Excel", "LibreOffice", "Google Sheets")


def _param(entry: CorpusFile, bug: str | None) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(entry, id=entry.name, marks=marks)


@pytest.fixture(autouse=True)
def _quiet_writer_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="sheets_connector")


@pytest.mark.parametrize("entry", [_param(f, f.known_bug) for f in FILES])
def test_write_back_meets_the_standard(entry: CorpusFile, tmp_path: Path) -> None:
    outcome = run_case(entry.file, tmp_path, entry.header_row)
    assert outcome.meets_standard, f"{entry.name}: {outcome.summary()}\n  " + "\n  ".join(outcome.problems)


# The openpyxl writer on its own (slow: about 15 s).  The fast writer takes every corpus file,
# so the fallback would otherwise never meet a real file here: with the fast writer declining
# everything, each file must still be written to a copy naming every change, written in place
# unchanged, or refused before sending.
@pytest.mark.slow
@pytest.mark.parametrize("entry", [pytest.param(f, id=f.name) for f in FILES])
def test_the_openpyxl_writer_alone_meets_the_standard(entry: CorpusFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sheets_connector.tables.xlsx import patch

    def declined(*args: object, **kwargs: object) -> None:
        raise patch.Unsupported("the fast writer is switched off for this test")

    monkeypatch.setattr(patch, "probe", declined)
    monkeypatch.setattr(patch, "write_patched", declined)
    outcome = run_case(entry.file, tmp_path, entry.header_row)
    assert outcome.meets_standard, f"{entry.name}: {outcome.summary()}\n  " + "\n  ".join(outcome.problems)


# --------------------------------------------------------------------------------------------
# The corpus itself


def test_manifest_lists_every_corpus_file_with_source_and_licence() -> None:
    on_disk = {p.name for p in CORPUS.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm", ".xltx", ".xltm")}
    listed = [f.name for f in FILES]
    assert len(listed) == len(set(listed)), "a file is listed twice in manifest.json"
    assert on_disk == set(listed), f"not listed: {sorted(on_disk - set(listed))}; missing: {sorted(set(listed) - on_disk)}"
    sources = (CORPUS / "SOURCES.md").read_text("utf-8")
    for f in FILES:
        assert sha256(f.file) == f.sha256, f"{f.name} differs from the file the manifest records"
        assert f.licence in LICENCES, f"{f.name}: licence {f.licence!r}"
        assert f.source and f.path and f.upstream and f.program and f.features, f"{f.name}: incomplete entry"
        assert f"| {f.name} |" in sources, f"{f.name} is not in SOURCES.md"
        assert not f.known_bug or f.known_bug.startswith("issue 10 item "), f"{f.name}: {f.known_bug!r}"


def test_corpus_covers_issue_10_and_stays_small() -> None:
    features = {feat for f in FILES for feat in f.features}
    assert REQUIRED_FEATURES <= features, f"not covered: {sorted(REQUIRED_FEATURES - features)}"
    for program in REQUIRED_PROGRAMS:
        assert any(f.program.startswith(program) for f in FILES), f"no file made by {program}"
    total = sum(f.file.stat().st_size for f in FILES)
    assert len(FILES) <= 65 and total <= 6_000_000, f"{len(FILES)} files, {total} bytes"


# --------------------------------------------------------------------------------------------
# The harness finds what it is meant to find (so a passing corpus test means something)


def _rewrite_part(src: Path, dst: Path, part: str, old: bytes, new: bytes) -> None:
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                assert old in data, f"{old!r} not in {part}"
                data = data.replace(old, new, 1)
            zout.writestr(info, data)


def test_harness_sees_a_changed_value_on_another_sheet_and_a_changed_part(tmp_path: Path) -> None:
    src = CORPUS / "poi-WithThreeCharts.xlsx"
    before = snapshot(src)
    pmap = package_map(before.parts)
    other = pmap.sheets["Sheet2"]
    changed = tmp_path / "changed.xlsx"
    # A number on Sheet1 rounded, as the openpyxl writer did to real files (issue 10 item 4).
    first = pmap.sheets["Sheet1"]
    _rewrite_part(src, changed, first, b"<v>10</v>", b"<v>10.5</v>")
    problems = compare(before, snapshot(changed), sheet="Sheet2", header_row=1, rows=[], unplaced=set(), in_place=True)
    assert any("sheet 'Sheet1'" in p and "10 -> 10.5" in p for p in problems), problems
    assert any(first in p for p in problems if "parts changed" in p), problems
    assert other  # the target sheet's part may change, so it is not reported
    assert not any(other in p for p in problems if "parts changed" in p), problems


def test_harness_accepts_a_clear_refusal_before_sending(tmp_path: Path) -> None:
    # (Crashes and refusals in save are caught too: the strict xfails above fail on them.)
    not_a_workbook = tmp_path / "src" / "contacts.xlsx"
    not_a_workbook.parent.mkdir()
    not_a_workbook.write_text("email,mobile\na@example.com,0501234567\n")
    refused = run_case(not_a_workbook, tmp_path / "run")
    assert refused.kind == REFUSED and refused.stage == "check_writable", refused.summary()
    assert refused.meets_standard and "contacts.xlsx" in refused.message


# --------------------------------------------------------------------------------------------
# LibreOffice opens every result (slow: about a minute for the corpus)


@pytest.fixture(scope="module")
def libreoffice_results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Outcome, Path, Path]]]:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.fail("LibreOffice is not installed, so the results cannot be opened in it. "
                    "Install it (Debian: apt-get update && apt-get install -y libreoffice-calc-nogui) and run again.")
    root = tmp_path_factory.mktemp("libreoffice")
    logging.getLogger("sheets_connector").setLevel(logging.ERROR)
    opened: dict[str, tuple[Outcome, Path, Path]] = {}
    inputs = root / "in"
    inputs.mkdir()
    for i, f in enumerate(FILES):
        outcome = run_case(f.file, root / "run" / f"{i:02d}", f.header_row)
        chosen = outcome.result or f.file  # refused or failed: the untouched original
        staged = inputs / f"{i:02d}{chosen.suffix}"
        shutil.copyfile(chosen, staged)
        opened[f.name] = (outcome, staged, root / "out")
    # All sheets to CSV in one LibreOffice run (token 12 = -1: every sheet to <name>-<sheet>.csv).
    csv_all = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    proc = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{root / 'profile'}", "--headless", "--norestore",
         "--convert-to", csv_all, "--outdir", str(root / "out"), *sorted(str(p) for p in inputs.iterdir())],
        check=False, capture_output=True, text=True, timeout=1200, env={**os.environ, "HOME": str(root)},
    )
    assert proc.returncode == 0, f"LibreOffice failed ({proc.returncode}): {proc.stderr[-2000:]}"
    yield opened


def _slow_param(entry: CorpusFile) -> object:
    marks = [pytest.mark.slow]
    if entry.libreoffice_bug:
        marks.append(pytest.mark.xfail(strict=True, reason=entry.libreoffice_bug))
    return pytest.param(entry, id=entry.name, marks=marks)


@pytest.mark.parametrize("entry", [_slow_param(f) for f in FILES])
def test_libreoffice_opens_the_result(entry: CorpusFile, libreoffice_results: dict[str, tuple[Outcome, Path, Path]]) -> None:
    outcome, staged, out = libreoffice_results[entry.name]
    sheets = sorted(out.glob(f"{staged.stem}-*.csv"))
    assert sheets, f"LibreOffice could not open {entry.name} ({outcome.summary()})"
    if outcome.kind not in (IN_PLACE, COPY):
        return  # refused or failed: the untouched original opened, nothing was written to look for
    text = "\n".join(p.read_text("utf-8", "replace") for p in sheets)
    cells = {c for p in sheets for row in csv.reader(p.read_text("utf-8", "replace").splitlines()) for c in row}
    shown = [n for n in outcome.rows if result_text(n) in cells]
    assert shown, f"LibreOffice shows none of the results written to {entry.name} (rows {outcome.rows})"
    assert any(p.name == f"{staged.stem}-{APPEND_TAB}.csv" for p in sheets), f"no '{APPEND_TAB}' tab in LibreOffice"
    assert APPEND_ROWS[0][0] in text
