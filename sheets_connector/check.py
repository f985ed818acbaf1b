"""What ``sheets-connector check`` says about the source before the mapping and the preview.

For a Google Sheet, the questions staff get stuck on: which account the connector signs in as
(a service account's email is the address to share the sheet with), whether the sheet is shared
with it as an editor, and which tabs it sees.  Lines go to ``emit`` as soon as they are known, so
"connects as ..." is shown even when the next step fails; a failure is the clear error of the
table (not shared, shared for viewing only, tab protected, no such tab), raised after it.

Requests: one metadata read and one write that changes nothing (see
``GoogleSheetTable.check_can_edit``).  Nothing is sent to inwise.  An .xlsx source adds no lines:
the mapping table that follows names the file.

``result_placement`` says where the results columns will go (the rule of
``tables.result_columns``) and which columns holding data without a header were passed over.
``check`` runs the same ``check_writable`` as ``sync`` (which, for a workbook, also refuses a
results column that would cut through a table, pivot table, array formula or merged cells),
so whatever ``sync`` would refuse before sending, ``check`` refuses first, with the same words.
"""
from __future__ import annotations

from collections.abc import Callable

from .config import Config
from .messages.catalog import msg, render
from .normalize import header_key
from .tables.base import Table
from .tables.gsheet import GoogleSheetTable
from .tables.result_columns import ColumnPlan, letter
from .tables.xlsx import XlsxTable


def describe_source(config: Config, table: Table, emit: Callable[[str], None]) -> None:
    """Emit who the connector connects as and what it sees; raise the table's clear error if it cannot."""
    if not isinstance(table, GoogleSheetTable):
        return
    def say(key: str, **values: object) -> str:
        return render(msg(key, **values), config.language)

    emit(say("check.connects_as", account=table.account))
    sheet = table.summary()  # opens the spreadsheet: not shared / wrong address / no such tab raise here
    emit(say("check.spreadsheet", title=sheet.spreadsheet_title, url=sheet.url))
    table.check_writable()  # a protected contacts tab
    table.check_can_edit()  # shared for viewing only
    emit(say("check.shared"))
    new_tab = config.new_contacts.tab if config.new_contacts.enabled else None
    labels = []
    for title in sheet.tabs:
        if title == sheet.worksheet:
            labels.append(say("check.tab_contacts", title=title))
        elif new_tab and header_key(title) == header_key(new_tab):
            labels.append(say("check.tab_new_contacts", title=title))
        else:
            labels.append(say("check.tab", title=title))
    emit(say("check.tabs", tabs=", ".join(labels)))
    if new_tab and not any(header_key(t) == header_key(new_tab) for t in sheet.tabs):
        emit(say("check.tab_missing", title=new_tab))


def result_placement(config: Config, table: Table, location: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """([(label, column letter, header and whether it is new)], [warnings]) for the results
    columns the mapping asks for; nothing for a table that cannot tell."""
    r = config.results
    wanted = [(label, h) for label, h in (("results", r.column), ("contact_id", r.contact_id_column),
                                          ("synced_at", r.synced_at_column)) if h]
    titles = list(dict.fromkeys(h for _label, h in wanted))
    plan: ColumnPlan
    if isinstance(table, (XlsxTable, GoogleSheetTable)):
        plan = table.plan_result_columns(titles)
    else:
        return [], []
    rows = []
    for label, h in wanted:
        col = plan.columns.get(h)
        where = letter(col) if col else render(msg("check.no_room"), config.language)
        shown = render(msg("check.new_column", header=h), config.language) if h in plan.new else h
        rows.append((render(msg(f"check.to_{label}"), config.language), where, shown))
    warnings = []
    note = plan.skipped_note(location)
    if note:
        warnings.append(note)
    return rows, warnings
