"""Importing accounts from the files operators have: lists in the encodings and separators
spreadsheets write, storage-state folders and browser profiles, and broken files that
must be rejected row by row or refused whole, never half-written."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from helpers import row_counts, seed_market
from sqlalchemy import select

from app.core.accounts.admin import upsert_accounts
from app.core.accounts.imports import ImportPlan, apply_import, plan_import
from app.core.accounts.pool import account_refs
from app.core.accounts.sessions import DbSessionStore
from app.core.domain.models import MarketPlaceAccount as A
from app.core.support.errors import KnownError
from app.core.support.tables import MAX_BYTES

RU_HEADER = "Логин;Пароль;Телефон;Маркетплейс;Примечание;Лимит в день"


@pytest.fixture
def markets(db) -> dict[str, int]:
    return {code: seed_market(db, accounts=0, code=code).id for code in ("sandbox", "ozon")}


def plan(db, path: Path, market: str = "sandbox") -> ImportPlan:
    with db.session() as s:
        return plan_import(s, path, default_marketplace=market)


def apply(db, p: ImportPlan) -> dict[str, int]:
    with db.session() as s:
        counts = apply_import(s, p)
        s.commit()
        return counts


def outcomes(p: ImportPlan) -> list[tuple[str, str, str]]:
    return [(r.where or r.source, r.login, str(r.outcome)) for r in p.rows]


def stored(db) -> dict[str, tuple]:
    """login → (marketplace id, phone, label, daily limit, profile dir) of every account."""
    with db.session() as s:
        rows = s.execute(
            select(A.login, A.marketplace_id, A.phone, A.label, A.daily_limit, A.profile_dir)
        )
        return {r[0]: tuple(r[1:]) for r in rows}


def passwords(db) -> dict[str, str]:
    with db.session() as s:
        ids = list(s.scalars(select(A.id)))
        return {ref.login: ref.password for ref in account_refs(s, ids).values()}


def test_russian_excel_csv_in_cp1251_with_semicolons(db, markets, tmp_path) -> None:
    path = tmp_path / "аккаунты.csv"
    path.write_bytes(
        "\n".join(
            [
                RU_HEADER,
                "ivan@mail.ru;Пароль-1;+7 999 000-11-22;sandbox;основной;3",
                "petr;pw-2;;OZON;запасной;",
                "olga;pw-3;;;;",
            ]
        ).encode("cp1251")
    )
    p = plan(db, path)
    assert outcomes(p) == [
        ("row 2", "ivan@mail.ru", "add"),
        ("row 3", "petr", "add"),
        ("row 4", "olga", "add"),
    ]
    assert any("cp1251" in n and "';'" in n for n in p.notes)
    assert apply(db, p) == {"add": 3, "update": 0, "skip": 0, "reject": 0}
    accounts = stored(db)
    assert accounts["ivan@mail.ru"][1:4] == ("+7 999 000-11-22", "основной", 3)
    assert accounts["petr"][0] != accounts["olga"][0]  # "OZON" matched the code ozon
    assert passwords(db) == {"ivan@mail.ru": "Пароль-1", "petr": "pw-2", "olga": "pw-3"}


def test_utf8_with_bom_and_english_headers_and_commas(db, markets, tmp_path) -> None:
    path = tmp_path / "accounts.csv"
    text = "Login , PASSWORD,Phone,Daily limit,Notes\nanna,s3cret,+79991112233,5,VIP\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    p = plan(db, path)
    assert outcomes(p) == [("row 2", "anna", "add")]
    apply(db, p)
    assert stored(db)["anna"][1:4] == ("+79991112233", "VIP", 5)
    assert passwords(db) == {"anna": "s3cret"}


def test_xlsx_with_numbers_as_excel_keeps_them(db, markets, tmp_path) -> None:
    path = tmp_path / "accounts.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Логин", "Пароль", "Телефон", "Дневной лимит", "Метка"])
    sheet.append(["buyer1", "pw1", 79990001122, 2.0, "a"])
    sheet.append([None, None, None, None, None])  # blank rows are not accounts
    sheet.append(["buyer2", "pw2", None, None, None])
    book.save(path)
    p = plan(db, path)
    assert outcomes(p) == [("row 2", "buyer1", "add"), ("row 4", "buyer2", "add")]
    apply(db, p)
    assert stored(db)["buyer1"][1:4] == ("79990001122", "a", 2)
    assert stored(db)["buyer2"][1:4] == ("", "", None)


async def test_storage_state_folder_stores_sessions_encrypted(db, markets, tmp_path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    cookie = {"name": "sid", "value": "abc123", "domain": "127.0.0.1", "path": "/"}
    state = {"cookies": [cookie], "origins": []}
    (folder / "buyer1.json").write_text(json.dumps(state))
    (folder / "other.json").write_text(json.dumps({**state, "login": "buyer2"}))
    (folder / "broken.json").write_text('{"cookies": [')
    (folder / "notes.txt").write_text("not an account")
    p = plan(db, folder)
    assert outcomes(p) == [
        ("broken.json", "broken", "reject"),
        ("buyer1.json", "buyer1", "add"),
        ("other.json", "buyer2", "add"),
    ]
    assert p.rows[0].reason.startswith("invalid JSON")
    assert any("notes.txt" in n for n in p.notes)
    apply(db, p)
    with db.session() as s:
        buyer1 = s.scalar(select(A).where(A.login == "buyer1"))
        assert buyer1.session_state.startswith("enc:v1:")
        assert "abc123" not in buyer1.session_state
        assert buyer1.password == ""
    assert await DbSessionStore(db).load(buyer1.id) == state
    # The same folder again changes nothing.
    assert [r.outcome for r in plan(db, folder).rows] == ["reject", "skip", "skip"]


def make_profile(folder: Path) -> Path:
    (folder / "Default").mkdir(parents=True)
    (folder / "Local State").write_text("{}")
    (folder / "Default" / "Preferences").write_text("{}")
    return folder


def test_profile_folders_become_the_accounts_profile(db, markets, tmp_path) -> None:
    single = make_profile(tmp_path / "buyer7")
    p = plan(db, single)
    assert (p.kind, outcomes(p)) == ("profiles", [("buyer7", "buyer7", "add")])
    profiles = tmp_path / "profiles"
    make_profile(profiles / "buyer8")
    make_profile(profiles / "buyer9")
    p2 = plan(db, profiles)
    assert outcomes(p2) == [("buyer8", "buyer8", "add"), ("buyer9", "buyer9", "add")]
    apply(db, p)
    apply(db, p2)
    assert stored(db)["buyer8"][4] == str((profiles / "buyer8").resolve())
    assert stored(db)["buyer7"][4] == str(single.resolve())


def test_rows_are_rejected_or_skipped_with_file_row_and_field(db, markets, tmp_path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        "\n".join(
            [
                RU_HEADER,
                "ivan;pw;;;;",
                "ivan;other;;;;",  # the same login twice
                ";pw;;;;",
                "olga;pw;;wildberries;;",
                "petr;pw;;;;много",
                "nopass;;;;;",
            ]
        ),
        encoding="utf-8",
    )
    p = plan(db, path)
    assert outcomes(p) == [
        ("row 2", "ivan", "add"),
        ("row 3", "ivan", "skip"),
        ("row 4", "", "reject"),
        ("row 5", "olga", "reject"),
        ("row 6", "petr", "reject"),
        ("row 7", "nopass", "reject"),
    ]
    reasons = [r.reason for r in p.rows]
    assert reasons[1] == "duplicate of row 2 (same login)"
    assert "'login'" in reasons[2]
    assert "'marketplace'" in reasons[3] and "wildberries" in reasons[3]
    assert "'daily limit'" in reasons[4] and "много" in reasons[4]
    assert "'password'" in reasons[5]
    assert p.rows[3].place == "list.csv, row 5"
    assert apply(db, p)["add"] == 1
    assert list(stored(db)) == ["ivan"]
    assert passwords(db) == {"ivan": "pw"}


def test_a_list_without_login_column_is_rejected_whole(db, markets, tmp_path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("Имя;Пароль\nivan;pw\n", encoding="utf-8")
    p = plan(db, path)
    assert outcomes(p) == [("row 1 (header)", "", "reject")]
    assert "login column" in p.rows[0].reason and "Имя" in p.rows[0].reason


def test_updates_change_only_what_differs(db, markets, tmp_path) -> None:
    with db.session() as s:
        upsert_accounts(s, markets["sandbox"], [("ivan", "old-pw"), ("petr", "same")])
        s.commit()
    path = tmp_path / "list.csv"
    path.write_text("login;password;daily limit\nivan;new-pw;4\npetr;same;\n", encoding="utf-8")
    p = plan(db, path)
    assert outcomes(p) == [("row 2", "ivan", "update"), ("row 3", "petr", "skip")]
    assert p.rows[0].changes == ("password", "daily limit")
    apply(db, p)
    assert passwords(db) == {"ivan": "new-pw", "petr": "same"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"  \n\n", "empty"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("fake.xlsx", b"Login;Password\nivan;pw\n", "not an Excel workbook"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "cannot be read"),
        ("list.ods", b"whatever", "cannot import '.ods'"),
    ],
)
def test_unreadable_files_are_refused_and_nothing_written(
    db, markets, tmp_path, name, content, message
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = row_counts(db)
    with pytest.raises(KnownError, match=message) as refused:
        plan(db, path)
    assert str(path) in str(refused.value)
    assert row_counts(db) == before


def test_a_file_over_50_mb_is_refused_before_reading(db, markets, tmp_path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.write(b"login;password\n")
        f.truncate(MAX_BYTES + 1)  # sparse: instant, and reading it would take a while
    before = row_counts(db)
    with pytest.raises(KnownError, match="over the 50 MB limit"):
        plan(db, path)
    assert row_counts(db) == before


def test_dry_run_writes_nothing(db, markets, tmp_path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("login;password\nivan;pw\n", encoding="utf-8")
    before = row_counts(db)
    p = plan(db, path)
    assert outcomes(p) == [("row 2", "ivan", "add")]
    assert row_counts(db) == before


def test_import_is_all_or_nothing_when_the_database_changed(db, markets, tmp_path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("login;password\nanna;pw\nivan;pw\n", encoding="utf-8")
    p = plan(db, path)
    with db.session() as s:  # another console adds ivan after the preview
        upsert_accounts(s, markets["sandbox"], [("ivan", "theirs")])
        s.commit()
    before = row_counts(db)
    with pytest.raises(KnownError, match=r"row 3: account ivan changed"):
        apply(db, p)
    assert row_counts(db) == before
    assert passwords(db) == {"ivan": "theirs"}


def test_a_session_and_a_profile_of_one_new_account_make_one_account(db, markets, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "buyer5.json").write_text(json.dumps({"cookies": [], "origins": []}))
    make_profile(folder / "buyer5")
    p = plan(db, folder)
    assert p.kind == "profiles and storage states"
    assert outcomes(p) == [("buyer5", "buyer5", "add"), ("buyer5.json", "buyer5", "update")]
    assert p.rows[1].changes == ("session",)
    apply(db, p)
    with db.session() as s:
        (account,) = s.scalars(select(A)).all()
    assert account.profile_dir == str((folder / "buyer5").resolve())
    assert account.session_state.startswith("enc:v1:")


def test_a_western_windows_list_is_read_as_cp1252_and_stored_right(db, markets, tmp_path) -> None:
    """Found by a tester: read "as cp775", this stored m³ller with the password põssw÷rd."""
    path = tmp_path / "accounts.csv"
    path.write_bytes("login;password\nmüller;pässwörd\n".encode("cp1252"))
    p = plan(db, path)
    assert outcomes(p) == [("row 2", "müller", "add")]
    assert any("cp1252" in n for n in p.notes), p.notes
    apply(db, p)
    assert passwords(db) == {"müller": "pässwörd"}


def test_control_characters_reject_their_row_naming_the_field(db, markets, tmp_path) -> None:
    """NUL bytes past the first 8 KB (where the binary check looks) were stored inside a
    login and a password."""
    filler = [f"user{i:04d};password-{i:04d}" for i in range(500)]  # about 12 KB
    path = tmp_path / "accounts.csv"
    path.write_bytes(
        "\n".join(["login;password", *filler, "ev\0il;pw", "anna;pass\0word", "olga;ok"]).encode()
    )
    assert path.read_bytes().index(b"\0") > 8192
    p = plan(db, path)
    rejected = [(r.place, r.login, r.reason) for r in p.rows if r.outcome == "reject"]
    assert rejected == [
        ("accounts.csv, row 502", "ev<U+0000>il", ANY_CONTROL.format(field="login")),
        ("accounts.csv, row 503", "anna", ANY_CONTROL.format(field="password")),
    ]
    assert apply(db, p) == {"add": 501, "update": 0, "skip": 0, "reject": 2}
    assert not [x for x in passwords(db).items() if "\0" in "".join(x)]


ANY_CONTROL = (
    "field '{field}' holds a control character (U+0000), which no list has: the file is "
    "damaged or was not saved from a spreadsheet; export the list again"
)


def test_look_alike_logins_are_normalized_or_rejected_before_duplicates(db, markets, tmp_path):
    with db.session() as s:
        upsert_accounts(s, markets["sandbox"], [("ivan", "old-pw")])
        s.commit()
    path = tmp_path / "accounts.csv"
    rows = [
        "login;password;marketplace",
        "iva\u200bn;pw1;",  # a zero-width space
        "\u202eivan;pw2;",  # right-to-left override
        "ivan\u2066;pw3;",  # a direction isolate
        "\ufeffpetr;pw4;",  # a BOM inside the file
        "ｉｖａｎ ;new-pw;ｓａｎｄｂｏｘ",  # full-width: NFKC makes it the stored ivan
        "olga;pass\u200bword;",  # a password is kept exactly as given
    ]
    path.write_text("\n".join(rows), encoding="utf-8")
    p = plan(db, path)
    assert outcomes(p) == [
        ("row 2", "iva<U+200B>n", "reject"),
        ("row 3", "<U+202E>ivan", "reject"),
        ("row 4", "ivan<U+2066>", "reject"),
        ("row 5", "<U+FEFF>petr", "reject"),
        ("row 6", "ivan", "update"),
        ("row 7", "olga", "add"),
    ]
    assert p.rows[0].reason == (
        "field 'login' holds an invisible character (U+200B ZERO WIDTH SPACE) that makes it "
        "look like another value; type it again without it"
    )
    assert all(r.reason.startswith("field 'login' holds an invisible") for r in p.rows[1:4])
    apply(db, p)
    assert passwords(db) == {"ivan": "new-pw", "olga": "pass\u200bword"}


@pytest.fixture
def wildberries(db) -> int:
    from app.core.orders.marketplaces import add_marketplace, from_preset

    with db.session() as s:
        mp_id = add_marketplace(s, from_preset("wildberries")).id
        s.commit()
    return mp_id


def test_a_marketplace_is_matched_by_code_name_or_alias_in_any_case(
    db, markets, wildberries, tmp_path
) -> None:
    """The defect: every row of such a list was rejected as 'unknown marketplace'."""
    path = tmp_path / "аккаунты.csv"
    path.write_bytes(
        "\n".join(
            [
                "Логин;Пароль;Маркетплейс",
                "ivan;pw-1;WB",
                "petr;pw-2;Wildberries",
                "olga;pw-3;вайлдберриз",
                "anna;pw-4;wildberries",
                "oleg;pw-5;Яндекс Маркет",
            ]
        ).encode("cp1251")
    )
    p = plan(db, path)

    assert [r.outcome for r in p.rows] == ["add"] * 4 + ["reject"]
    assert [r.marketplace for r in p.rows[:4]] == ["wb"] * 4
    assert p.rows[4].reason == (
        "field 'marketplace': 'Яндекс Маркет' is Yandex Market, which is not set up here; "
        "add it in Marketplaces (or: main.py marketplaces add ym --preset yandex-market)"
    )
    apply(db, p)
    accounts = stored(db)
    assert {accounts[login][0] for login in ("ivan", "petr", "olga", "anna")} == {wildberries}
    assert "oleg" not in accounts


def test_an_unknown_or_disabled_marketplace_is_rejected_with_the_fix(
    db, wildberries, tmp_path
) -> None:
    from app.core.domain.models import MarketPlace

    path = tmp_path / "accounts.csv"
    path.write_text("login;password;marketplace\nivan;pw;Ozon\npetr;pw;WB\n", encoding="utf-8")
    with db.session() as s:
        s.get(MarketPlace, wildberries).enabled = False
        s.commit()
    before = row_counts(db)

    p = plan(db, path)

    assert [r.outcome for r in p.rows] == ["reject", "reject"]
    assert "main.py marketplaces add ozon --preset ozon" in p.rows[0].reason
    assert p.rows[0].reason.startswith("field 'marketplace': ")
    assert "disabled; enable it in Marketplaces" in p.rows[1].reason
    assert row_counts(db) == before


def test_a_list_under_a_title_with_a_totals_row_is_imported(db, markets, tmp_path) -> None:
    path = tmp_path / "accounts.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Аккаунты Озон", None, "на 27.11"])
    sheet.append(["Логин", "Пароль", "Лимит в день"])
    sheet.append(["ivan", "pw1", 3])
    sheet.append(["petr", "pw2", 2])
    sheet.append(["Итого", None, 5])
    book.save(path)

    p = plan(db, path, "ozon")

    assert outcomes(p) == [("row 3", "ivan", "add"), ("row 4", "petr", "add")]
    assert "row 2 taken as the header (the row above it left out)" in p.notes
    assert "row 5 left out: a totals row (“Итого”)" in p.notes
    apply(db, p)
    assert set(stored(db)) == {"ivan", "petr"}


def test_the_header_is_looked_for_in_the_first_ten_rows(db, markets, tmp_path) -> None:
    path = tmp_path / "list.csv"
    notes = [f"note {n};\n" for n in range(1, 11)]
    path.write_text("".join(notes[:9]) + "login;password\nivan;pw\n")
    assert outcomes(plan(db, path)) == [("row 11", "ivan", "add")]

    path.write_text("".join(notes) + "login;password\nivan;pw\n")
    p = plan(db, path)
    assert outcomes(p) == [("row 1 (header)", "", "reject")]
    assert p.rows[0].reason.endswith("(the header has: note 1)")
