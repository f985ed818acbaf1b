"""Google's errors turned into what a person does next.

Google answers most failures with a generic HTTP code; the useful part is in the body: an
``ErrorInfo`` detail with a ``reason`` (``SERVICE_DISABLED``), older ``errors[].reason`` values
(``accessNotConfigured``), or only the message ("This operation is not supported for this
document").  ``explain_api_error`` reads them and names the fix: the link that enables the API in
the right Google Cloud project, File > Save as Google Sheets for an .xlsx stored in Drive, which
address to share the sheet with, whether a tab disappeared.  ``explain_refresh_error`` does the
same for the token endpoint (a deleted key, an expired or withdrawn login).

Messages never contain a key, a token or a password: only the account's email, the project
number and links Google itself gives.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

from google.auth.exceptions import RefreshError
from gspread.exceptions import APIError

from ..messages.catalog import Msg, Place, msg, said

__all__ = ["api_not_enabled_project", "explain_api_error", "explain_refresh_error", "ENABLE_URL"]

ENABLE_URL = "https://console.cloud.google.com/apis/library/sheets.googleapis.com?project={project}"
_DISABLED_REASONS = {"SERVICE_DISABLED", "accessNotConfigured", "API_DISABLED"}
_PROJECT_IN_TEXT = re.compile(r"project[ =:/]+([A-Za-z0-9-]+)")
TESTING_HINT = said("gs.testing")


def _details(error: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [d for d in (error.get("details") or []) if isinstance(d, Mapping)]


def _reasons(error: Mapping[str, Any]) -> set[str]:
    found = {str(d.get("reason")) for d in _details(error) if d.get("reason")}
    found |= {str(e.get("reason")) for e in (error.get("errors") or []) if isinstance(e, Mapping) and e.get("reason")}
    return found


def api_not_enabled_project(error: Mapping[str, Any]) -> str | None:
    """The Google Cloud project (its number or id) whose Sheets API is off, if that is the error;
    ``""`` when it is that error but no project is named."""
    message = str(error.get("message", ""))
    if not (_reasons(error) & _DISABLED_REASONS) and "has not been used in project" not in message:
        return None
    for d in _details(error):
        meta = d.get("metadata") or {}
        consumer = str(meta.get("consumer") or meta.get("containerInfo") or "")
        if consumer:
            return consumer.split("/")[-1]
        for link in d.get("links") or []:
            m = re.search(r"[?&]project=([A-Za-z0-9-]+)", str(link.get("url", "")))
            if m:
                return m.group(1)
    m = _PROJECT_IN_TEXT.search(message)
    return m.group(1) if m else ""


#: what the connector does only to read: a 403 then means it may not open the sheet (else: not edit it)
_READING = {"gs.doing_open", "gs.doing_first_rows", "gs.doing_contacts", "gs.doing_read_tab", "gs.doing_reread"}


def _verb(doing: Msg) -> str:
    return "open" if doing.id in _READING else "change"


def explain_api_error(e: APIError, doing: Msg, sheet: str, *, account: str, account_email: str | None,
                      tries: int, oauth: bool) -> str:
    """The message for a Sheets API error ``e`` met while ``doing`` something to ``sheet``."""
    verb = _verb(doing)
    what, who, where_ = doing, account, Place(sheet)
    code = e.response.status_code
    error: Mapping[str, Any] = e.error if isinstance(e.error, Mapping) else {}
    message = str(error.get("message", ""))
    if code == 403:
        project = api_not_enabled_project(error)
        if project is not None:
            where = msg("gs.project", project=project) if project else msg("gs.project_unnamed")
            link = ENABLE_URL.format(project=project) if project else "https://console.cloud.google.com/apis/library/sheets.googleapis.com"
            made = msg("gs.made_oauth") if oauth else msg("gs.made_sa")
            return said("gs.api_off", where=where, made=made, account=who, link=link)
        if "protected" in message.lower():
            return said("gs.protected", sheet=where_, account=who)
        if verb == "change":
            # it could read the sheet a moment ago: the share lets it view, not edit
            return view_only(sheet, account_email)
        if account_email:
            return said("gs.not_shared", sheet=where_, email=account_email)
        return said("gs.may_not_open", account=who, sheet=where_)
    if code == 400 and "not supported for this document" in message.lower():
        return said("gs.xlsx_in_drive", sheet=where_)
    if code == 400 and message.startswith("Unable to parse range"):
        return said("gs.tab_gone", sheet=where_, doing=what)
    if code == 404:
        return said("gs.no_spreadsheet", sheet=where_)
    if code == 401:
        if oauth:
            return said("gs.login_refused", account=who, doing=what, hint=TESTING_HINT)
        return said("gs.credentials_refused", account=who, doing=what)
    if code == 429:
        after = e.response.headers.get("Retry-After")
        wait = _dt.timedelta(seconds=float(after)) if after and after.replace(".", "", 1).isdigit() else _dt.timedelta(minutes=1)
        when = (_dt.datetime.now() + wait).strftime("%H:%M")
        return said("gs.quota", doing=what, tries=tries, when=when)
    if code >= 500:
        return said("gs.google_down", code=code, message=message or msg("gs.no_details"), doing=what, tries=tries)
    return said("gs.refused", doing=what, code=code, message=message or msg("gs.no_details"))


def view_only(sheet: str, account_email: str | None) -> str:
    """The sheet is shared with the account for viewing only: the results cannot be written."""
    fix = msg("gs.fix_share", email=account_email) if account_email else msg("gs.fix_owner")
    return said("gs.view_only", sheet=Place(sheet), who=account_email or msg("gs.you"), fix=fix)


def tab_disappeared(title: str, sheet: str) -> str:
    """A tab the connector was using is gone (renamed or deleted)."""
    return said("gs.tab_disappeared", title=title, sheet=Place(sheet))


def explain_refresh_error(e: RefreshError, account: str, *, oauth: bool, login_removed: str | None = None) -> str:
    """The message when Google's token endpoint refuses the credentials."""
    text = str(e.args[0]) if e.args else ""
    reason = text.split(":", 1)[0].strip() if ":" in text else text
    why = msg("gs.reason", reason=reason) if reason else ""
    if oauth:
        again = msg("gs.login_removed", path=login_removed) if login_removed else msg("gs.login_delete")
        return said("gs.login_expired", account=account, said=why, again=again, hint=TESTING_HINT)
    return said("gs.key_refused", account=account, said=why)
