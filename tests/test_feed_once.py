"""Each answer of inwise's new-contacts feed is decoded once per run: kept raw, then read, then
indexed for the sheet from the same items."""
from __future__ import annotations

import requests
from util import make_config, tab_rows, write_workbook

from sheets_connector.inwise import client as client_module
from sheets_connector.state import feed
from sheets_connector.sync import Collaborators, pull_new, sync

ENV = {"INWISE_API_KEY": "test-key"}


def _sign_ups(sandbox, n: int, prefix: str = "web") -> None:
    text = "Email\n" + "".join(f"{prefix}{j}@example.com\n" for j in range(n))
    requests.post(sandbox.base_url + "/contacts/batchInsert", headers={"X-API-Key": "test-key"}, timeout=60,
                  json={"csv_file": text, "fields_mapping": [{"field_name": "[Email]", "file_column_name": "Email"}]}
                  ).raise_for_status()


def test_each_feed_answer_is_decoded_once(tmp_path, sandbox, state_dir, monkeypatch):
    decoded: list[int] = []
    store_parse, client_parse = feed.parse, client_module.parse_feed_page
    monkeypatch.setattr(feed, "parse", lambda raw: (decoded.append(len(raw)), store_parse(raw))[1])
    monkeypatch.setattr(client_module, "parse_feed_page", lambda text: (decoded.append(-1), client_parse(text))[1])
    client_message = client_module.parse_message  # an answer's message, read for the key check: not of a 2xx
    monkeypatch.setattr(client_module, "parse_message",
                        lambda text: (decoded.append(-2) if len(text) > 10_000 else None, client_message(text))[1])

    wb = write_workbook(tmp_path / "contacts.xlsx", [[f"N{i}", "T", f"p{i}@example.com", None, None] for i in range(3)])
    cfg = make_config(tmp_path, sandbox.base_url, mode="batch")
    _sign_ups(sandbox, 2500)  # with the sheet's 3 rows: 2503 new contacts, three answers of the feed
    s = sync(cfg, Collaborators(environ=ENV))
    assert s.api_calls["GET /contacts"] == 3 and s.new_contacts_appended == 2503
    assert len(decoded) == 3 and min(decoded) > 0  # once each, by the store, never by the client
    assert len(tab_rows(wb, "New contacts")) == 2504
    assert s.counts["created"] == 3  # the rows settled against the feed read once

    decoded.clear()
    _sign_ups(sandbox, 1, prefix="late")
    assert pull_new(cfg, Collaborators(environ=ENV)).new_contacts_appended == 1
    assert len(decoded) == 1
