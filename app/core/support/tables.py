"""Reading the tables operators bring (CSV in whatever Excel wrote, XLSX) into rows of
text, within limits that hold whatever the file: a list is refused whole, in seconds and
in bounded memory, when it is larger than any list of orders or accounts, or when its
text encoding cannot be told for sure. Also the checks a cell's text gets before it
becomes a login or an article (control and invisible characters, NFKC)."""

from __future__ import annotations

import codecs
import csv
import itertools
import posixpath
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from app.core.support.errors import KnownError

MAX_BYTES = 50 * 2**20  # a file as stored, checked before reading it
# What a workbook may unpack to: the sum of its files' sizes as the zip declares them,
# and again as bytes actually inflated while reading. Excel packs a sheet about 5-10
# times, and a list of MAX_ROWS rows unpacks to some 40 MB.
MAX_UNPACKED_BYTES = 100 * 2**20
MAX_ROWS = 100_000  # an order or account list is never that long
MAX_COLUMNS = 50  # a list uses 6 or so; values further right are refused, not dropped
# The text a list's cells may hold in all: as much as the largest CSV. In a workbook one
# long shared text can fill every cell, so its size on disk says nothing about this.
MAX_TEXT_CHARS = MAX_BYTES
MAX_LINE_CHARS = 100_000  # a CSV line: no row of a list comes near it
MAX_DIRECTORY_BYTES = 2**20  # a workbook's zip directory: an Excel one needs a few KB
LIST_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SEPARATORS = (";", "\t", ",")
# The code pages a list without a UTF mark can be in, with how the operator knows them:
# Russian and Western European Windows, the two Excels this console meets.
CODE_PAGES = (("cp1251", "cp1251 (Windows Cyrillic)"), ("cp1252", "cp1252 (Windows Western)"))
SAVE_AS_UTF8 = "Save the list as CSV UTF-8 (Excel: “CSV UTF-8 (comma delimited)”) or XLSX."

Row = tuple[int, list[str]]  # a row's number in the file (1-based) and its cells


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


# -- a list's layout ------------------------------------------------------------------

# How far down the header is looked for, in rows that hold anything: a title ("Заказы на
# 27.11"), a date or a note may stand above it.
HEADER_ROWS = 10
# What a totals row says where a row names its subject (normalized, see norm): the word
# alone ("ИТОГО:") or first ("Итого по заказу").
TOTAL_WORDS = ("итого", "итог", "всего", "total", "totals", "grand total", "subtotal")
# A number as a sheet shows one: a count, a sum with grouping and a currency or unit.
_AMOUNT = re.compile(r"[-+−]?\d[\d\s.,']*(?:₽|руб\.?|р\.?|rub|\$|€|шт\.?|pcs)?", re.IGNORECASE)


@dataclass
class Header:
    """The row of a list that names its columns.

    Attributes:
        row: its row number in the file.
        cells: its cells as written.
        columns: column index by field (see map_columns).
        missing: the needed fields it names no column for; empty for a list's header.
    """

    row: int
    cells: list[str]
    columns: dict[str, int]
    missing: list[str]

    def has(self) -> str:
        """What the row names, for a message about a header that lacks a column."""
        return ", ".join(c.strip() for c in self.cells if c.strip()) or "nothing"


