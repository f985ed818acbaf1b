"""The README opens with two commands; CI runs the second one verbatim."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.*?)\n```", text, flags=re.S)[:2]


def test_first_command_installs_and_runs_the_demo():
    first = readme_commands()[0]
    assert "pip install -e ." in first and first.rstrip().endswith("sheets-connector demo")


def test_ci_runs_the_readme_test_command_verbatim():
    second = readme_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second.strip() in ci.splitlines()
    assert "pytest" in second


def test_the_google_steps_need_no_file_from_the_repository():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    google = text[text.index("## Google Sheets\n"): text.index("### What a sync does to the sheet")]
    tracked = {p.name for p in ROOT.iterdir() if p.is_file()} - {"README.md"}
    assert not [name for name in tracked if name in google]  # e.g. mapping.example.yaml, credentials.example.json
    assert "sheets-connector init \"https://docs.google.com/spreadsheets/d/" in google  # init writes the mapping
    for must in ("Service account key creation is disabled", "iam.gserviceaccount.com", "Publish app", "7 days",
                 "Internal", "Google Sheets API", "60 read", "File > Save as Google Sheets", "Locale"):
        assert must in google, must
