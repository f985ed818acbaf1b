"""The service's allow-list: mapping files -> spreadsheet id, secret(s), schedule."""
from __future__ import annotations

from pathlib import Path

import pytest

from sheets_connector.config import parse_config
from sheets_connector.errors import ConfigError
from sheets_connector.service.sheets import load_registry

SECRET = "s3cret-value-abcdefghijkl"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_each_mapping_names_its_spreadsheet_and_secret(tmp_path: Path) -> None:
    write(tmp_path, "sales.yaml", "service:\n  spreadsheet_id: sales-1\n  secret_env: SALES\nsource: {type: xlsx, path: a.xlsx}\n")
    (tmp_path / "secrets").mkdir()
    write(tmp_path / "secrets", "hr.txt", "old-secret-0123456789\nnew-secret-0123456789\n")
    write(tmp_path, "hr.yml", "service:\n  secret_file: secrets/hr.txt\nsource:\n  type: google_sheet\n"
          "  spreadsheet: https://docs.google.com/spreadsheets/d/1AbC-d_9/edit#gid=0\n"
          "schedule: '0 7 * * 1-5'\ntimezone: Asia/Jerusalem\n")
    write(tmp_path, "notes.txt", "not a mapping")
    reg = load_registry(tmp_path, environ={"SALES": SECRET})
    assert sorted(s.spreadsheet_id for s in reg) == ["1AbC-d_9", "sales-1"]
    sales, hr = reg.get("sales-1"), reg.get("1AbC-d_9")
    assert sales is not None and hr is not None
    assert sales.secrets == (SECRET.encode(),) and sales.schedule is None
    assert hr.secrets == (b"old-secret-0123456789", b"new-secret-0123456789")
    assert (hr.schedule, hr.timezone) == ("0 7 * * 1-5", "Asia/Jerusalem")
    assert hr.config_path == (tmp_path / "hr.yml").resolve()
    assert set(reg.secrets()) == {SECRET.encode(), b"old-secret-0123456789", b"new-secret-0123456789"}
    assert SECRET not in repr(sales)


@pytest.mark.parametrize(("text", "env", "message"), [
    ("source: {type: xlsx}\n", {}, "add a service: section"),
    ("service: {spreadsheet_id: x}\n", {}, "exactly one of service.secret_env or service.secret_file"),
    ("service: {spreadsheet_id: x, secret_env: A, secret_file: f}\n", {"A": SECRET}, "exactly one"),
    ("service: {secret_env: A}\nsource: {type: xlsx}\n", {"A": SECRET}, "add service.spreadsheet_id"),
    ("service: {spreadsheet_id: x, secret_env: MISSING}\n", {}, "environment variable MISSING is empty or not set"),
    ("service: {spreadsheet_id: x, secret_env: A}\n", {"A": "short-secret"}, "shorter than 16 characters"),
    ("service: {spreadsheet_id: x, secret_file: nope.txt}\n", {}, "cannot read the secret file nope.txt"),
    ("service: {spreadsheet_id: x, secret_env: A}\nschedule: '0 7 * *'\ntimezone: UTC\n", {"A": SECRET},
     "not a cron expression"),
    ("service: {spreadsheet_id: x, secret_env: A}\nschedule: '0 7 * * *'\n", {"A": SECRET}, "schedule needs a timezone"),
    ("service: {spreadsheet_id: x, secret_env: A}\nschedule: '0 7 * * *'\ntimezone: Mars/Base\n", {"A": SECRET},
     "unknown time zone 'Mars/Base'"),
    ("service: {spreadsheet_id: x, secret_env: A, url: 'http://x'}\n", {"A": SECRET}, "service.url"),
    ("service: {secret_env: A}\nsource: {type: google_sheet, spreadsheet: 'my sheet'}\n", {"A": SECRET},
     "source.spreadsheet 'my sheet' is neither the address of a Google spreadsheet nor its key"),
    ("- just\n- a list\n", {}, "not a mapping file"),
    ("service: [\n", {}, "cannot read it as YAML"),
])
def test_every_problem_is_named_with_its_file_and_key(tmp_path: Path, text: str, env: dict[str, str], message: str) -> None:
    write(tmp_path, "sheet.yaml", text)
    with pytest.raises(ConfigError) as e:
        load_registry(tmp_path, environ=env)
    assert "sheet.yaml" in str(e.value) and message in str(e.value)
    for value in env.values():
        assert value not in str(e.value)


