"""Text for the spreadsheets we write: a cell that would start a formula is kept as text."""

from __future__ import annotations

# What starts a formula in Excel, LibreOffice Calc or Google Sheets (OWASP, "CSV Injection").
FORMULA_SIGNS = ("=", "+", "-", "@")
# A cell starting with one of these is refused whatever follows: a spreadsheet may drop it
# and read what comes after as a formula (OWASP names tab and carriage return, then line feed).
LEADING_BREAKS = ("\t", "\r", "\n")
# The neutraliser OWASP recommends: a spreadsheet reads a cell that starts with it as text.
TEXT_MARK = "'"


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet could take `text` for a formula: a formula sign first, or after
    leading whitespace (LibreOffice's CSV import can trim spaces and then evaluate), or a
    tab or line break first."""
    return text.startswith(LEADING_BREAKS) or text.lstrip().startswith(FORMULA_SIGNS)


def safe_text(text: str) -> str:
    """`text` as a CSV cell that opens as text: marked with a leading quote if a spreadsheet
    could take it for a formula, else unchanged. Marking twice changes nothing."""
    return TEXT_MARK + text if starts_formula(text) else text
