"""The YAML mapping: valid files load, every mistake is one clear message with key path and line."""
from __future__ import annotations

from pathlib import Path

import pytest

from sheets_connector.config import json_schema, load_config, parse_config
from sheets_connector.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """\
source:
  type: xlsx
  path: contacts.xlsx
columns:
  email: Email
"""


def err(text: str) -> str:
    with pytest.raises(ConfigError) as e:
        parse_config(text, where="mapping.yaml")
    assert e.value.exit_code == 2
    return str(e.value)


def test_example_mapping_at_repo_root_loads():
    cfg = load_config(ROOT / "mapping.example.yaml")
    assert cfg.source.path == "contacts.xlsx"
    assert cfg.columns.field_columns()[21].date_format == "dd/mm/yyyy"
    assert cfg.inwise.mode == "upsert" and cfg.inwise.groups == [715983]
    assert cfg.inwise.mobile.region == "IL" and cfg.inwise.mobile.calling_code == "972"
    assert cfg.resolve_path(cfg.source.path) == ROOT / "contacts.xlsx"  # relative to the mapping file
    assert cfg.state_path() == ROOT / ".sheets-connector"


def test_bundled_demo_mapping_loads():
    cfg = load_config(ROOT / "sheets_connector" / "examples" / "mapping.yaml")
    assert set(cfg.columns.field_columns()) == {1, 2, 6, 21}


def test_defaults():
    cfg = parse_config(MINIMAL)
    assert cfg.inwise.base_url == "https://api.inwise.com/rest/v1"
    assert cfg.inwise.api_key_env == "INWISE_API_KEY"
    assert cfg.results.column == "Sync result"
    assert cfg.new_contacts.tab == "New contacts"
    assert cfg.source.header_row == 1 and cfg.source.worksheet is None


def test_unknown_key_names_line_and_suggests():
    msg = err(MINIMAL + "inwise:\n  modee: batch\n")
    assert "line 7" in msg and "inwise.modee" in msg and "did you mean 'mode'" in msg


def test_bad_enum_value_names_allowed_values_and_line():
    msg = err(MINIMAL + "inwise:\n  mode: bulk\n")
    assert "line 7" in msg and "inwise.mode" in msg and "'upsert'" in msg and "'batch'" in msg and "bulk" in msg


def test_missing_source_path():
    msg = err("source:\n  type: xlsx\ncolumns:\n  email: Email\n")
    assert "source.path" in msg and "required" in msg and "line 1" in msg


def test_needs_email_or_mobile():
    msg = err("source: {type: xlsx, path: a.xlsx}\ncolumns:\n  fields: {1: First}\n")
    assert "columns" in msg and "email" in msg and "mobile" in msg


def test_wrong_type_is_plain_words():
    msg = err(MINIMAL + "inwise:\n  concurrency: lots\n")
    assert "inwise.concurrency" in msg and "whole number" in msg and "line 7" in msg


def test_field_number_must_be_positive():
    msg = err(MINIMAL + "  fields:\n    0: First name\n")
    assert "field numbers start at 1" in msg


def test_bad_date_format_is_reported():
    msg = err(MINIMAL + "  fields:\n    21: {column: Birthday, date_format: banana}\n")
    assert "columns.fields.21.date_format" in msg and "line 7" in msg


def test_api_key_itself_in_api_key_env_is_refused_without_echoing_it():
    key = "a1b2-c3d4-e5f6-secret"
    msg = err(MINIMAL + f"inwise:\n  api_key_env: '{key}'\n")
    assert "NAME of an environment variable" in msg
    assert key not in msg


def test_unknown_country():
    msg = err(MINIMAL + "inwise:\n  mobile: {default_country: XX}\n")
    assert "inwise.mobile.default_country" in msg


def test_results_column_cannot_overwrite_an_input_column():
    msg = err(MINIMAL + "results:\n  column: email\n")
    assert "overwrite what you typed" in msg


def test_yaml_syntax_error_has_line():
    msg = err("source:\n  type: xlsx\n  path: [unclosed\ncolumns:\n  email: Email\n")
    assert "not valid YAML" in msg and "line" in msg


def test_not_a_mapping():
    assert "set of keys" in err("- just\n- a list\n")


def test_unknown_source_type():
    msg = err("source: {type: csv, path: a.csv}\ncolumns: {email: Email}\n")
    assert "source" in msg and "xlsx" in msg


def test_new_contacts_unknown_attribute_suggests():
    msg = err(MINIMAL + "new_contacts:\n  columns: [id, emial]\n")
    assert "emial" in msg and "did you mean 'email'" in msg


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path / "nope.yaml")
    assert "not found" in str(e.value) and "sheets-connector init YOUR-WORKBOOK.xlsx" in str(e.value)


def test_api_key_from_environment_only():
    cfg = parse_config(MINIMAL)
    assert cfg.api_key({"INWISE_API_KEY": " k-123 "}) == "k-123"
    with pytest.raises(ConfigError) as e:
        cfg.api_key({})
    assert "INWISE_API_KEY" in str(e.value) and "export" in str(e.value)


def test_json_schema_documents_fields():
    schema = json_schema()
    assert "source" in schema["properties"] and "columns" in schema["properties"]
