"""The .xlsx source: ``XlsxTable`` (a worksheet of a workbook file as a ``tables.base.Table``).

    table.py            XlsxTable: read with calamine, lay writes out, save safely
      reading.py, saving.py                           what a read learns of a sheet; the save's write and check
    files.py            the file itself: is it a usable .xlsx, is it locked, the atomic swap
    cells.py            the write rules both writers follow (headers, placement, values)
    patch.py            the fast writer: cells patched into the XML inside the zip
      patch_sheet.py, patch_values.py, patch_xml.py   its worksheet, value and XML parts
      patch_scan.py                                   a worksheet's rows found, a window at a time
    openpyxl_writer.py  the fallback writer, where the fast one does not apply
      openpyxl_fixes.py                               what openpyxl loses, put back
    inventory.py        what a workbook holds, so a save can prove it lost nothing
    compare.py          after the fallback: every value, formula and part compared
    scan.py             what calamine does not say: error cells, formulas never calculated, hidden columns
    package.py          the zip as an OPC package: parts, content types, relationships

Real workbooks from other programs (Excel's Strict format, .NET's and Hancom's namespace
prefixes, rows without numbers...) are tested in tests/corpus (see its BASELINE.md).
"""
from .table import COPY_SUFFIX, XlsxTable

__all__ = ["COPY_SUFFIX", "XlsxTable"]