def find_header(
    rows: Iterator[Row],
    names: dict[str, str],
    notes: list[str],
    *,
    required: Sequence[str] = (),
    any_of: Sequence[str] = (),
) -> Header | None:
    """The list's header: the first of its first HEADER_ROWS rows that names a column for
    every `required` field and, when given, for one of `any_of`. Reads `rows` up to it,
    so the rest of them are the rows under it; `notes` gets its columns that are not used
    and, when rows stand above it, which row was taken. When no row is a header, the one
    that names most columns (the first when none names any) with what it lacks in
    `missing`; None for a list without rows."""
    nearest: Header | None = None
    above: list[int] = []
    for n, cells in itertools.islice(rows, HEADER_ROWS):
        unused: list[str] = []
        columns = map_columns(cells, names, unused)
        missing = [f for f in required if f not in columns]
        if any_of and not columns.keys() & set(any_of):
            missing.extend(any_of)
        header = Header(n, cells, columns, missing)
        if not missing:
            notes.extend(unused)
            if above:
                left_out = "the row" if len(above) == 1 else f"the {len(above)} rows"
                notes.append(f"row {n} taken as the header ({left_out} above it left out)")
            return header
        if nearest is None or len(columns) > len(nearest.columns):
            nearest = header
        above.append(n)
    return nearest


def totals_word(cells: list[str], columns: Iterable[int]) -> str | None:
    """What makes `cells` a totals row, as written ("ИТОГО:"), or None: a word of
    TOTAL_WORDS in the first cell or in one of `columns` (those that name a row's subject:
    client, article, login), and nothing but numbers in the others."""
    for i in dict.fromkeys([0, *columns]):
        text = norm(cells[i]) if i < len(cells) else ""
        if any(text == w or text.startswith(w + " ") for w in TOTAL_WORDS):
            others = (c.strip() for j, c in enumerate(cells) if j != i)
            if all(not c or _AMOUNT.fullmatch(c) for c in others):
                return cells[i].strip()
    return None


def data_rows(rows: Iterable[Row], columns: Iterable[int], notes: list[str]) -> Iterator[Row]:
    """The rows under a header without its totals rows (see totals_word), each of those
    left out with a note rather than refused as a row that lacks its values."""
    columns = list(columns)
    for n, cells in rows:
        word = totals_word(cells, columns)
        if word is None:
            yield n, cells
        else:
            notes.append(f"row {n} left out: a totals row (“{word}”)")


# -- a cell's text --------------------------------------------------------------------


def identifier(value: str) -> str:
    """A login, article, pickup point or marketplace as one value however it was typed:
    Unicode NFKC (full-width and other compatibility forms of a letter become the letter)
    without surrounding spaces. Not for passwords, which are kept as given."""
    return unicodedata.normalize("NFKC", value).strip()


def odd_character(value: str, *, invisible: bool, line_breaks: bool = False) -> str | None:
    """What in a cell's text keeps it out, said after "field 'login' ": a control
    character (NUL and other C0/C1 controls: a damaged file or binary data; tab and line
    breaks too unless `line_breaks`) or, when `invisible`, a formatting character that
    does not show (zero-width, direction marks: they make look-alikes of other values).
    None when the text is fine."""
    if value.isprintable():  # the usual case: no character of category C or Z but space
        return None
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc" and not (line_breaks and char in "\t\r\n"):
            return (
                f"holds a control character ({_code(char)}), which no list has: the file is "
                "damaged or was not saved from a spreadsheet; export the list again"
            )
        if invisible and category == "Cf":
            return (
                f"holds an invisible character ({_code(char)}) that makes it look like "
                "another value; type it again without it"
            )
    return None


def shown(value: str) -> str:
    """`value` with its control and invisible characters written out (<U+200B>), for
    naming a rejected value in a report."""
    if value.isprintable():
        return value
    return "".join(
        f"<{_code(c, named=False)}>" if unicodedata.category(c) in ("Cc", "Cf") else c
        for c in value
    )


def _code(char: str, *, named: bool = True) -> str:
    name = unicodedata.name(char, "") if named else ""
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


# -- files ----------------------------------------------------------------------------


