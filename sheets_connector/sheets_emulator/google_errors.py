"""Google's own error answers that a client must tell apart, as Google words and shapes them.

``SheetsEmulator.fail_next(error=NAME)`` answers with one of these instead of a generic fault,
so the connector's advice is tested against the body a real project gets:

- ``service_disabled``: the Sheets API is off in the caller's Cloud project (403 with an
  ``ErrorInfo`` detail, reason SERVICE_DISABLED, and a ``Help`` link to enable it);
- ``access_not_configured``: the same in Google's older shape (``errors[].reason``);
- ``unsupported_document``: the key is an .xlsx file stored in Drive, opened in Sheets but not
  converted (400 FAILED_PRECONDITION).
"""
from __future__ import annotations

from typing import Any

PROJECT = "123456789012"  # the project number Google puts in the answer (a made-up one)
_ACTIVATE = f"https://console.developers.google.com/apis/api/sheets.googleapis.com/overview?project={PROJECT}"
_DISABLED_MESSAGE = (
    f"Google Sheets API has not been used in project {PROJECT} before or it is disabled. Enable it by visiting "
    f"{_ACTIVATE} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our "
    "systems and retry."
)


def google_error(name: str) -> tuple[int, dict[str, Any]]:
    """(status, body) of the named error; KeyError for an unknown name."""
    if name == "service_disabled":
        return 403, {"error": {"code": 403, "message": _DISABLED_MESSAGE, "status": "PERMISSION_DENIED", "details": [
            {"@type": "type.googleapis.com/google.rpc.Help",
             "links": [{"description": "Google developers console API activation", "url": _ACTIVATE}]},
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED", "domain": "googleapis.com",
             "metadata": {"consumer": f"projects/{PROJECT}", "service": "sheets.googleapis.com",
                          "activationUrl": _ACTIVATE, "serviceTitle": "Google Sheets API", "containerInfo": PROJECT}},
        ]}}
    if name == "access_not_configured":
        return 403, {"error": {"code": 403, "message": _DISABLED_MESSAGE, "status": "PERMISSION_DENIED", "errors": [
            {"message": _DISABLED_MESSAGE, "domain": "usageLimits", "reason": "accessNotConfigured",
             "extendedHelp": "https://console.developers.google.com"}]}}
    if name == "unsupported_document":
        return 400, {"error": {"code": 400, "message": "This operation is not supported for this document",
                               "status": "FAILED_PRECONDITION"}}
    raise KeyError(name)


NAMES = ("service_disabled", "access_not_configured", "unsupported_document")
