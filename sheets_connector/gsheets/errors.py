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

__all__ = ["api_not_enabled_project", "explain_api_error", "explain_refresh_error", "ENABLE_URL"]

ENABLE_URL = "https://console.cloud.google.com/apis/library/sheets.googleapis.com?project={project}"
_DISABLED_REASONS = {"SERVICE_DISABLED", "accessNotConfigured", "API_DISABLED"}
_PROJECT_IN_TEXT = re.compile(r"project[ =:/]+([A-Za-z0-9-]+)")
TESTING_HINT = (
    "If this happens about every 7 days, the OAuth app is still in 'Testing': Google ends the logins of a Testing app "
    "after 7 days. In Google Cloud open APIs & Services > OAuth consent screen and click 'Publish app' (In production), "
    "or make it Internal if your organisation uses Google Workspace; see the README, 'Google Sheets setup'."
)


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


def _verb(doing: str) -> str:
    return "open" if "read" in doing or "open" in doing else "change"


def explain_api_error(e: APIError, doing: str, sheet: str, *, account: str, account_email: str | None,
                      tries: int, oauth: bool) -> str:
    """The message for a Sheets API error ``e`` met while ``doing`` something to ``sheet``."""
    code = e.response.status_code
    error: Mapping[str, Any] = e.error if isinstance(e.error, Mapping) else {}
    message = str(error.get("message", ""))
    if code == 403:
        project = api_not_enabled_project(error)
        if project is not None:
            where = f"the Google Cloud project {project}" if project else "the Google Cloud project of the credentials"
            link = ENABLE_URL.format(project=project) if project else "https://console.cloud.google.com/apis/library/sheets.googleapis.com"
            made = "the OAuth client" if oauth else "the service account"
            return (f"The Google Sheets API is not enabled in {where}, where {made} was made, so Google refuses every "
                    f"request of {account}. Open {link} and click Enable (someone allowed to manage that project can do "
                    "it: forward them this link), wait a few minutes, and run again. Nothing was sent to the sheet.")
        if "protected" in message.lower():
            return (f"{sheet}: the cells the connector writes are protected, so {account} may not change "
                    "them (Data > Protect sheets and ranges). Remove the protection or add that account as an editor of it.")
        if _verb(doing) == "change":
            # it could read the sheet a moment ago: the share lets it view, not edit
            fix = (f"In Google Sheets click Share, make {account_email} an Editor" if account_email
                   else "Ask the owner to make you an Editor of it")
            return (f"{sheet} is shared with {account_email or 'you'} for viewing only, so the results could not be "
                    f"written into it. {fix}, and run again.")
        if account_email:
            return (f"{sheet} is not shared with the service account {account_email} (or only for viewing), "
                    f"so the connector cannot open it. In Google Sheets click Share, add {account_email} as an "
                    "Editor, and run again. If Google says your organisation does not allow sharing outside it, see "
                    "the README ('Google Sheets setup', sharing blocked).")
        return f"{account} may not open {sheet}. Ask the owner to share it with you as an Editor, and run again."
    if code == 400 and "not supported for this document" in message.lower():
        return (f"This is an Excel file (.xlsx) stored in Google Drive, not a Google Sheet ({sheet}), so Google Sheets' API "
                "cannot read or write it. Open it in Google Sheets, choose File > Save as Google Sheets, and put the "
                "address of the new Google Sheet in source.spreadsheet in the mapping (staff then work in the new "
                "one). Nothing was sent.")
    if code == 400 and message.startswith("Unable to parse range"):
        return (f"{sheet}: the tab is gone (deleted or renamed) while the connector was {doing}. Nothing more was "
                "written. If it was renamed, set source.worksheet in the mapping to its new name; if it was deleted by "
                "mistake, bring it back (File > Version history) and run again.")
    if code == 404:
        return (f"Google has no spreadsheet {sheet}. Check source.spreadsheet in the mapping: open the sheet in "
                "the browser and copy the whole address from the address bar.")
    if code == 401:
        if oauth:
            return (f"Google did not accept the login of {account} while {doing}. Run again to sign in anew. "
                    + TESTING_HINT)
        return (f"Google did not accept the credentials of {account} while {doing}. Check the credentials "
                "file (a service-account key must not have been deleted in Google Cloud) and run again.")
    if code == 429:
        after = e.response.headers.get("Retry-After")
        wait = _dt.timedelta(seconds=float(after)) if after and after.replace(".", "", 1).isdigit() else _dt.timedelta(minutes=1)
        when = (_dt.datetime.now() + wait).strftime("%H:%M")
        return (f"Google Sheets' request quota is used up (about 60 reads and 60 writes a minute per account, shared by "
                f"every sheet that account syncs) while {doing}; the connector tried {tries} times. Nothing more was "
                f"sent to the sheet. Try again in about a minute (after {when}).")
    if code >= 500:
        return (f"Google Sheets had a problem on its side (error {code}: {message or 'no details'}) while {doing}, "
                f"{tries} times in a row. This is usually temporary: try again in a few minutes.")
    return f"Google Sheets refused a request while {doing} (error {code}): {message or 'no details'}."


def explain_refresh_error(e: RefreshError, account: str, *, oauth: bool, login_removed: str | None = None) -> str:
    """The message when Google's token endpoint refuses the credentials."""
    text = str(e.args[0]) if e.args else ""
    reason = text.split(":", 1)[0].strip() if ":" in text else text
    said = f" ({reason})" if reason else ""
    if oauth:
        again = (f"The saved login was removed ({login_removed}): run again and sign in in the browser that opens."
                 if login_removed else "Delete the saved Google login in the connector's state folder and run again "
                 "to sign in.")
        return f"Your Google login ({account}) has expired or was withdrawn, so Google refused it{said}. {again} {TESTING_HINT}"
    return (f"Google refused to sign in {account}{said}: its key was deleted or disabled in Google Cloud, or this "
            "computer's clock is wrong. Create a new key (Google Cloud > IAM & Admin > Service accounts > the account > "
            "Keys > Add key > JSON), point source.credentials at it, and run again. If your organisation does not allow "
            "new keys, use auth: oauth instead (README, 'Google Sheets setup').")