def _size(path: Path) -> int:
    """The file's size; raises Unreadable (before reading it) when it is over MAX_BYTES."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Unreadable(f"cannot read the file ({exc.strerror})") from None
    if size > MAX_BYTES:
        raise Unreadable(
            f"the file is {size / 2**20:.0f} MB, over the {MAX_BYTES // 2**20} MB limit; "
            "split it into smaller files"
        )
    return size


def read_bytes(path: Path) -> bytes:
    """The file's bytes; raises Unreadable for an empty, oversized (checked before
    reading) or unreadable file."""
    _size(path)
    try:
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


def _refused(path: Path, what: str, todo: str) -> KnownError:
    return KnownError(f"{path}: {what}; nothing was imported. {todo}")


def _too_many_rows(path: Path) -> KnownError:
    return _refused(
        path,
        f"the list has more than {MAX_ROWS:,} rows, the limit of one import",
        f"Split the list into files of at most {MAX_ROWS:,} rows and import each.",
    )


def _too_wide(path: Path, row: int) -> KnownError:
    return _refused(
        path,
        f"row {row} has values beyond column {MAX_COLUMNS} ({_letters(MAX_COLUMNS)}), "
        "the limit of one import",
        "Keep only the list's columns (delete the others, or copy the list to a new "
        "sheet) and import again.",
    )


def _too_much_text(path: Path) -> KnownError:
    return _refused(
        path,
        f"the list holds more than {MAX_TEXT_CHARS:,} characters of text, the limit of one import",
        "Split the list into smaller files and import each.",
    )


def _letters(column: int) -> str:
    """12 → "L", 50 → "AX": a column as Excel names it."""
    name = ""
    while column:
        column, rest = divmod(column - 1, 26)
        name = chr(65 + rest) + name
    return name


def _bounded(path: Path, cells: list[str], row: int) -> list[str]:
    """A row's cells without the empty ones at its end; a value beyond MAX_COLUMNS
    refuses the file."""
    while cells and not cells[-1].strip():
        cells.pop()
    if len(cells) > MAX_COLUMNS:
        raise _too_wide(path, row)
    return cells


# -- CSV ------------------------------------------------------------------------------


def _binary(path: Path) -> KnownError:
    return KnownError(
        f"{path}: this is not a text file (it holds binary data); nothing was imported. "
        "Save the list as CSV or XLSX."
    )


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """The text of a list and the encoding it was in: UTF-16 and UTF-8 with a BOM by their
    marks, UTF-8, else cp1251 or cp1252 when the text tells which (see `_code_page`).
    Raises KnownError for binary data and for text whose encoding cannot be told."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec, name = "utf-16", "UTF-16"
    elif data.startswith(codecs.BOM_UTF8):
        codec, name = "utf-8-sig", "UTF-8 with BOM"
    elif b"\x00" in data[:8192]:
        raise _binary(path)
    else:
        codec, name = "utf-8", "UTF-8"
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        if codec != "utf-8":
            raise KnownError(
                f"{path}: the file says it is {name} but is not; nothing was imported. "
                + SAVE_AS_UTF8
            ) from None
        codec, name = _code_page(path, data)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:  # a byte the sample did not show
            raise _unsure(path, [name]) from None
    sample = text[:65536]
    # A file that is mostly control characters is not a list; a few are the rows' problem.
    if len(_CONTROLS.findall(sample)) * 10 > len(sample):
        raise _binary(path)
    return text, name


_LETTER_RUN = 100  # how far a word is followed from one of its non-ASCII characters


