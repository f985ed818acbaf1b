"""Regenerate the demo's bundled example: sheets_connector/examples/contacts.xlsx.

Run:  python scripts/make_example.py
The rows mirror real lists: Hebrew and English names, local and international mobiles, numbers
Excel turned into numbers (lost leading zero, .0 floats, scientific notation), invisible
direction marks and non-breaking spaces, and a few bad rows (see the Notes column).
The existing contacts the demo's sandbox starts with are in examples/existing_contacts.json.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

OUT = Path(__file__).resolve().parents[1] / "sheets_connector" / "examples" / "contacts.xlsx"
RLM = "\u200f"
NBSP = "\u00a0"

HEADER = ["Member no.", "First name", "Last name", "Email", "Mobile", "Birthday", "City", "Notes"]
D = dt.date
ROWS = [
    ["M-1001", "דנה", "כהן", "dana.cohen@example.co.il", "054-1111111", D(1980, 6, 12), "תל אביב", "new contact, local mobile as text"],
    ["M-1002", "Noa", "Levi", "NOA.LEVI@Example.co.il", "0521234567", D(1990, 1, 3), "Haifa", "already in inwise: updated"],
    ["M-1003", "יוסי", "מזרחי", None, 541111112, None, "ירושלים", "Excel dropped the leading zero"],
    ["M-1004", "Michael", "Brown", "michael.brown@example.com", "+1 504-621-8927", D(1975, 11, 30), "New Orleans", "US number"],
    ["M-1005", "מיכל", "אברהם", "michal.a@example.co.il", 972501234567.0, D(1988, 2, 29), "רמת גן", "number stored as 972501234567.0"],
    ["M-1006", "Omer", "Shapiro", "omer.shapiro@example.com", "9.72531234567E+11", None, "Herzliya", "scientific notation"],
    ["M-1007", "שירה", "גולן", "shira.golan@example.co.il", RLM + "054-7777777", D(1995, 7, 7), "חולון", "invisible direction mark"],
    ["M-1008", "Avi", "Katz", " avi.katz@example.com" + NBSP, "054" + NBSP + "2222222", None, "Netanya", "non-breaking spaces"],
    ["M-1009", "Rachel", "Green", "rachel@@example.com", "0543333333", None, "Eilat", "bad email: fix it"],
    ["M-1010", "תמר", "פרץ", "tamar.peretz@example.co.il", "2262649", None, "באר שבע", "7-digit phone: fix it"],
    ["M-1011", "Noa", "Levi", "noa.levi@example.co.il", None, None, "Haifa", "same email as row 3"],
    ["M-1012", "Eitan", "Bar", "yossi.b@example.com", "0547654321", None, "Ashdod", "email and mobile are two different inwise contacts"],
    [None, None, None, None, None, None, None, None],
    ["M-1013", "רונית", "שלום", None, None, None, "עכו", "no email and no mobile"],
    ["M-1014", "Alon", "Friedman", "alon.f@example.com", "02-6251111", None, "Jerusalem", "landline, not a mobile"],
    ["M-1015", "איתי", "ברק", "itai.barak@example.co.il", "+972 54-444-4444", D(2001, 3, 15), "כפר סבא", ""],
    ["M-1016", "Sarah", "Cohen", "sarah.cohen@example.com", "00972545555555", D(1969, 12, 1), "Raanana", ""],
    ["M-1017", "עומר", "אדלר", "omer.adler@example.co.il", "050-6666666", None, "פתח תקווה", ""],
    ["M-1018", "Daniel", "Weiss", "daniel.weiss@example.com", "058-7777777", D(1983, 5, 21), "Rehovot", ""],
    ["M-1019", "הדס", "נחום", "hadas.nachum@example.co.il", "053-8888888", D(1992, 9, 9), "מודיעין", ""],
    ["M-1020", "David", "O'Brien", "david.obrien@example.ie", "+353 85 123 4567", None, "Dublin", "Irish mobile"],
    ["M-1021", "ליאור", "חדד", "lior.hadad@example.co.il", "0529999999", D(1978, 4, 4), "נהריה", ""],
    ["M-1022", "Emma", "Smith", "emma.smith@example.co.uk", "+44 7911 123456", D(1999, 8, 18), "London", "UK mobile"],
    ["M-1023", "אורי", "שטרן", "ori.stern@example.co.il", "054-1212121", None, "גבעתיים", ""],
    ["M-1024", "Maya", "Rosen", "maya.rosen@example.com", "052-3434343", D(1987, 10, 10), "Tel Aviv, Jaffa", "comma in the city"],
    ["M-1025", "נועה", "אוחיון", "noa.ohayon@example.co.il", "055-5656565", None, "אשקלון", ""],
    ["M-1026", "Yael", "Ben-David", "yael.bd@example.com", "054-7878787", D(1993, 6, 30), "Holon", ""],
    ["M-1027", "Gil", "Hen", "gil.hen@example.com", "0549090909", None, "Kfar Saba", "already in inwise (by mobile): updated"],
    ["M-1028", "אסף", "דיין", "asaf.dayan@example.co.il", "054-1111111", None, "יפו", "same mobile as row 2"],
    ["M-1029", "Tal", "Mor", "tal.mor@example.com", "050-2323232", D(1985, 1, 20), "Modiin", ""],
    ["M-1030", "שני", "לוי", "shani.levi@example.co.il", "052-4545454", D(1997, 11, 11), "חיפה", ""],
]


def main() -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(HEADER)
    for r in ROWS:
        ws.append(r)
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="2F5597")
    for c in ws[1]:
        c.font = bold
        c.fill = fill
        c.alignment = Alignment(horizontal="center")
    for col, width in zip("ABCDEFGH", (11, 12, 12, 30, 18, 12, 16, 44)):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        for c in row:
            c.number_format = "DD/MM/YYYY"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:H{len(ROWS) + 1}"
    ws["D1"].comment = Comment("The contact's email. Either Email or Mobile is required.", "sheets-connector")
    dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(1900,1,1)", allow_blank=True)
    dv.add(f"F2:F{len(ROWS) + 1}")
    ws.add_data_validation(dv)

    about = wb.create_sheet("About")
    about["A1"] = "Demo workbook for sheets-connector"
    about["A1"].font = Font(bold=True, size=14)
    about["A3"] = "Contacts listed"
    about["B3"] = "=COUNTA(Contacts!D2:D200)+COUNTBLANK(Contacts!D2:D200)-COUNTBLANK(Contacts!A2:A200)"
    about["A4"] = "This sheet, its formula and the formatting of the Contacts sheet are kept when results are written."
    about.column_dimensions["A"].width = 24
    OUT.parent.mkdir(parents=True, exist_ok=True)
    wb.save(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
