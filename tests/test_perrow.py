"""What a row's groups, consent and do-not-sync cells make of it (the mapping, one row at a time),
and the mapping's own checks of those keys."""
from __future__ import annotations

import datetime as dt

import pytest

from sheets_connector.config import parse_config
from sheets_connector.contacts import ContactMapper
from sheets_connector.errors import ConfigError
from sheets_connector.inwise import contact_body
from sheets_connector.sync import send_options
from sheets_connector.tables.base import SourceRow

HEADER = ["Email", "Groups", "Consent", "Hold"]


def cfg_text(columns: str = "", mode: str = "upsert", top: str = "") -> str:
    return f"""\
source: {{type: xlsx, path: c.xlsx}}
columns:
  email: Email
{columns}
groups:
  VIP: 715001
  Newsletter: 721129
  'לקוחות חמים': 730002
{top}
inwise: {{mode: {mode}}}
"""


def mapper(columns: str, **kw) -> ContactMapper:
    return ContactMapper(parse_config(cfg_text(columns, **kw)), HEADER, "c.xlsx")


def row(*values, number: int = 2):
    m = mapper_cache.normalize_row(SourceRow(number, list(values)))  # each row on its own (no duplicate check)
    assert m is not None
    return m


mapper_cache: ContactMapper


def use(columns: str, **kw) -> ContactMapper:
    global mapper_cache
    mapper_cache = mapper(columns, **kw)
    return mapper_cache


@pytest.mark.parametrize("cell", ["yes", "YES ", "Y", "TRUE", True, "כן", "✓", "✔", "x", 1, "מאשר",
                                  dt.date(2025, 3, 1), dt.datetime(2025, 3, 1, 10, 30), "01/03/2025", "2025-03-01"])
def test_consent_words_that_mean_yes(cell):
    use("  consent: Consent")
    m = row("dana@example.com", None, cell)
    assert m.contact is not None and m.contact.confirmation_status == "confirmed"


@pytest.mark.parametrize("cell", ["no", "No", "FALSE", False, "לא", "✗", 0, None, "  "])
def test_consent_words_that_mean_no(cell):
    use("  consent: Consent")
    m = row("dana@example.com", None, cell)
    assert m.contact is None and m.problem is not None and m.problem.kind == "no_consent"
    assert m.problem.text().startswith("not sent: no consent to marketing messages ('Consent' ")


def test_an_unclear_consent_word_is_an_invalid_row_and_words_can_be_added():
    use("  consent: Consent")
    m = row("dana@example.com", None, "maybe")
    assert m.problem is not None and m.problem.kind == "invalid"
    assert "'maybe' (column 'Consent') is neither yes nor no" in m.problem.text()
    use("  consent: {column: Consent, yes_words: [maybe, 'בטח'], no_words: [never, on]}")
    assert row("dana@example.com", None, "Maybe").contact is not None
    assert row("dana@example.com", None, "בטח").contact is not None
    assert row("dana@example.com", None, "never").problem.kind == "no_consent"
    use("  consent: {column: Consent, yes: [perhaps], no: [nope]}")  # as staff write them (YAML: true/false keys)
    assert row("dana@example.com", None, "perhaps").contact is not None
    assert row("dana@example.com", None, "nope").problem.kind == "no_consent"


def test_without_consent_can_send_another_status_and_a_change_of_consent_changes_the_contact():
    use("  consent: {column: Consent, without_consent: unsubscribed}")
    no = row("dana@example.com", None, "no").contact
    yes = row("dana@example.com", None, "yes").contact
    assert no is not None and no.confirmation_status == "unsubscribed"
    assert contact_body(no, send_options(parse_config(cfg_text())))["confirmation_status"] == "unsubscribed"
    assert yes is not None and yes.confirmation_status == "confirmed"


def test_without_consent_cannot_be_confirmed():
    with pytest.raises(ConfigError, match="cannot be sent as confirmed"):
        parse_config(cfg_text("  consent: {column: Consent, without_consent: confirmed}"))


def test_groups_by_name_or_id_separated_by_commas_semicolons_and_new_lines():
    use("  groups: Groups")
    m = row("dana@example.com", "vip ;Newsletter\nלקוחות  חמים, 999")
    assert m.contact is not None and m.contact.groups == (999, 715001, 721129, 730002)
    assert m.contact.remove_groups == () and not m.contact.only_these_groups
    assert row("a@example.com", 715001.0).contact.groups == (715001,)  # an ID typed as a number
    assert row("b@example.com", None).contact.groups == ()  # add mode: an empty cell adds nothing


def test_an_unknown_group_names_it_and_the_known_names():
    use("  groups: Groups")
    m = row("dana@example.com", "VIP, Newsleter, Gold")
    assert m.contact is None and m.problem.kind == "invalid" and m.problem.column == "Groups"
    assert m.problem.text().startswith("unknown groups 'Newsleter', 'Gold' in column 'Groups' - the groups in the "
                                        "mapping are: VIP, Newsletter, לקוחות חמים;")


