"""Reading the tables operators bring (CSV in whatever Excel wrote, XLSX) into rows of text."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import charset_normalizer

from app.core.support.errors import KnownError

MAX_BYTES = 50 * 2**20
LIST_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SEPARATORS = (";", "\t", ",")

# Says whether a header line names columns the caller knows: it picks the code page.
HeaderCheck = Callable[[str], bool]


class Unreadable(Exception):
    """A file that cannot be taken in at all; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def norm(header: str) -> str:
    """A column header as written by anyone: case, ё, spaces and punctuation ignored."""
    return re.sub(r"[\s_\-.:*()]+", " ", header.casefold().replace("ё", "е")).strip()


def map_columns(header: list[str], names: dict[str, str], notes: list[str]) -> dict[str, int]:
    """Column index by field for a header row, from the normalized header `names` a reader
    knows; unknown or repeated columns are noted as not used."""
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        field = names.get(norm(name))
        if field is None or field in columns:
            if name.strip():
                notes.append(f"column '{name.strip()}' is not used")
            continue
        columns[field] = i
    return columns


def header_cells(line: str) -> list[str]:
    return re.split(r"[;,\t]", line)


def read_bytes(path: Path) -> bytes:
    """The file's bytes; raises Unreadable for an empty, oversized (checked before
    reading) or unreadable file."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise Unreadable(
                f"the file is {size / 2**20:.0f} MB, over the {MAX_BYTES // 2**20} MB limit; "
                "split it into smaller files"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read the file ({exc.strerror})") from None
    if not data.strip():
        raise Unreadable("the file is empty; export it again")
    return data


def read_source(path: Path) -> bytes:
    """`read_bytes` for the file the operator chose: unreadable means nothing is imported."""
    try:
        return read_bytes(path)
    except Unreadable as exc:
        raise KnownError(f"{path}: {exc.reason}. Nothing was imported.") from None


def _binary(path: Path) -> KnownError:
    return KnownError(
        f"{path}: this is not a text file (it holds binary data); nothing was imported. "
        "Save the list as CSV or XLSX."
    )


def decode(path: Path, data: bytes, known_header: HeaderCheck) -> tuple[str, str]:
    """The text of a list and the encoding it was in: UTF-8 (with or without BOM) or
    UTF-16 by their marks, else what charset-normalizer finds (Russian Excel: cp1251)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", "UTF-16")]
    elif data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", "UTF-8 with BOM")]
    elif b"\x00" in data[:8192]:
        raise _binary(path)
    else:
        candidates = [("utf-8", "UTF-8")]
    for codec, name in candidates:
        try:
            return data.decode(codec), name
        except UnicodeDecodeError:
            pass
    if candidates[0][0] == "utf-8":
        # Short Russian texts fit several Cyrillic code pages; the one whose header names
        # columns we know is the right one.
        matches = list(charset_normalizer.from_bytes(data))
        for match in matches:
            text = str(match)
            if known_header(first_line(text)):
                return text, match.encoding
        if matches:
            return str(matches[0]), matches[0].encoding
    raise KnownError(
        f"{path}: the text encoding cannot be recognised; nothing was imported. "
        "Save the list as CSV UTF-8 (Excel: “CSV UTF-8”) or XLSX."
    )


def first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def read_csv(path: Path, notes: list[str], known_header: HeaderCheck) -> list[list[str]]:
    text, encoding = decode(path, read_source(path), known_header)
    header = first_line(text)
    # Russian Excel writes ';', others ',' or tab: the one the header uses most.
    sep = max(SEPARATORS, key=header.count)
    notes.append(f"read as {encoding}, columns separated by {'tab' if sep == chr(9) else sep!r}")
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as exc:
        raise KnownError(
            f"{path}: not a readable CSV list ({exc}). Nothing was imported."
        ) from None


def read_xlsx(path: Path, notes: list[str]) -> list[list[str]]:
    import openpyxl  # loaded only for workbooks
    from openpyxl.utils.exceptions import InvalidFileException

    if not read_source(path).startswith(b"PK"):
        raise KnownError(
            f"{path}: this is not an Excel workbook (.xlsx); nothing was imported. "
            "Open it in Excel and save it as .xlsx or CSV."
        )
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        raise KnownError(
            f"{path}: the workbook cannot be read ({exc}); nothing was imported. "
            "Save it again from Excel as .xlsx or CSV."
        ) from None
    try:
        sheet = book.worksheets[0]
        notes.append(f"read the first sheet, “{sheet.title}”")
        return [[cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps phone numbers, quantities and limits as floats
    return str(value).strip()


def read_table(path: Path, notes: list[str], known_header: HeaderCheck) -> list[list[str]] | None:
    """The rows of a CSV/XLSX list by its suffix, or None for a file that is neither."""
    suffix = path.suffix.casefold()
    if suffix in LIST_SUFFIXES:
        return read_csv(path, notes, known_header)
    if suffix in EXCEL_SUFFIXES:
        return read_xlsx(path, notes)
    return None
