"""The console's languages and formats: which language to show (the Settings choice or
the system's), the Qt translators that show it, and dates, numbers and money in that
language's locale.

Translations are Qt Linguist sources (`translations/buyback_<lang>.ts`, in the repo) that
the build compiles into `.qm` files next to them:

    python -m app.ui.i18n update   # after changing UI strings: refresh the .ts sources
    python -m app.ui.i18n build    # compile them (scripts/setup.sh and package.sh do)
    python -m app.ui.i18n check    # fail if a string of the code is not translated
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QDate,
    QLibraryInfo,
    QLocale,
    QTime,
    QTranslator,
)

from app.core.support.text import LANGUAGES

log = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# The .py files whose strings are translated: the console's, and the engine's messages
# marked with app.core.support.text.QT_TRANSLATE_NOOP.
SOURCES = Path(__file__).resolve().parents[1]
ENGLISH = "en"  # the language the code is written in: it needs no translator
NAMES = {"en": "English", "ru": "Русский"}  # each in itself: anyone finds their own
_QT_LANGUAGE = {"en": QLocale.Language.English, "ru": QLocale.Language.Russian}
_DEFAULT_TERRITORY = {"en": QLocale.Country.UnitedStates, "ru": QLocale.Country.Russia}


def resolve(choice: str, system: QLocale | None = None) -> tuple[str, QLocale]:
    """The language to show and the locale whose formats to use, for a Settings choice
    ("system", "en" or "ru").

    The language is the one chosen, or for "system" the first of the system's preferred
    languages that the console speaks (English if none). Formats are the system's
    regional ones whatever the language (as on Windows, where display language and
    regional format are separate settings): an operator in Russia who reads English
    still sees 26.11.2026 and 3 990,50 ₽. Only where the system sets no locale at all
    ("C") do they follow the language (ru_RU, en_US).
    """
    system = system or QLocale.system()
    if choice not in LANGUAGES:
        preferred = [tag.replace("_", "-").split("-")[0].lower() for tag in system.uiLanguages()]
        choice = next((lang for lang in preferred if lang in LANGUAGES), ENGLISH)
    if system.language() == QLocale.Language.C:
        return choice, QLocale(_QT_LANGUAGE[choice], _DEFAULT_TERRITORY[choice])
    return choice, system


def qm_file(language: str) -> Path:
    return TRANSLATIONS / f"buyback_{language}.qm"


def loadable() -> list[str]:
    """The languages this installation can show: English, and each whose compiled
    translation is present and loads (the selftest checks that none is missing)."""
    return [ENGLISH] + [
        lang for lang in LANGUAGES if lang != ENGLISH and QTranslator().load(str(qm_file(lang)))
    ]


def languages_installed() -> bool:
    """Says (on stderr) which console languages load; False when one is missing: the
    selftest's check of the package."""
    found = loadable()
    print(f"Console languages: {', '.join(found)}", file=sys.stderr)
    missing = sorted(set(LANGUAGES) - set(found))
    if missing:
        print(f"selftest: no compiled translation for {', '.join(missing)}", file=sys.stderr)
    return not missing


_installed: list[QTranslator] = []
_applied = "system"


def applied_choice() -> str:
    """The Settings choice the console shows now ("system", "en" or "ru")."""
    return _applied


def apply_language(choice: str, system: QLocale | None = None) -> str:
    """Installs the translators for `choice` into the running application (replacing
    earlier ones) and makes its locale the default for formats; returns the language
    now shown. Widgets built afterwards speak it; the main window rebuilds itself.

    A language whose compiled translation is missing (a source checkout that skipped
    the build) falls back to English, words and formats alike, with a warning in the
    log; Settings offers only the languages that load."""
    global _applied
    language, locale = resolve(choice, system)
    app = QCoreApplication.instance()
    for translator in _installed:
        if app is not None:
            app.removeTranslator(translator)
        translator.deleteLater()
    _installed.clear()
    _applied = choice
    if language != ENGLISH and app is not None and not _install(app, language):
        log.warning(
            "no compiled translation for %r in %s; run `python -m app.ui.i18n build`",
            language,
            TRANSLATIONS,
        )
        language, locale = resolve(ENGLISH, system)
    QLocale.setDefault(locale)
    set_formats(locale)
    return language


def _install(app: QCoreApplication, language: str) -> bool:
    """The console's translation and Qt's own (standard buttons, dialogs); False if the
    console's is missing (Qt's is optional)."""
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name, folder, required in (
        (f"buyback_{language}", str(TRANSLATIONS), True),
        (f"qtbase_{language}", qt_dir, False),
    ):
        translator = QTranslator(app)
        if translator.load(name, folder):
            app.installTranslator(translator)
            _installed.append(translator)
        else:
            translator.deleteLater()
            if required:
                return False
    return True