def _code_page(path: Path, data: bytes) -> tuple[str, str]:
    """The code page of text that is not UTF-8, told by what its words mean: decoded the
    right way, the words with letters beyond ASCII are Cyrillic (cp1251) or Latin with
    diacritics beside plain letters (cp1252); decoded the wrong way they mix scripts
    inside a word (Latin-1 "müller" as cp1251: "mьller"), are made of accented letters
    only (Russian "Логин" as cp1252: "Ëîãèí") or have symbols inside (cp775 "m³ller").

    Judged on the words around the first 2,000 stretches of non-ASCII bytes. A code page
    is taken when nearly all its words fit (an operator's typo may mix scripts) and at
    least half of the other's do not; otherwise KnownError names the candidates."""
    stretches = itertools.islice(re.finditer(rb"[\x80-\xff]+", data), 2000)
    sample = b"\n".join(  # each stretch with what is around it, no more than words take
        data[max(0, m.start() - _LETTER_RUN) : min(m.end(), m.start() + _LETTER_RUN) + _LETTER_RUN]
        for m in stretches
    )
    readings: dict[str, tuple[str, int, int]] = {}  # codec → text, words that fit, do not
    for codec, _ in CODE_PAGES:
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:  # a byte this code page does not have
            continue
        verdicts = [v for v in map(_word_fits, _words(text)) if v is not None]
        readings[codec] = (text, verdicts.count(True), verdicts.count(False))
    names = dict(CODE_PAGES)
    if len(readings) == len(CODE_PAGES) and len({t for t, _, _ in readings.values()}) == 1:
        return CODE_PAGES[0]  # only bytes both read alike: « » — …
    for codec, (_, fit, misfit) in readings.items():
        wrong_elsewhere = all(
            0 < other_misfit * 2 >= other_fit + other_misfit
            for other, (_, other_fit, other_misfit) in readings.items()
            if other != codec
        )
        if fit and misfit * 10 <= fit + misfit and wrong_elsewhere:
            return codec, names[codec]
    raise _unsure(path, [names[c] for c, (_, fit, misfit) in readings.items() if fit >= misfit])


def _unsure(path: Path, candidates: list[str]) -> KnownError:
    if candidates:
        could = f"it could be {' or '.join(candidates)}"
    else:
        could = f"it is neither UTF-8 nor {' nor '.join(n for _, n in CODE_PAGES)}"
    return KnownError(
        f"{path}: the text encoding cannot be told for sure ({could}); nothing was "
        f"imported. {SAVE_AS_UTF8}"
    )


def _words(text: str) -> Iterator[str]:
    """The words of `text` that hold a character beyond ASCII, with what touches them
    (symbols the wrong code page makes: "m³ller")."""
    end = 0
    for m in re.finditer(r"[^\x00-\x7f]", text):
        if m.start() < end:
            continue  # in the word just given
        start, end = m.start(), m.end()
        while start > 0 and m.start() - start < _LETTER_RUN and _in_word(text[start - 1]):
            start -= 1
        while end < len(text) and end - m.end() < _LETTER_RUN and _in_word(text[end]):
            end += 1
        yield text[start:end]


def _in_word(char: str) -> bool:
    return char.isalnum() if char.isascii() else not char.isspace()


# Letters cp1251 has for Serbian and Macedonian only, where other Cyrillic code pages
# have Russian capitals; the lists this console reads are not in those languages.
_NOT_RUSSIAN = set("ЂЃЉЊЌЋЏђѓљњќћџЈјЅѕ")


def _word_fits(word: str) -> bool | None:
    """Whether a word reads as a word of one language: True, False, or None when it says
    nothing (one letter, or beyond ASCII only in symbols at its edges: "«", "№5")."""
    start, end = 0, len(word)
    while start < end and not word[start].isalpha():
        start += 1
    while end > start and not word[end - 1].isalpha():
        end -= 1
    core = word[start:end]
    if core.isascii():
        return None
    if any(not c.isalpha() and c not in "0123456789’'\u00ad" for c in core):
        return False  # a symbol inside a word: "m³ller", "ïî÷òà"
    letters = [c for c in core if c.isalpha()]
    cyrillic = sum("\u0400" <= c <= "\u04ff" for c in letters)
    plain = sum(c.isascii() for c in letters)
    if len(letters) < 2:
        return None
    if cyrillic and cyrillic != len(letters):
        return False  # scripts mixed inside a word: "mьller"
    if any(c in _NOT_RUSSIAN for c in letters):
        return False  # Mac Cyrillic read as cp1251: "Џароль"
    if not cyrillic and not plain:
        return False  # a Latin word of accented letters only: "Ëîãèí"
    for a, b in itertools.pairwise(letters):
        if a.islower() and b.isupper() and not (a.isascii() and b.isascii()):
            return False  # "РёРІР°РЅ": UTF-8 read as cp1251
    return True


