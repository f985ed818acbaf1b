"""Errors from Google that stop a person, answered as Google answers them (the emulator's
``fail_next(error=...)``, its token endpoint, its shares), for the service account and the OAuth
login alike: each message names the fix."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from gsheets_util import SHEET_HEADER, rsa_key_pair, sheet_mapping, write_key_file

from sheets_connector.cli import main
from sheets_connector.config import parse_config
from sheets_connector.errors import SourceError
from sheets_connector.gsheets.client import OAUTH_TOKEN_FILE
from sheets_connector.sheets_emulator import SheetsEmulator
from sheets_connector.tables.base import RowRef

BOT = "sync-bot@test-project.iam.gserviceaccount.com"
STAFF = "office@example.co.il"
ROWS = [SHEET_HEADER, ["Dana", "Cohen", "dana@example.co.il", "0541111111", None]]
ENABLE = "https://console.cloud.google.com/apis/library/sheets.googleapis.com?project=123456789012"


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


def _service_account(emu: SheetsEmulator, tmp_path: Path, *, registered: bool = True) -> str:
    private, public = rsa_key_pair()
    if registered:  # an unregistered key is one deleted in Google Cloud: its signature no longer checks
        emu.add_service_account(BOT, public)
    write_key_file(tmp_path / "key.json", BOT, private, emu.token_uri)
    return "credentials: key.json"


def _oauth(emu: SheetsEmulator, tmp_path: Path, *, known: bool = True) -> str:
    """A login saved by an earlier run (as gspread stores it), its refresh token known or not."""
    if known:
        emu.add_oauth_user(STAFF, "refresh-ok")
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / OAUTH_TOKEN_FILE).write_text(json.dumps({
        "refresh_token": "refresh-ok" if known else "refresh-expired", "client_id": "cid.apps.googleusercontent.com",
        "client_secret": "not-a-secret", "token_uri": emu.token_uri, "type": "authorized_user"}), encoding="utf-8")
    return "auth: oauth"


ROUTES = {"service account": (_service_account, BOT), "oauth": (_oauth, STAFF)}


def _table(emu: SheetsEmulator, tmp_path: Path, key: str, route: str, **kw):
    make, _ = ROUTES[route]
    auth = make(emu, tmp_path, **kw)
    config = parse_config(f"""
