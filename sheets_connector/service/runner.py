"""The ``Runner`` that ``serve`` uses: the same ``sync`` the CLI runs, on a mapping file.

The service's keys (``service``, ``schedule``, ``timezone``) are blanked out of the YAML text
line by line before the mapping is validated, so every other key keeps its line number in
error messages.  (That step goes away once ``config.Config`` knows these keys.)

Cancelling goes through the same token as Ctrl-C in the CLI: rows on their way finish, every
result is written, and the summary says ``interrupted``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..cancel import CancelToken
from ..config import Config, parse_config
from ..errors import ConfigError
from .store import ProgressFn

SERVICE_KEYS = ("service", "schedule", "timezone")


def mapping_text_without_service_keys(text: str) -> str:
    """``text`` with the top-level service keys' lines commented out (line numbers unchanged)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return text  # parse_config reports it, with the line
    if not isinstance(root, yaml.MappingNode):
        return text
    lines = text.splitlines(keepends=True)
    for i, (key, value) in enumerate(root.value):
        if isinstance(key, yaml.ScalarNode) and key.value in SERVICE_KEYS:
            first = key.start_mark.line
            # a block ends where the next top-level key starts (comments in between go too)
            if i + 1 < len(root.value):
                last = root.value[i + 1][0].start_mark.line
            else:
                end = value.end_mark
                last = end.line + (1 if end.column > 0 else 0)
            for n in range(first, min(last, len(lines))):
                lines[n] = "#" + lines[n]
    return "".join(lines)


def load_mapping(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ConfigError(f"Cannot read the mapping file {path.name}: {e.strerror or e}") from None
    resolved = path.resolve()
    return parse_config(mapping_text_without_service_keys(text), where=str(path), base_dir=resolved.parent, file=resolved)


def sync_runner(config_path: Path, dry_run: bool, cancel: CancelToken, trigger: str,
                progress: ProgressFn) -> dict[str, Any]:
    """Run one sync of ``config_path`` (INWISE_API_KEY etc. from the service's environment)."""
    from ..sync import sync

    if cancel.is_set():
        return {"interrupted": True}
    config = load_mapping(config_path)
    summary = sync(config, dry_run=dry_run, progress=progress, cancel=cancel)
    return {**summary.to_dict(max_rows=100), "preview_lines": summary.preview_lines}
