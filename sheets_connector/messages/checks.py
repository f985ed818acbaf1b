"""What ``check`` prints, by language (filled by ``messages.render``)."""
from __future__ import annotations

CHECK: dict[str, dict[str, str]] = {
    "en": {},
    "he": {},
}