def _separated_line(text: str) -> str:
    """The first line with a separator, among the first HEADER_ROWS that hold anything: a
    title typed above the header has none ("Заказы на 27.11"); else the first line."""
    lines = (m.group() for m in re.finditer(r"[^\r\n]+", text) if m.group().strip())
    first = list(itertools.islice(lines, HEADER_ROWS))
    separated = (line for line in first if any(s in line for s in SEPARATORS))
    return next(separated, first[0] if first else "")


def _lines(path: Path, text: str) -> Iterator[str]:
    """The lines of `text` with their line ends, as the csv module reads them; a line
    too long for a list refuses the file before it is taken apart."""
    for n, m in enumerate(re.finditer(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+", text), 1):
        if m.end() - m.start() > MAX_LINE_CHARS:
            raise _refused(
                path,
                f"line {n} is longer than {MAX_LINE_CHARS:,} characters, which no list has",
                "Check that this is the list, and export it again.",
            )
        yield m.group()


def read_csv(path: Path, notes: list[str]) -> Iterator[Row]:
    """The rows of a CSV list that hold anything, read as they are needed; KnownError
    (nothing imported) for a file that cannot be read or is over a limit."""
    text, encoding = decode(path, read_source(path))
    header = _separated_line(text)
    # Russian Excel writes ';', others ',' or tab: the one the header uses most.
    sep = max(SEPARATORS, key=header.count)
    notes.append(f"read as {encoding}, columns separated by {'tab' if sep == chr(9) else sep!r}")
    try:
        for n, cells in enumerate(csv.reader(_lines(path, text), delimiter=sep), 1):
            if n > MAX_ROWS:
                raise _too_many_rows(path)
            if _bounded(path, cells, n):
                yield n, cells
    except csv.Error as exc:
        raise KnownError(
            f"{path}: not a readable CSV list ({exc}). Nothing was imported."
        ) from None


# -- XLSX -----------------------------------------------------------------------------


class _Malformed(Exception):
    """A workbook that is not as Excel writes them; the message says how."""


class _Workbook:
    """The parts of an open workbook, read through expat as they inflate: the bytes
    inflated are counted across all parts, so a part that unpacks to more than its zip
    entry says still stops at MAX_UNPACKED_BYTES.

    Attributes:
        sheet_name, sheet_part: the first worksheet: its name and its part in the zip.
        shared_text, shared_ends: the workbook's shared texts end to end, and where each
            ends (one string and a list of ints, however many texts there are).
    """

    CHUNK = 2**16

    def __init__(self, path: Path, archive: zipfile.ZipFile):
        self.path = path
        self.archive = archive
        self.inflated = 0
        self.names = {n.casefold(): n for n in archive.namelist()}
        book = self._target("", self._relations("_rels/.rels"), "/officeDocument")
        book = book or "xl/workbook.xml"
        relations = self._relations(self._rels_of(book))
        sheets: list[tuple[str, str]] = []

        def sheet(name: str, attrs: dict[str, str]) -> None:
            if _local(name) == "sheet":
                sheets.append((attrs.get("name", ""), _attr(attrs, "id")))

        self._parse_all(book, sheet)
        worksheets = [
            (name, relations[rid][1])
            for name, rid in sheets
            if rid in relations and relations[rid][0].endswith("/worksheet")
        ]
        if not worksheets:
            raise _Malformed("it has no worksheet")
        self.sheet_name = worksheets[0][0]
        self.sheet_part = _resolve(book, worksheets[0][1])
        strings = self._target(book, relations, "/sharedStrings")
        self.shared_text = ""
        self.shared_ends: list[int] = []
        if strings:
            self._read_shared(strings)

    # parts

    def _part(self, name: str) -> str:
        found = self.names.get(name.casefold())
        if found is None:
            raise _Malformed(f"its part {name} is missing")
        info = self.archive.getinfo(found)
        if info.flag_bits & 0x1:
            raise _Malformed("it is protected with a password")
        return found

    def _chunks(self, name: str) -> Iterator[bytes]:
        with self.archive.open(self._part(name)) as member:
            while chunk := member.read(self.CHUNK):
                self.inflated += len(chunk)
                if self.inflated > MAX_UNPACKED_BYTES:
                    raise _too_big(self.path)
                yield chunk

    def _parse(
        self,
        name: str,
        start: Callable[[str, dict[str, str]], None],
        end: Callable[[str], None] | None = None,
        text: Callable[[str], None] | None = None,
    ) -> Iterator[None]:
        """Feeds a part to expat, pausing after each chunk. Names come as written: Excel
        writes its elements unprefixed, others may prefix them (x:row; see `_local`). A
        DTD is refused: no workbook has one, and its entities could expand."""
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = _no_dtd
        parser.StartElementHandler = start
        if end is not None:
            parser.EndElementHandler = end
        if text is not None:
            parser.CharacterDataHandler = text
        for chunk in self._chunks(name):
            parser.Parse(chunk, False)
            yield
        parser.Parse(b"", True)

    def _parse_all(self, name: str, start: Callable[[str, dict[str, str]], None]) -> None:
        for _ in self._parse(name, start):
            pass

    def _rels_of(self, part: str) -> str:
        folder, file = posixpath.split(part)
        return posixpath.join(folder, "_rels", file + ".rels")

    def _relations(self, name: str) -> dict[str, tuple[str, str]]:
        """A part's relationships: id → (type, target)."""
        found: dict[str, tuple[str, str]] = {}
        if name.casefold() not in self.names:
            return found

        def relation(tag: str, attrs: dict[str, str]) -> None:
            if _local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), attrs.get("Target", ""))

        self._parse_all(name, relation)
        return found

    def _target(self, base: str, relations: dict[str, tuple[str, str]], kind: str) -> str:
        target = next((t for k, t in relations.values() if k.endswith(kind)), "")
        return _resolve(base, target) if target else ""

    # shared texts

    def _read_shared(self, name: str) -> None:
        pieces: list[str] = []  # of the current text
        texts: list[str] = []  # the latest texts, joined into a block every few thousand
        blocks: list[str] = []  # so that a million short texts are not a million objects
        length = 0
        depth = {"phonetic": 0, "t": 0}

        def start(tag: str, attrs: dict[str, str]) -> None:
            tag = _local(tag)
            if tag == "rPh":
                depth["phonetic"] += 1
            elif tag == "t" and not depth["phonetic"]:
                depth["t"] += 1

        def end(tag: str) -> None:
            nonlocal length
            tag = _local(tag)
            if tag == "rPh":
                depth["phonetic"] -= 1
            elif tag == "t" and not depth["phonetic"]:
                depth["t"] -= 1
            elif tag == "si":
                text = _unescape("".join(pieces))
                pieces.clear()
                length += len(text)
                if length > MAX_TEXT_CHARS:
                    raise _too_much_text(self.path)
                texts.append(text)
                self.shared_ends.append(length)
                if len(texts) >= 4096:
                    blocks.append("".join(texts))
                    texts.clear()

        def text(data: str) -> None:
            if depth["t"] > 0:
                pieces.append(data)

        for _ in self._parse(name, start, end, text):
            pass
        self.shared_text = "".join(blocks + texts)

    def shared(self, index: str) -> str:
        i = int(index) if index.strip().isdigit() else -1
        if not 0 <= i < len(self.shared_ends):
            raise _Malformed(f"a cell names shared text {i}, which it does not have")
        return self.shared_text[self.shared_ends[i - 1] if i else 0 : self.shared_ends[i]]

    # the sheet

    def rows(self) -> Iterator[Row]:
        """The first sheet's rows that hold anything, as they are read."""
        sheet = _SheetReader(self)
        for _ in self._parse(self.sheet_part, sheet.start, sheet.end, sheet.text):
            yield from sheet.done
            sheet.done.clear()
        yield from sheet.done