# -- formats -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Formats:
    locale: QLocale
    time: str  # the locale's short time with seconds: "HH:mm:ss", "h:mm:ss AP"
    date: str  # the locale's short date with a four-digit year: "dd.MM.yyyy", "M/d/yyyy"


def _formats_for(locale: QLocale) -> Formats:
    short_time = locale.timeFormat(QLocale.FormatType.ShortFormat)
    time = short_time if "s" in short_time else short_time.replace("mm", "mm:ss", 1)
    date = locale.dateFormat(QLocale.FormatType.ShortFormat)
    if "yyyy" not in date:  # "M/d/yy": a four-digit year reads unambiguously in reports
        date = date.replace("yy", "yyyy", 1)
    return Formats(locale, time, date)


_formats = _formats_for(resolve("system")[1])  # until apply_language says otherwise


def set_formats(locale: QLocale) -> None:
    global _formats
    _formats = _formats_for(locale)


def local_time(value: datetime | None, with_date: bool = False) -> str:
    """A UTC instant in the operator's time zone and locale: time with seconds, or date
    and time."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    v = value.astimezone()
    # The date and the time apart: a QDateTime in the local zone costs ten times as much
    # to make, and the Tasks table formats thousands of these.
    f = _formats
    clock = f.locale.toString(QTime(v.hour, v.minute, v.second), f.time)
    if not with_date:
        return clock
    return f"{f.locale.toString(QDate(v.year, v.month, v.day), f.date)} {clock}"


def money(minor: int | None) -> str:
    """Kopecks as rubles in the locale's currency format: 3 990,00 ₽ or ₽3,990.00."""
    if minor is None:
        return ""
    return _formats.locale.toCurrencyString(int(minor) / 100, "₽", 2)  # int(): see number()


def number(value: int) -> str:
    """A count with the locale's digit grouping: 1 234 567, 1,234,567."""
    # int(): a count a database summed may come as a Decimal, which Qt's toString takes
    # for an overflowing integer (an exception inside a paint, then a crash).
    return _formats.locale.toString(int(value))


# -- the build ---------------------------------------------------------------------------


def _tool(name: str) -> str:
    """lupdate/lrelease as shipped inside the PySide6 wheel (any OS)."""
    import PySide6

    folder = Path(PySide6.__file__).parent
    for candidate in (folder / name, folder / f"{name}.exe"):
        if candidate.exists():
            return str(candidate)
    raise SystemExit(f"{name} not found in {folder}; install PySide6 (pip install -e '.[gui]')")


def ts_files() -> list[Path]:
    return sorted(TRANSLATIONS.glob("buyback_*.ts"))


def source_files() -> list[Path]:
    return sorted(SOURCES.rglob("*.py"))


def update(ts: list[Path] | None = None) -> None:
    """Refreshes the .ts sources from the code's strings (new ones come in unfinished,
    removed ones go)."""
    sources = [str(p) for p in source_files()]
    for path in ts or ts_files():
        subprocess.run(
            [
                _tool("lupdate"),
                "-no-obsolete",
                "-locations",
                "relative",
                *sources,
                "-ts",
                str(path),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )


def build() -> list[Path]:
    """Compiles every .ts into its .qm; returns the .qm files."""
    out = []
    for path in ts_files():
        qm = path.with_suffix(".qm")
        subprocess.run([_tool("lrelease"), "-silent", str(path), "-qm", str(qm)], check=True)
        out.append(qm)
    return out


def untranslated(ts: Path) -> list[str]:
    """The strings of the code that `ts` does not translate yet: found by updating a copy
    of it, so a string added to the code without a translation is caught."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / ts.name
        copy.write_bytes(ts.read_bytes())
        update([copy])
        root = ET.parse(copy).getroot()
    missing = []
    for context in root.iter("context"):
        for message in context.iter("message"):
            translation = message.find("translation")
            forms = [] if translation is None else list(translation.iter("numerusform"))
            texts = (
                [f.text for f in forms]
                if forms
                else [translation.text if translation is not None else None]
            )
            unfinished = translation is None or translation.get("type") == "unfinished"
            if unfinished or not all(t and t.strip() for t in texts):
                missing.append(f"{context.findtext('name')}: {message.findtext('source')}")
    return missing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.ui.i18n", description=__doc__.split("\n")[0])
    p.add_argument("command", choices=("update", "build", "check"))
    args = p.parse_args(argv)
    if args.command == "update":
        update()
        for ts in ts_files():
            print(f"{ts}: {len(untranslated(ts))} strings to translate")
        return 0
    if args.command == "build":
        for qm in build():
            print(qm)
        return 0
    bad = {ts.name: untranslated(ts) for ts in ts_files()}
    for name, missing in bad.items():
        for m in missing:
            print(f"{name}: not translated: {m}")
    return 1 if any(bad.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
