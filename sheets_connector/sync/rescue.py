"""The last resort for a feed answer the store could not take (disk failed between the room check
and the commit): its raw bytes go to a file next to the mapping, and the next run reads them back
into the store, then removes the file.  The answer has left inwise's feed: this file is then the
only place its contacts are.
"""
from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StateError
from ..fsutil import atomic_write_text
from ..state import FeedAnswer

if TYPE_CHECKING:
    from .newcontacts import FeedTarget

log = logging.getLogger(__name__)

FORMAT = "sheets-connector feed answer"
GLOB = "sheets-connector feed answer *.json"


def keep_elsewhere(raw: bytes, target: FeedTarget, why: StateError) -> StateError:
    """Write the answer to a file; returns the error to raise (it says where the answer is)."""
    now = datetime.now(timezone.utc)
    path = target.rescue_dir / f"sheets-connector feed answer {now.strftime('%Y-%m-%d %H%M%S %f')}.json"
    doc = {"format": FORMAT, "version": 1, "account": target.account, "received_at": now.isoformat(),
           "raw_base64": base64.b64encode(raw).decode("ascii")}
    try:
        atomic_write_text(path, json.dumps(doc))
    except OSError as e:
        return StateError(
            f"{why}\nAn answer of inwise's new-contacts feed could not be kept anywhere ({e.strerror or e}): "
            "inwise hands each new contact out only once, so up to 1,000 new contacts may be missing from the "
            "new-contacts tab. They are still in inwise: export the contacts created today there to check.")
    return StateError(
        f"{why}\nThe answer of inwise's new-contacts feed being received was kept in {path} instead; the next "
        "run reads it back into the state store (do not delete that file).")


def read_back(target: FeedTarget) -> Iterator[tuple[Path, FeedAnswer]]:
    """Answers kept in files for this account: into the store, then the file goes."""
    for path in sorted(target.rescue_dir.glob(GLOB)):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("format") != FORMAT or doc.get("account") != target.account:
                continue
            raw = base64.b64decode(doc["raw_base64"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("%s is not a feed answer this version can read back; it is left in place.", path)
            continue
        answer = target.store.add_feed_answer(target.account, raw, run_id=target.run_id, origin=f"file {path.name}")
        path.unlink()
        yield path, answer