class _SheetReader:
    """expat's handlers for a worksheet: rows as the list of text Excel shows, each
    checked against the limits as soon as it is read. (Called for every element of the
    sheet: the usual ones are tested first.)"""

    def __init__(self, book: _Workbook):
        self.book = book
        self.done: list[Row] = []
        self.rows = 0  # read: the row numbers a sheet gives may repeat
        self.row = 0
        self.cells: list[str] = []
        self.column = 0
        self.columns: dict[str, int] = {}  # by letters, as Excel names them
        self.kind = ""
        self.value: list[str] = []
        self.inline: list[str] = []
        self.into: list[str] | None = None  # where character data goes now
        self.phonetic = 0
        self.length = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if ":" in tag:
            tag = _local(tag)
        if tag == "c":
            letters = attrs.get("r", "").rstrip("0123456789")
            column = self.columns.get(letters)
            if column is None:
                column = self._column(letters)
            self.column = column
            self.kind = attrs.get("t", "n")
            self.value, self.inline = [], []
        elif tag == "v":
            self.into = self.value
        elif tag == "row":
            r = attrs.get("r", "")
            self.row = int(r) if r.isdigit() and len(r) < 10 else self.row + 1
            self.rows += 1
            if self.row > MAX_ROWS or self.rows > MAX_ROWS:
                raise _too_many_rows(self.book.path)
            self.cells = []
            self.column = 0
        elif tag == "t" and not self.phonetic:
            self.into = self.inline
        elif tag == "rPh":
            self.phonetic += 1

    def end(self, tag: str) -> None:
        if ":" in tag:
            tag = _local(tag)
        if tag == "c":
            self._cell()
        elif tag == "v" or tag == "t":
            self.into = None
        elif tag == "row" and _bounded(self.book.path, self.cells, self.row):
            self.done.append((self.row, self.cells))
        elif tag == "rPh":
            self.phonetic -= 1

    def text(self, data: str) -> None:
        if self.into is not None:
            self.into.append(data)

    def _column(self, letters: str) -> int:
        """The column a cell's reference names, or the one after the last cell's."""
        if not (letters.isascii() and letters.isalpha()):
            return self.column + 1
        number = 0
        for letter in letters.upper():
            number = number * 26 + ord(letter) - 64
        if len(letters) <= 3:  # a real column (A to XFD): worth remembering
            self.columns[letters] = number
        return number

    def _cell(self) -> None:
        text = _cell_text(self.book, self.kind, "".join(self.value), "".join(self.inline))
        if not text:
            return
        if self.column > MAX_COLUMNS:
            raise _too_wide(self.book.path, self.row)
        self.length += len(text)
        if self.length > MAX_TEXT_CHARS:
            raise _too_much_text(self.book.path)
        if len(self.cells) < self.column:
            self.cells.extend([""] * (self.column - len(self.cells)))
        self.cells[self.column - 1] = text