def test_exactly_removes_the_other_known_groups_and_never_leaves_a_contact_in_no_group():
    use("  groups: {column: Groups, mode: exactly}")
    c = row("dana@example.com", "VIP").contact
    body = contact_body(c, send_options(parse_config(cfg_text())))
    assert body["add_to_groups_ids"] == [715001] and body["remove_from_groups_ids"] == [721129, 730002]
    assert "remove_from_all_other_groups" not in body
    m = row("b@example.com", None)
    assert m.problem is not None and "take the contact out of every group" in m.problem.text()
    use("  groups: {column: Groups, mode: exactly_all}")
    body = contact_body(row("c@example.com", "VIP").contact, send_options(parse_config(cfg_text())))
    assert body["remove_from_all_other_groups"] is True and "remove_from_groups_ids" not in body


def test_mapping_groups_still_apply_to_every_row():
    cfg = parse_config(cfg_text("  groups: Groups").replace("inwise: {mode: upsert}", "inwise: {groups: [1]}"))
    m = ContactMapper(cfg, HEADER, "c.xlsx").map_row(SourceRow(2, ["d@example.com", "VIP"]))
    assert contact_body(m.contact, send_options(cfg))["add_to_groups_ids"] == [1, 715001]


@pytest.mark.parametrize("cell,held", [("x", True), (True, True), ("hold", True), ("yes", True), (None, False),
                                       (False, False), ("no", False), ("לא", False), ("FALSE", False)])
def test_do_not_sync_holds_on_any_value_but_no(cell, held):
    use("  do_not_sync: Hold")
    m = row("dana@example.com", None, None, cell)
    assert (m.problem is not None and m.problem.kind == "held") is held


def test_do_not_sync_with_chosen_values_and_before_any_check():
    use("  do_not_sync: {column: Hold, values: [hold, 'עצור']}")
    assert row("dana@example.com", None, None, "x").contact is not None
    m = row("not-an-email", None, None, "עצור")
    assert m.problem.kind == "held" and m.problem.text().startswith("held back ('Hold' is 'עצור')")
    use("  do_not_sync: {column: Hold, values: [yes]}")  # YAML reads yes as true: still the word
    assert row("dana@example.com", None, None, True).problem.kind == "held"
    assert row("dana@example.com", None, None, "Yes").problem.kind == "held"
    assert row("dana@example.com", None, None, "x").contact is not None


def test_batch_mode_refuses_what_batch_insert_cannot_do():
    with pytest.raises(ConfigError, match="batchInsert can add contacts to a group but not remove"):
        parse_config(cfg_text("  groups: {column: Groups, mode: exactly}", mode="batch"))
    with pytest.raises(ConfigError, match="without_consent needs mode: upsert"):
        parse_config(cfg_text("  consent: {column: Consent, without_consent: unsubscribed}", mode="batch"))


def test_group_table_checks():
    with pytest.raises(ConfigError, match="positive number"):
        parse_config(cfg_text(top="").replace("VIP: 715001", "VIP: 0"))
    with pytest.raises(ConfigError, match="are the same name"):
        parse_config(cfg_text().replace("Newsletter: 721129", "vip: 721129"))


def test_consent_column_may_also_feed_a_personal_field():
    m = use("  consent: Consent\n  fields: {30: Consent}")
    c = row("dana@example.com", None, dt.date(2025, 3, 1)).contact
    assert c is not None and c.field_dict() == {30: "01/03/2025"} and c.confirmation_status == "confirmed"
    assert m is mapper_cache


def test_check_and_the_dry_run_show_the_columns_and_each_rows_groups_and_status(tmp_path):
    import json

    from click.testing import CliRunner
    from util import write_workbook

    from sheets_connector.cli import main

    write_workbook(tmp_path / "c.xlsx", [["dana@example.co.il", "VIP, Newsletter", True, None],
                                         ["ruth@example.com", "Newsletter", "לא", None],
                                         ["held@example.com", "VIP", "כן", "x"]], header=HEADER, sheet="Sheet")
    (tmp_path / "m.yaml").write_text(cfg_text("  groups: Groups\n  consent: Consent\n  do_not_sync: Hold"),
                                     encoding="utf-8")
    env = {"COLUMNS": "200", "INWISE_API_KEY": "k"}
    r = CliRunner().invoke(main, ["check", "--config", str(tmp_path / "m.yaml")], env=env, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    table = [[c.strip() for c in line.split("│")[1:-1]] for line in r.output.splitlines() if "│" in line]
    assert ["groups", "B", "Groups"] in table and ["consent", "C", "Consent"] in table
    assert ["do not sync", "D", "Hold"] in table
    assert "3 rows with data: 1 ready to send, 1 held back, 1 without consent (not sent), 0 need attention." in r.output
    assert "row 2: dana@example.co.il · groups = VIP, Newsletter · status = confirmed" in r.output
    r = CliRunner().invoke(main, ["sync", "--config", str(tmp_path / "m.yaml"), "--dry-run", "--json"], env=env,
                           catch_exceptions=False)
    summary = json.loads(r.stdout)
    assert summary["counts"]["held"] == 1 and summary["counts"]["no_consent"] == 1 and summary["problems"] == []
    assert summary["preview"] == [{"row": 2, "email": "dana@example.co.il", "fields": [],
                                   "confirmation_status": "confirmed", "add_to_groups_ids": [715001, 721129]}]
