"""Reading operators' lists whatever the file: a workbook that unpacks to gigabytes or a
list longer than any real one is refused at once with the limit named, text comes out
in the right encoding or not at all, and a cell's text is checked for characters that
would store damage or look-alikes."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from app.core.support.errors import KnownError
from app.core.support.tables import (
    HEADER_ROWS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    data_rows,
    decode,
    find_header,
    identifier,
    odd_character,
    read_csv,
    read_xlsx,
    totals_word,
)

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# The smallest workbook Excel opens, but for its first sheet's rows.
PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(
            f'<Override PartName="/xl/{part}.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.{kind}+xml"/>'
            for part, kind in [
                ("workbook", "sheet.main"),
                ("worksheets/sheet1", "worksheet"),
                ("sharedStrings", "sharedStrings"),
            ]
        )
        + "</Types>"
    ),
    "_rels/.rels": f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
    f'Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets>'
    '<sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>",
}
SHEET = "xl/worksheets/sheet1.xml"
LOGIN_ROW = (
    b'<row><c t="inlineStr"><is><t>ivan</t></is></c><c t="inlineStr"><is><t>pw</t></is></c></row>'
)


def workbook(
    path: Path, rows: bytes, times: int = 1, shared: str = "<sst/>", prolog: bytes = b""
) -> Path:
    """A workbook whose sheet holds `rows` `times` over, streamed into the zip: a
    repeated row packs to almost nothing, however many there are."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in PARTS.items():
            z.writestr(name, text)
        z.writestr("xl/sharedStrings.xml", shared.replace("<sst", f'<sst xmlns="{MAIN}"', 1))
        with z.open(SHEET, "w") as sheet:
            sheet.write(prolog + f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            block = rows * 1000
            for _ in range(times // 1000):
                sheet.write(block)
            sheet.write(rows * (times % 1000))
            sheet.write(b"</sheetData></worksheet>")
    return path


def read(reader, path: Path) -> tuple[list[tuple[int, list[str]]], list[str]]:
    notes: list[str] = []
    return list(reader(path, notes)), notes


def refused(reader, path: Path) -> tuple[str, float]:
    """The message of a refusal and how long it took."""
    start = time.monotonic()
    with pytest.raises(KnownError) as refusal:
        read(reader, path)
    message = str(refusal.value)
    assert message.startswith(f"{path}: ") and "nothing was imported" in message
    return message, time.monotonic() - start


# -- limits ---------------------------------------------------------------------------


def test_an_xlsx_bomb_is_refused_at_once_naming_the_limit(tmp_path) -> None:
    # Like the tester's: under 1 MB on disk, well over the limit unpacked (1,200,000 rows).
    path = workbook(tmp_path / "bomb.xlsx", LOGIN_ROW, 1_200_000)
    assert path.stat().st_size < 2**20
    with zipfile.ZipFile(path) as z:
        assert z.getinfo(SHEET).file_size > MAX_UNPACKED_BYTES
    message, seconds = refused(read_xlsx, path)
    assert f"unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB" in message
    assert "Split the list" in message
    assert seconds < 1


def test_a_zip_that_understates_its_sheet_is_refused_too(tmp_path) -> None:
    """The sizes a zip declares are not trusted: a sheet that inflates to more than its
    entry says is not read past it."""
    path = workbook(tmp_path / "liar.xlsx", LOGIN_ROW, 1_200_000)
    data = bytearray(path.read_bytes())
    entry = data.rfind(SHEET.encode()) - 46  # the sheet's entry in the zip's directory
    assert data[entry : entry + 4] == b"PK\x01\x02"
    data[entry + 24 : entry + 28] = (4096).to_bytes(4, "little")  # its uncompressed size
    path.write_bytes(bytes(data))
    message, seconds = refused(read_xlsx, path)
    assert "cannot be read" in message
    assert seconds < 1


@pytest.mark.parametrize("number", ["", ' r="1"'], ids=["numbered in turn", "all numbered 1"])
def test_a_sheet_longer_than_the_row_limit_is_refused_while_reading(tmp_path, number) -> None:
    row = f"<row{number}><c><v>1</v></c></row>".encode()
    path = workbook(tmp_path / "long.xlsx", row, MAX_ROWS + 50_000)
    message, seconds = refused(read_xlsx, path)
    assert f"more than {MAX_ROWS:,} rows" in message and "Split the list" in message
    assert seconds < 10


def test_a_csv_longer_than_the_row_limit_is_refused(tmp_path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(b"login;password\n" + b"ivan;pw\n" * (MAX_ROWS + 1))
    message, _ = refused(read_csv, path)
    assert f"more than {MAX_ROWS:,} rows" in message


def test_one_long_shared_text_in_every_cell_is_refused_by_the_text_limit(tmp_path) -> None:
    """A workbook can name one long text from every cell: small on disk, any size read."""
    cell = b'<c t="s"><v>0</v></c>'
    path = workbook(
        tmp_path / "echo.xlsx",
        b"<row>" + cell * 6 + b"</row>",
        20_000,
        f"<sst><si><t>{'x' * 500}</t></si></sst>",
    )
    message, seconds = refused(read_xlsx, path)
    assert "characters of text" in message
    assert seconds < 10


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_values_beyond_the_column_limit_are_refused_not_dropped(tmp_path, suffix) -> None:
    path = tmp_path / f"wide{suffix}"
    header = ["login", "password"] + [""] * (MAX_COLUMNS - 2) + ["secret column"]
    if suffix == ".csv":
        path.write_text(";".join(header) + "\nivan;pw\n", encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        book.active.append(header)
        book.save(path)
    message, _ = refused(read_csv if suffix == ".csv" else read_xlsx, path)
    assert f"row 1 has values beyond column {MAX_COLUMNS} (AX)" in message


def test_empty_cells_far_to_the_right_and_below_do_not_count(tmp_path) -> None:
    path = tmp_path / "formatted.csv"
    path.write_text("login;password" + ";" * 300 + "\nivan;pw" + ";" * 300 + "\n\n\n", "utf-8")
    assert read(read_csv, path)[0] == [(1, ["login", "password"]), (2, ["ivan", "pw"])]


def test_a_workbook_reads_as_excel_shows_it(tmp_path) -> None:
    path = tmp_path / "list.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Аккаунты"
    book.active.append(["Логин", "Телефон", "Лимит", "Цена", "Флаг"])
    book.active.append([" buyer1 ", 79990001122, 2.0, 1299.9, True])
    book.active.append([None])
    book.active["C4"] = "x"
    book.save(path)
    rows, notes = read(read_xlsx, path)
    assert rows == [
        (1, ["Логин", "Телефон", "Лимит", "Цена", "Флаг"]),
        (2, ["buyer1", "79990001122", "2", "1299.9", "True"]),
        (4, ["", "", "x"]),
    ]
    assert notes == ["read the first sheet, “Аккаунты”"]


def test_excels_escapes_come_out_as_the_characters_they_stand_for(tmp_path) -> None:
    """Excel writes a control character XML cannot carry as _x0000_ (and a typed "_x" as
    _x005F_x): read back as the character, for the importers' checks to see it."""
    rows = b'<row><c t="inlineStr"><is><t>iv_x0000_an _x005F_x0041_</t></is></c></row>'
    path = workbook(tmp_path / "escaped.xlsx", rows)
    assert read(read_xlsx, path)[0] == [(1, ["iv\x00an _x0041_"])]


def test_shared_texts_rich_text_and_cell_references_are_followed(tmp_path) -> None:
    shared = (
        "<sst><si><t>login</t></si><si><r><t>iv</t></r><r><t>an</t></r>"
        "<rPh><t>phonetic, not shown</t></rPh></si></sst>"
    )
    rows = (
        b'<row r="3"><c r="B3" t="s"><v>0</v></c></row>'
        b'<row r="7"><c r="B7" t="s"><v>1</v></c></row>'
    )
    path = workbook(tmp_path / "shared.xlsx", rows, shared=shared)
    assert read(read_xlsx, path)[0] == [(3, ["", "login"]), (7, ["", "ivan"])]


def test_a_zip_of_many_files_is_refused_before_it_is_opened(tmp_path) -> None:
    """Opening a zip keeps an object per file: a 50 MB zip of empty files is 600,000."""
    path = workbook(tmp_path / "many.xlsx", LOGIN_ROW)
    with zipfile.ZipFile(path, "a") as z:
        for n in range(25_000):
            z.writestr(f"xl/media/{n:06d}", b"")
    message, _ = refused(read_xlsx, path)
    assert "cannot be read (it holds more files than any workbook)" in message


def test_a_workbook_with_a_dtd_is_refused(tmp_path) -> None:
    """No workbook has one; its entities could expand a few bytes into gigabytes."""
    rows = b"<row><c t='inlineStr'><is><t>&lol;</t></is></c></row>"
    path = workbook(tmp_path / "dtd.xlsx", rows, prolog=b'<!DOCTYPE x [<!ENTITY lol "lol">]>')
    message, _ = refused(read_xlsx, path)
    assert "cannot be read" in message and "DTD" in message


# -- encodings ------------------------------------------------------------------------


def decoded(tmp_path: Path, data: bytes) -> tuple[str, str]:
    return decode(tmp_path / "list.csv", data)


def test_western_windows_text_reads_as_cp1252_not_as_a_guess(tmp_path) -> None:
    text = "login;password\nmüller;pässwörd\nÉlodie;Crème brûlée\n"
    assert decoded(tmp_path, text.encode("cp1252")) == (text, "cp1252 (Windows Western)")


def test_russian_windows_text_reads_as_cp1251(tmp_path) -> None:
    text = "Логин;Пароль\nиван@mail.ru;Пароль-1\nпётр;ООО «Ромашка» №5\n"
    assert decoded(tmp_path, text.encode("cp1251")) == (text, "cp1251 (Windows Cyrillic)")


@pytest.mark.parametrize(
    ("name", "data"),
    [("BOM", b"\xef\xbb\xbflogin;password\n"), ("no BOM", "логин;пароль\n".encode())],
)
def test_utf8_is_taken_by_its_bytes(tmp_path, name, data) -> None:
    text, encoding = decoded(tmp_path, data)
    assert text.lstrip("\ufeff") in ("login;password\n", "логин;пароль\n")
    assert encoding.startswith("UTF-8")


def test_text_that_fits_both_code_pages_is_refused_naming_them(tmp_path) -> None:
    with pytest.raises(KnownError) as refusal:
        decoded(tmp_path, "login;password\nivan;pw№1\n".encode("cp1251"))  # or pw¹1
    message = str(refusal.value)
    assert "cp1251 (Windows Cyrillic) or cp1252 (Windows Western)" in message
    assert "CSV UTF-8" in message and "nothing was imported" in message


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("cp866", "Логин;Пароль\nиван;секрет\nпётр;пароль\n"),  # DOS Russian
        ("koi8_r", "Логин;Пароль\nиван;секрет\nпётр;пароль\n"),
        ("cp1250", "login;password\nZażółć;gęślą jaźń\n"),  # Central European
        ("cp775", "login;password\nmüller;pässwörd\n"),  # what charset-normalizer guessed
    ],
)
def test_text_in_other_code_pages_is_refused_not_misread(tmp_path, encoding, text) -> None:
    with pytest.raises(KnownError, match=r"cannot be told for sure.*CSV UTF-8"):
        decoded(tmp_path, text.encode(encoding))


def test_a_mostly_binary_file_is_refused_whole(tmp_path) -> None:
    with pytest.raises(KnownError, match="binary data"):
        decoded(tmp_path, b"login;password\n" + bytes(range(1, 32)) * 500)


# -- a cell's text --------------------------------------------------------------------


def test_identifiers_are_normalized_and_odd_characters_named() -> None:
    assert identifier(" ｉｖａｎ\u00a0") == "ivan"  # full-width letters, a no-break space
    assert odd_character("iva\u200bn", invisible=True) == (
        "holds an invisible character (U+200B ZERO WIDTH SPACE) that makes it look like "
        "another value; type it again without it"
    )
    assert odd_character("iva\u200bn", invisible=False) is None
    assert "control character (U+0000)" in (odd_character("p\x00w", invisible=False) or "")
    assert odd_character("line\nbreak", invisible=False, line_breaks=True) is None
    assert odd_character("Пароль 1 «ё»\u00a0", invisible=True) is None


# -- a list's layout: where its header is, which rows are totals -------------------------

ORDER_NAMES = {"клиент": "client", "артикул": "article", "количество": "quantity"}


def test_the_header_is_found_under_a_title_and_said_in_a_note() -> None:
    rows = iter([(1, ["Заказы на 27.11"]), (2, ["Клиент", "Артикул", "Количество"]), (3, ["a"])])
    notes: list[str] = []

    header = find_header(rows, ORDER_NAMES, notes, required=("client", "quantity"))

    assert header is not None and not header.missing
    assert (header.row, header.columns) == (2, {"client": 0, "article": 1, "quantity": 2})
    assert notes == ["row 2 taken as the header (the row above it left out)"]
    assert list(rows) == [(3, ["a"])]  # what is left are the rows under it


def test_without_a_header_in_the_first_rows_the_nearest_says_what_it_lacks() -> None:
    title = [(n, [f"note {n}"]) for n in range(1, HEADER_ROWS)]
    rows = [*title, (HEADER_ROWS, ["Клиент", "Артикул"]), (HEADER_ROWS + 1, ["Количество"])]
    notes: list[str] = []

    header = find_header(iter(rows), ORDER_NAMES, notes, required=("client", "quantity"))

    assert header is not None
    assert (header.row, header.missing, header.has()) == (
        HEADER_ROWS,
        ["quantity"],
        "Клиент, Артикул",
    )
    assert notes == []
    assert find_header(iter([]), ORDER_NAMES, notes, required=("client",)) is None


def test_a_header_needs_one_of_its_any_of_columns() -> None:
    rows = [(1, ["Клиент", "Штрихкод"]), (2, ["Артикул"])]
    notes: list[str] = []
    header = find_header(iter(rows), ORDER_NAMES, notes, any_of=("article", "quantity"))
    assert header is not None and header.row == 2 and not header.missing
    assert notes == ["row 2 taken as the header (the row above it left out)"]


@pytest.mark.parametrize(
    ("cells", "word"),
    [
        (["Итого", "", "", "15", "45 000,00 ₽"], "Итого"),
        (["ИТОГО:", "", "", "15"], "ИТОГО:"),
        (["", "Всего", "", "3 шт"], "Всего"),  # in the client's column
        (["", "", "Total"], "Total"),  # in the article's column
        (["Итого по заказу", "", "", "1,5"], "Итого по заказу"),
        (["Итого"], "Итого"),
        (["Итого", "", "A1", "15"], None),  # an article: an order row
        (["ООО Итого", "wb", "A1", "1"], None),
        (["", "Totally Inc", "A1", "1"], None),
        (["", "", "", "Total"], None),  # not where a row names its subject
    ],
)
def test_a_totals_row_says_a_total_word_where_a_row_names_its_subject(cells, word) -> None:
    assert totals_word(cells, [1, 2]) == word


def test_totals_rows_are_left_out_with_a_note() -> None:
    rows = [(2, ["Acme", "A1", "2"]), (3, ["ИТОГО:", "", "2"]), (4, ["Acme", "A2", "1"])]
    notes: list[str] = []
    assert list(data_rows(rows, [0, 1], notes)) == [rows[0], rows[2]]
    assert notes == ["row 3 left out: a totals row (“ИТОГО:”)"]


def test_a_title_line_without_separators_does_not_decide_the_separator(tmp_path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("Orders for 27.11\nClient,Article,Quantity\nAcme,A1,2\n", encoding="utf-8")
    notes: list[str] = []
    assert list(read_csv(path, notes))[1:] == [
        (2, ["Client", "Article", "Quantity"]),
        (3, ["Acme", "A1", "2"]),
    ]
    assert "columns separated by ','" in notes[0]