def _cell_text(book: _Workbook, kind: str, value: str, inline: str) -> str:
    """A cell's text as Excel shows it in a list: shared and inline texts as written,
    numbers without a needless ".0" (phone numbers, quantities), booleans as True/False."""
    if kind == "s":
        text = book.shared(value) if value.strip() else ""
    elif kind == "inlineStr":
        text = _unescape(inline)
    elif kind == "str":  # a formula's text
        text = _unescape(value)
    elif kind == "b":
        text = {"1": "True", "0": "False"}.get(value.strip(), value)
    elif kind in ("n", "") and value.strip():
        text = _number(value.strip())
    else:  # an error (#N/A) or an ISO date, as written
        text = value
    return text.strip()


def _number(value: str) -> str:
    if value.isascii() and value.isdigit():
        return value.lstrip("0") or "0"
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else str(number)


def _unescape(text: str) -> str:
    """Excel's escapes of characters XML cannot carry (_x0001_), surrogates left as they
    are."""
    if "_x" not in text:
        return text
    return re.sub(
        r"_x([0-9A-Fa-f]{4})_",
        lambda m: m.group() if 0xD800 <= int(m[1], 16) <= 0xDFFF else chr(int(m[1], 16)),
        text,
    )


def _local(name: str) -> str:
    """An element's or attribute's name without its namespace prefix: x:row → row."""
    return name.rpartition(":")[2]


