"""Two mappings of one inwise account with different state stores split the once-only feed
between them; a run that sees the evidence says so and names the fix (one state_url)."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from openpyxl import load_workbook
from util import tab_rows, write_workbook

from sheets_connector.cli import main

ENV = {"INWISE_API_KEY": "test-key"}


def mapping(folder: Path, base_url: str, state: str, emails: list[str]) -> str:
    folder.mkdir(exist_ok=True)
    write_workbook(folder / "contacts.xlsx", [[e.split("@")[0], "T", e, None, None] for e in emails])
    path = folder / "contacts.mapping.yaml"
    path.write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx, worksheet: Contacts}}
columns:
  email: Email
inwise:
  base_url: {base_url}
state_url: {state}
results:
  column: Sync result
""", encoding="utf-8")
    return str(path)


def sign_ups(sandbox, emails: list[str]) -> list[int]:
    """Contacts created in inwise by a web form (into the feed), one request each."""
    ids = []
    for e in emails:
        r = requests.post(sandbox.base_url + "/contacts", headers={"X-API-Key": ENV["INWISE_API_KEY"]},
                          json={"email": e}, timeout=30)
        r.raise_for_status()
        ids.append(int(r.json()["id"]))
    return ids


def tab_ids(wb: Path) -> list[int]:
    rows = tab_rows(wb, "New contacts")
    return [int(r[0]) for r in rows[1:]] if rows else []


def sync(path: str) -> str:
    done = CliRunner().invoke(main, ["sync", "-c", path], env=ENV)
    assert done.exit_code == 0, done.output
    return " ".join(done.output.split())


@pytest.mark.parametrize("shared", [False, True], ids=["two stores", "one store"])
def test_a_second_store_reading_the_feed_is_said_with_what_to_do(tmp_path, sandbox, shared):
    a = mapping(tmp_path / "a", sandbox.base_url, "sqlite:///../shared.db" if shared else "sqlite:///./a.db",
                ["a0@example.com", "a1@example.com"])
    b = mapping(tmp_path / "b", sandbox.base_url, "sqlite:///../shared.db" if shared else "sqlite:///./b.db",
                ["b0@example.com"])
    assert "another state store" not in sync(a)  # store A has read the feed (a0, a1)
    assert "another state store" not in sync(b)
    web = sign_ups(sandbox, ["web0@example.com", "web1@example.com"])
    assert "another state store" not in sync(b)  # B's run reads the sign-ups from the feed
    # staff add the sign-ups to sheet A: its run sends them, and reads the feed
    book = load_workbook(tmp_path / "a" / "contacts.xlsx")
    for e in ("web0@example.com", "web1@example.com"):
        book["Contacts"].append([e.split("@")[0], "T", e])
    book.save(tmp_path / "a" / "contacts.xlsx")
    said = sync(a)
    a_tab = tab_ids(tmp_path / "a" / "contacts.xlsx")
    if shared:  # one store: every sheet gets every new contact, nothing to warn about
        assert "another state store" not in said
        assert set(web) <= set(a_tab) and len(a_tab) == len(set(a_tab))
    else:
        assert not set(web) & set(a_tab)  # what the warning is about
        assert ("new-contacts feed of this account is being read by another state store: 2 contact(s) this run "
                f"sent (inwise ids {web[0]}, {web[1]})") in said, said
        assert "Point every mapping of this inwise account at one state store (the same state_url" in said
        assert "a.db" in said
        # said once: the next run, with nothing new missing, is quiet
        assert "another state store" not in sync(a)
