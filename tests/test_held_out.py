"""The held-out-style lists of scripts/held_out.py (issue 19's figures), small: init's guesses
and the goals - no row sent with a number that is not its real one, no real readable number
refused, a rerun sends nothing."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _script():
    path = Path(__file__).resolve().parent.parent / "scripts" / "held_out.py"
    spec = importlib.util.spec_from_file_location("held_out", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["held_out"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_held_out_lists_meet_the_goals() -> None:
    figures = {f["list"]: f for f in _script().run(rows=60, seed=5)}
    assert [f["guess"] for f in figures.values()] == ["none", "US", "IL", "none", "US", "IL"]
    assert figures["dates in the email column"]["email column"] == "Contact"
    for f in figures.values():
        assert f["sent unusable"] == 0 and f["valid refused"] == 0 and f["rerun sent"] == 0, f
    assert figures["US list"]["sent"] == 60 and figures["Hebrew list"]["sent"] == 60