def _attr(attrs: dict[str, str], local: str) -> str:
    """An attribute by its name without namespace prefix (r:id)."""
    return next((v for k, v in attrs.items() if _local(k) == local), "")


def _resolve(base: str, target: str) -> str:
    """A relationship's target as a name in the zip: absolute, or relative to `base`."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _no_dtd(*_: object) -> None:
    raise _Malformed("it declares a DTD")


def _too_big(path: Path, declared: int | None = None) -> KnownError:
    says = f" (its zip says {declared / 2**20:,.0f} MB)" if declared else ""
    return _refused(
        path,
        f"the workbook unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB{says}, the "
        "limit of one import",
        "Split the list into smaller files, or save it as CSV, and import again.",
    )


def _directory_size(path: Path) -> int | None:
    """The size of the zip's central directory as its end record says (zipfile reads
    that much and keeps an object per entry), or None when there is no end record."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - 22 - 65535))
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    return int.from_bytes(tail[at + 12 : at + 16], "little")


def read_xlsx(path: Path, notes: list[str]) -> Iterator[Row]:
    """The first sheet's rows that hold anything, read as they are needed; KnownError
    (nothing imported) for a file that is not a workbook, cannot be read or is over a
    limit (checked before unpacking as far as the zip tells, and again while reading)."""
    try:
        if not _size(path):
            raise Unreadable("the file is empty; export it again")
        with path.open("rb") as f:
            magic = f.read(4)
        directory = _directory_size(path)
    except Unreadable as exc:
        raise KnownError(f"{path}: {exc.reason}. Nothing was imported.") from None
    except OSError as exc:
        raise KnownError(
            f"{path}: cannot read the file ({exc.strerror}). Nothing was imported."
        ) from None
    if not magic.startswith(b"PK"):
        raise KnownError(
            f"{path}: this is not an Excel workbook (.xlsx); nothing was imported. "
            "Open it in Excel and save it as .xlsx or CSV."
        )
    try:
        if directory is not None and directory > MAX_DIRECTORY_BYTES:
            raise _Malformed("it holds more files than any workbook")
        with zipfile.ZipFile(path) as archive:
            declared = sum(i.file_size for i in archive.infolist())
            if declared > MAX_UNPACKED_BYTES:
                raise _too_big(path, declared)
            book = _Workbook(path, archive)
            notes.append(f"read the first sheet, “{book.sheet_name}”")
            yield from book.rows()
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,  # a compression zipfile does not know
        OSError,  # offsets past the end of the file
        expat.ExpatError,
        _Malformed,
    ) as exc:
        raise KnownError(
            f"{path}: the workbook cannot be read ({exc}); nothing was imported. "
            "Save it again from Excel as .xlsx or CSV."
        ) from None


def read_table(path: Path, notes: list[str]) -> Iterator[Row] | None:
    """The rows of a CSV/XLSX list by its suffix, or None for a file that is neither."""
    suffix = path.suffix.casefold()
    if suffix in LIST_SUFFIXES:
        return read_csv(path, notes)
    if suffix in EXCEL_SUFFIXES:
        return read_xlsx(path, notes)
    return None
