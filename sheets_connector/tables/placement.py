"""Where each result goes when the rows may have moved since they were read.

Staff keep working in a shared sheet while a sync runs: they insert rows, delete rows, sort.
Just before writing, the table re-reads the rows and this module matches every ``RowRef``
(the row number at read time + the row's key) to the row that holds it NOW:

- A row with a key (email, else mobile) goes to the current row with the same key.  The
  result is only ever written on a row of the same contact.
  - The key is gone (row deleted, or its email/mobile changed): nothing is written.
  - The key is on as many rows now as when read (usually one): the rows are paired in sheet
    order.  Inserting or deleting other rows keeps that order; a sort may swap two rows of the
    same contact, and then each gets the other's result - still the same contact.
  - The key is on MORE rows now (someone copied the row or typed the contact again): the
    result is written on NEITHER.  The new copy was never sent, and nothing tells which of the
    rows was; writing "synced" on both would claim that a row nobody sent was sent.  The run
    summary says so and the next sync handles both rows.
  - The key is on FEWER rows now (one of the contact's duplicate rows was deleted): nothing
    is written, since nothing tells which one was deleted.
- A row without a key (no usable email or mobile: its result is a problem to fix) is matched
  by its content: a hash of all its cells, as read.  It goes to the one current row without a
  key whose cells are identical; if several identical keyless rows exist now and as many were
  read, they are paired in order (identical cells give identical results).  A keyless row that
  was edited, or whose identical twins changed in number, gets nothing: there is no safe way
  to find it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .base import RowKey, RowRef, Unplaced


@dataclass(frozen=True, slots=True)
class CurrentRow:
    number: int  # where the row is now (1-based)
    key: RowKey | None
    fingerprint: int  # hash of its cells, aligned with the header as read


def _rows(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5])
    return shown + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")


def place(refs: Iterable[RowRef], current: Sequence[CurrentRow],
          read_fingerprints: Mapping[int, int]) -> tuple[dict[RowRef, int], list[Unplaced]]:
    """({ref: current row number}, [results not placed, with the reason])."""
    now_by_key: dict[RowKey, list[int]] = {}
    now_keyless: dict[int, list[int]] = {}
    for row in current:
        if row.key is not None:
            now_by_key.setdefault(row.key, []).append(row.number)
        else:
            now_keyless.setdefault(row.fingerprint, []).append(row.number)

    by_key: dict[RowKey, list[RowRef]] = {}
    by_print: dict[int, list[RowRef]] = {}
    placed: dict[RowRef, int] = {}
    unplaced: list[Unplaced] = []
    for ref in dict.fromkeys(refs):  # unique, in the caller's order
        if ref.key is not None:
            by_key.setdefault(ref.key, []).append(ref)
            continue
        fingerprint = read_fingerprints.get(ref.number)
        if fingerprint is None:
            unplaced.append(Unplaced(ref, "the row was not part of what the connector read, so it cannot be found again"))
        else:
            by_print.setdefault(fingerprint, []).append(ref)

    for key, group in by_key.items():
        group.sort(key=lambda r: r.number)
        rows = now_by_key.get(key, [])
        if len(rows) == len(group):
            placed.update(zip(group, rows))
            continue
        if not rows:
            reason = (f"the contact ({key.value}) is no longer in the sheet: its row was deleted or its "
                      f"{key.kind} changed while the sync ran, so its result was not written")
        elif len(rows) > len(group):
            reason = (f"the contact ({key.value}) is now on rows {_rows(rows)}: a row was copied or typed again while "
                      "the sync ran, and nothing tells which row was sent, so the result was written on none of them")
        else:
            reason = (f"the contact ({key.value}) was on rows {_rows([r.number for r in group])} and is now only on "
                      f"row{'s' if len(rows) > 1 else ''} {_rows(rows)}; nothing tells which row was deleted, so no "
                      "result was written for it")
        unplaced.extend(Unplaced(ref, reason) for ref in group)

    for fingerprint, group in by_print.items():
        group.sort(key=lambda r: r.number)
        rows = now_keyless.get(fingerprint, [])
        if len(rows) == len(group):
            placed.update(zip(group, rows))
            continue
        reason = ("the row has no email or mobile to find it by, and it was changed or deleted (or identical rows "
                  "were added or removed) while the sync ran, so its result was not written")
        unplaced.extend(Unplaced(ref, reason) for ref in group)
    return placed, unplaced
