"""Write the corpus files of issue 22's kinds (``generated-*.xlsx``), from ``tests/xlsx_kinds.py``.

No public workbook of these kinds could be fetched with the ordinary package clients this
project uses for its corpus, so each is generated from the smallest XML that has the kind
(see ``xlsx_kinds``'s docstring).  Run ``python tests/corpus/generate_kinds.py`` from the
repository's root, then update the SHA-256 sums in ``manifest.json`` if the files changed.
"""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import xlsx_kinds  # noqa: E402

FILES = {
    "generated-headerless_column.xlsx": xlsx_kinds.headerless_column,
    "generated-style_past_list.xlsx": xlsx_kinds.style_past_list,
    "generated-array_beside.xlsx": xlsx_kinds.array_beside,
    "generated-pivot_beside.xlsx": xlsx_kinds.pivot_beside,
    "generated-macro_sheet.xlsm": xlsx_kinds.macro_sheet,
}


def main() -> None:
    for name, make in FILES.items():
        path = make(HERE / name)
        with zipfile.ZipFile(path) as zf:  # the same bytes on every run: fixed member dates
            members = [(info, zf.read(info)) for info in zf.infolist()]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, data in members:
                info.date_time = (2026, 12, 1, 0, 0, 0)
                zf.writestr(info, data)
        print(name, path.stat().st_size)


if __name__ == "__main__":
    main()