def test_two_mappings_for_one_spreadsheet_are_refused_and_all_problems_listed(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        write(tmp_path, name, "service: {spreadsheet_id: same, secret_env: A}\n")
    write(tmp_path, "c.yaml", "service: {spreadsheet_id: c, secret_env: NOPE}\n")
    with pytest.raises(ConfigError) as e:
        load_registry(tmp_path, environ={"A": SECRET})
    assert "b.yaml: spreadsheet same is already served by a.yaml" in str(e.value)
    assert "c.yaml" in str(e.value)


def test_an_empty_or_missing_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="holds no mapping file"):
        load_registry(tmp_path)
    with pytest.raises(ConfigError, match="not a folder"):
        load_registry(tmp_path / "nope")


MAPPING = "source: {type: xlsx, path: a.xlsx}\ncolumns: {email: Email}\n"


def test_the_service_keys_are_part_of_the_mapping() -> None:
    text = ("service:\n  spreadsheet_id: x\n  secret_env: A\nschedule: '0 7 * * 1-5'\ntimezone: Asia/Jerusalem\n"
            + MAPPING)
    cfg = parse_config(text)
    assert cfg.service is not None and (cfg.service.spreadsheet_id, cfg.service.secret_env) == ("x", "A")
    assert (cfg.schedule, cfg.timezone) == ("0 7 * * 1-5", "Asia/Jerusalem")
    assert parse_config(MAPPING).service is None


@pytest.mark.parametrize(("text", "message"), [
    ("service:\n  spreadsheet_id: x\n  secret_env: A\n  url: http://x\n", "<m>, line 4: service.url: unknown key 'url'"),
    ("service:\n  spreadsheet_id: x\n", "<m>, line 1: service: give exactly one of service.secret_env or service.secret_file"),
    ("schedule: '0 7 * *'\ntimezone: UTC\n", "<m>, line 1: schedule: '0 7 * *' is not a cron expression"),
    ("timezone: Mars/Base\n", "<m>, line 1: timezone: unknown time zone 'Mars/Base'"),
    ("\nschedule: '0 7 * * *'\n", "<m>, line 2: schedule: schedule needs a timezone"),
])
def test_service_keys_are_checked_with_the_line_they_are_on(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(text + MAPPING, where="<m>")
    assert message in str(e.value)


def test_a_secret_shared_by_two_spreadsheets_is_refused_naming_both(tmp_path: Path) -> None:
    write(tmp_path, "sales.yaml", "service: {spreadsheet_id: sales-1, secret_env: SALES}\n")
    write(tmp_path, "hr.yaml", "service: {spreadsheet_id: hr-1, secret_env: HR}\n")
    write(tmp_path, "ops.yaml", "service: {spreadsheet_id: ops-1, secret_env: OPS}\n")
    shared = "shared-secret-0123456789"
    with pytest.raises(ConfigError) as e:  # HR is rotating: its old secret is the one sales uses
        load_registry(tmp_path, environ={"SALES": shared, "HR": f"{shared} new-hr-secret-0123456789",
                                         "OPS": "ops-secret-0123456789"})
    message = str(e.value)
    assert "hr.yaml and sales.yaml use the same webhook secret" in message
    assert "ops.yaml" not in message and shared not in message
    reg = load_registry(tmp_path, environ={"SALES": "sales-secret-0123456789", "HR": "new-hr-secret-0123456789",
                                           "OPS": "ops-secret-0123456789"})
    assert len(reg) == 3