source: {{type: google_sheet, spreadsheet: {key}, worksheet: Contacts, {auth}, api_url: "{emu.api_url}"}}
columns: {{email: Email}}
state_dir: state
""", base_dir=tmp_path)
    return config.open_table()


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("error", ["service_disabled", "access_not_configured"])
def test_api_not_enabled_gives_the_link_for_that_project(emu, tmp_path, route, error):
    key = emu.create_spreadsheet({"Contacts": ROWS}, shared_with=[ROUTES[route][1]])
    t = _table(emu, tmp_path, key, route)
    emu.fail_next(1, error=error)
    with pytest.raises(SourceError) as err:
        t.read()
    text = str(err.value)
    assert "The Google Sheets API is not enabled in the Google Cloud project 123456789012" in text
    assert f"Open {ENABLE} and click Enable" in text and "run again" in text
    assert ("the OAuth client" if route == "oauth" else "the service account") in text
    assert "Share" not in text  # not the sharing advice of an ordinary 403


@pytest.mark.parametrize("route", ROUTES)
def test_an_xlsx_stored_in_drive_says_save_as_google_sheets(emu, tmp_path, route):
    key = emu.create_spreadsheet({"Contacts": ROWS}, shared_with=[ROUTES[route][1]])
    t = _table(emu, tmp_path, key, route)
    emu.fail_next(1, error="unsupported_document")
    with pytest.raises(SourceError) as err:
        t.read()
    assert "This is an Excel file (.xlsx) stored in Google Drive, not a Google Sheet (Google Sheet " in str(err.value)
    assert "File > Save as Google Sheets" in str(err.value) and "source.spreadsheet" in str(err.value)


@pytest.mark.parametrize("route", ROUTES)
def test_a_view_only_share_says_make_it_an_editor(emu, tmp_path, route):
    who = ROUTES[route][1]
    key = emu.create_spreadsheet({"Contacts": ROWS}, shared_with={who: "reader"})
    t = _table(emu, tmp_path, key, route)
    data = t.read()  # reading is allowed
    with pytest.raises(SourceError) as err:
        t.set_columns({"Sync result": {RowRef(r.number): "ok" for r in data.rows}})
    named = who if route == "service account" else "you"  # a person's login does not tell its email
    assert f"is shared with {named} for viewing only" in str(err.value) and "Editor" in str(err.value)
    assert emu.values(key, "Contacts")[0] == SHEET_HEADER  # nothing written


@pytest.mark.parametrize("route", ROUTES)
def test_a_tab_deleted_during_the_run_is_named_with_the_way_back(emu, tmp_path, route):
    key = emu.create_spreadsheet({"Contacts": ROWS, "Other": [["x"]]}, shared_with=[ROUTES[route][1]])
    t = _table(emu, tmp_path, key, route)
    t.read()

    def delete_tab() -> None:  # staff delete the tab between the read and the write
        from gsheets_util import gspread_client

        gspread_client(emu).open_by_key(key).del_worksheet_by_id(0)

    emu.share(key, emu.account)
    emu.on_request("sheets.spreadsheets.get", delete_tab)
    with pytest.raises(SourceError) as err:
        t.set_columns({"Sync result": {RowRef(2): "ok"}})
    text = str(err.value)
    assert "the tab is gone (deleted or renamed) while the connector was re-reading the rows" in text
    assert "source.worksheet" in text and "File > Version history" in text
    assert emu.tabs(key) == ["Other"]


def test_a_deleted_service_account_key_says_create_a_new_key(emu, tmp_path):
    key = emu.create_spreadsheet({"Contacts": ROWS}, shared_with=[BOT])
    t = _table(emu, tmp_path, key, "service account", registered=False)
    with pytest.raises(SourceError) as err:
        t.read()
    text = str(err.value)
    assert f"Google refused to sign in the service account {BOT} (invalid_grant)" in text
    assert "Keys > Add key > JSON" in text and "auth: oauth" in text
    assert "BEGIN" not in text and "PRIVATE" not in text


def test_an_expired_oauth_login_is_removed_and_the_7_day_testing_limit_explained(emu, tmp_path):
    key = emu.create_spreadsheet({"Contacts": ROWS}, shared_with=[STAFF])
    t = _table(emu, tmp_path, key, "oauth", known=False)
    saved = tmp_path / "state" / OAUTH_TOKEN_FILE
    with pytest.raises(SourceError) as err:
        t.read()
    text = str(err.value)
    assert "Your Google login (your Google account) has expired or was withdrawn" in text
    assert "run again and sign in in the browser that opens" in text
    assert "7 days" in text and "Publish app" in text and "Internal" in text
    assert not saved.exists()  # the next run asks to sign in instead of failing the same way
    assert "refresh-expired" not in text and "not-a-secret" not in text


def test_a_working_oauth_login_reads_the_sheet(emu, tmp_path):
    key = emu.create_spreadsheet({"Contacts": ROWS}, shared_with=[STAFF])
    assert _table(emu, tmp_path, key, "oauth").read().header == SHEET_HEADER


def test_sync_on_a_project_without_the_api_stops_before_sending(emu, tmp_path, sandbox):
    key = emu.create_spreadsheet({"Contacts": ROWS}, shared_with=[BOT])
    auth = _service_account(emu, tmp_path)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(sheet_mapping(emu, key, sandbox.base_url, source_extra=f"  {auth}\n"), encoding="utf-8")
    emu.fail_next(1, error="service_disabled")
    r = CliRunner().invoke(main, ["sync", "--config", str(mapping)],
                           env={"INWISE_API_KEY": "test-key", "GOOGLE_APPLICATION_CREDENTIALS": None},
                           catch_exceptions=False)
    assert r.exit_code == 1
    assert f"Open {ENABLE} and click Enable" in r.stderr and "Traceback" not in r.stderr
    assert sandbox.stats()["total"] == 0


# -- the same errors in a Hebrew mapping's language ---------------------------------------------
LRM = "\u200e"


def _hebrew(e: BaseException) -> str:
    from sheets_connector.messages.catalog import error_words, in_language

    return in_language(error_words(e), "he")


def test_googles_access_and_sharing_errors_in_hebrew(emu, tmp_path):
    key = emu.create_spreadsheet({"Contacts": ROWS}, shared_with={BOT: "reader"})
    t = _table(emu, tmp_path, key, "service account")
    emu.fail_next(1, error="service_disabled")
    with pytest.raises(SourceError) as err:
        t.read()
    he = _hebrew(err.value)
    assert he == (f"ה-API של Google Sheets לא מופעל בפרויקט ה-Google Cloud {LRM}123456789012{LRM}, שבו נוצר חשבון "
                  f"השירות, ולכן Google מסרבת לכל בקשה של חשבון השירות {LRM}{BOT}{LRM}. פתחו את {LRM}{ENABLE}{LRM} "
                  "ולחצו Enable (מי שמורשה לנהל את הפרויקט יכול לעשות זאת: העבירו לו את הקישור), חכו כמה דקות, "
                  "והריצו שוב. דבר לא נשלח לגיליון."), he
    emu.fail_next(1, error="unsupported_document")
    with pytest.raises(SourceError) as err:
        t.read()
    assert _hebrew(err.value).startswith("זה קובץ Excel (.xlsx) ששמור ב-Google Drive, לא גיליון Google (")
    data = t.read()
    with pytest.raises(SourceError) as err:
        t.set_columns({"Sync result": {RowRef(r.number): "ok" for r in data.rows}})
    he = _hebrew(err.value)
    assert he.endswith(f"משותף עם {LRM}{BOT}{LRM} לצפייה בלבד, ולכן לא ניתן היה לכתוב בו את התוצאות. ב-Google Sheets "
                       f"לחצו שיתוף והגדירו את {LRM}{BOT}{LRM} כעורך, והריצו שוב."), he
    assert str(err.value).endswith(f"is shared with {BOT} for viewing only, so the results could not be written into "
                                   f"it. In Google Sheets click Share, make {BOT} an Editor, and run again.")
    assert he.startswith(f"{LRM}Google Sheet{LRM} "), he  # the sheet's title as typed, the words around it Hebrew


def test_a_deleted_tab_a_revoked_key_and_an_expired_login_in_hebrew(emu, tmp_path):
    key = emu.create_spreadsheet({"Contacts": ROWS, "Other": [["x"]]}, shared_with=[BOT])
    t = _table(emu, tmp_path, key, "service account")
    t.read()

    def delete_tab() -> None:
        from gsheets_util import gspread_client

        gspread_client(emu).open_by_key(key).del_worksheet_by_id(0)

    emu.share(key, emu.account)
    emu.on_request("sheets.spreadsheets.get", delete_tab)
    with pytest.raises(SourceError) as err:
        t.set_columns({"Sync result": {RowRef(2): "ok"}})
    assert ": הלשונית נעלמה (נמחקה או ששמה שונה) בזמן שהמחבר היה בקריאה חוזרת של השורות לפני כתיבת התוצאות. דבר נוסף " \
           f"לא נכתב. אם שמה שונה, כתבו את השם החדש ב-{LRM}source.worksheet{LRM} במיפוי" in _hebrew(err.value)

    revoked = tmp_path / "revoked"
    revoked.mkdir()
    key2 = emu.create_spreadsheet({"Contacts": ROWS}, shared_with=[BOT])
    with pytest.raises(SourceError) as err:
        _table(emu, revoked, key2, "service account", registered=False).read()
    assert _hebrew(err.value).startswith(f"Google סירבה לחבר את חשבון השירות {LRM}{BOT}{LRM} ({LRM}invalid_grant{LRM}): "
                                         "המפתח שלו נמחק או הושבת ב-Google Cloud")

    expired = tmp_path / "expired"
    expired.mkdir()
    key3 = emu.create_spreadsheet({"Contacts": ROWS}, shared_with=[STAFF])
    with pytest.raises(SourceError) as err:
        _table(emu, expired, key3, "oauth", known=False).read()
    he = _hebrew(err.value)
    assert he.startswith("תוקף ההתחברות שלכם ל-Google (חשבון ה-Google שלכם) פג או שהיא בוטלה, ולכן Google סירבה לה "
                         f"({LRM}invalid_grant{LRM}). ההתחברות השמורה נמחקה ("), he
    assert "הריצו שוב והתחברו בדפדפן שייפתח." in he and "'Testing'" in he and "Your Google login" not in he


def test_a_hebrew_sync_on_a_project_without_the_api_says_it_in_hebrew(emu, tmp_path, sandbox):
    key = emu.create_spreadsheet({"Contacts": ROWS}, shared_with=[BOT])
    auth = _service_account(emu, tmp_path)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(sheet_mapping(emu, key, sandbox.base_url, source_extra=f"  {auth}\n") + "language: he\n",
                       encoding="utf-8")
    emu.fail_next(1, error="service_disabled")
    r = CliRunner().invoke(main, ["sync", "--config", str(mapping)],
                           env={"INWISE_API_KEY": "test-key", "GOOGLE_APPLICATION_CREDENTIALS": None},
                           catch_exceptions=False)
    assert r.exit_code == 1 and r.stderr.startswith("שגיאה: ה-API של Google Sheets לא מופעל בפרויקט"), r.stderr
    assert sandbox.stats()["total"] == 0
