#!/usr/bin/env python3
"""Check that every translation catalog is complete and safe to format.

Usage (from the repository root):

    .venv/bin/python wasteex/translations/check_complete.py [--extract] [--quiet]

Exit status 0 when every catalog is complete, 1 otherwise (each problem is
printed as ``locale: file:line: message``). Checked, for every catalog
``<locale>/LC_MESSAGES/messages.po`` beside this file:

* the required locales exist (``zh_Hans_CN`` and ``en``; Babel normalises
  ``zh_CN`` to ``zh_Hans_CN``, so a ``zh_CN`` directory is silently ignored
  by Flask-Babel and is reported here);
* no entry is untranslated (empty msgstr, or any empty plural form);
* no entry is fuzzy (``make catalogs`` compiles with ``--use-fuzzy``, so a
  fuzzy guess would reach users);
* printf placeholders (``%(name)s``, ``%s``, ``%%``) of msgstr match those of
  msgid exactly (as a multiset), and msgstr has no stray ``%``; Jinja's
  new-style gettext always applies ``%``, so ``%%`` must stay ``%%``;
* for entries flagged ``python-brace-format``, the ``{...}`` fields match;
* every msgid of ``messages.pot`` is in the catalog (i.e. ``pybabel update``
  ran after the last extraction);
* in catalogs other than ``en``, no msgstr is a verbatim copy of an English
  msgid (except names listed in ``SAME_AS_SOURCE_OK``).

With ``--extract`` the sources are also extracted in memory with the rules of
``babel.cfg`` (the same keywords as ``make translations``), and msgids that
are in the code but not yet in a catalog are reported: this catches a visible
string added without running ``make translations``.

Only the standard library and Babel are used, so tests can run it as a
subprocess or import it and call ``find_problems()``.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DOMAIN = "messages"
REQUIRED_LOCALES = ("zh_Hans_CN", "en")
# Locale directories that Babel/Flask-Babel never load (see FIELD_NOTES.md).
IGNORED_BY_BABEL = {"zh_CN": "zh_Hans_CN", "zh": "zh_Hans_CN"}
# Msgids that a translated catalog may keep verbatim (brand names, codes).
SAME_AS_SOURCE_OK = frozenset({"WasteEx"})
# The keywords `make translations` passes to pybabel extract, on top of Babel's defaults.
EXTRA_KEYWORDS = ("_l", "lazy_gettext")

# A printf conversion as Python's %-operator reads it; "%%" is a literal percent sign.
PRINTF = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[diouxXeEfFgGcrsa%])")
BRACE_FIELD = re.compile(r"\{[^{}]*\}")
LATIN = re.compile(r"[A-Za-z]")


def printf_tokens(text: str) -> tuple[Counter, list[str]]:
    """The printf conversions in text, and any '%' that starts no valid conversion."""
    tokens: Counter = Counter()
    stray: list[str] = []
    pos = 0
    while True:
        pos = text.find("%", pos)
        if pos < 0:
            return tokens, stray
        match = PRINTF.match(text, pos)
        if match is None:
            stray.append(text[pos:pos + 8])
            pos += 1
            continue
        tokens[match.group(0)] += 1
        pos = match.end()


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ("",)
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _where(locale: str, path: Path, message) -> str:
    try:
        shown = path.relative_to(ROOT)
    except ValueError:
        shown = path
    line = getattr(message, "lineno", None)
    ident = _as_tuple(message.id)[0]
    return f"{locale}: {shown}:{line or '?'}: msgid {ident!r}"


def check_message(locale: str, path: Path, message) -> list[str]:
    """Problems of one catalog entry."""
    problems: list[str] = []
    where = _where(locale, path, message)
    ids = _as_tuple(message.id)
    strings = _as_tuple(message.string)
    if message.fuzzy:
        problems.append(f"{where}: fuzzy")
    if not any(strings):
        problems.append(f"{where}: untranslated")
        return problems
    if any(not s for s in strings):
        problems.append(f"{where}: a plural form is untranslated")
    uses_printf = "python-format" in message.flags or any("%" in s for s in ids + strings)
    for index, text in enumerate(strings):
        if not text:
            continue
        # msgstr[0] pairs with msgid; further plural forms pair with msgid_plural.
        source = ids[0] if index == 0 else ids[-1]
        if uses_printf:
            expected, _stray_source = printf_tokens(source)
            found, stray = printf_tokens(text)
            if len(ids) > 1:
                # A plural form may omit the count (e.g. "one file"); names must still match.
                expected = Counter({k: v for k, v in expected.items() if k in found or "(" in k or k == "%%"})
            if found != expected:
                missing = sorted((expected - found).elements())
                extra = sorted((found - expected).elements())
                detail = []
                if missing:
                    detail.append("missing " + ", ".join(missing))
                if extra:
                    detail.append("unexpected " + ", ".join(extra))
                problems.append(f"{where}: placeholder mismatch ({'; '.join(detail)})")
            if stray:
                problems.append(f"{where}: stray '%' in msgstr near {stray[0]!r} (write '%%' for a percent sign)")
        if "python-brace-format" in message.flags:
            if Counter(BRACE_FIELD.findall(source)) != Counter(BRACE_FIELD.findall(text)):
                problems.append(f"{where}: brace placeholder mismatch")
    if (locale != "en" and message.id not in SAME_AS_SOURCE_OK
            and strings == ids[:len(strings)] and any(LATIN.search(s) for s in ids)):
        problems.append(f"{where}: msgstr is a copy of the English msgid (untranslated?)")
    return problems


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def _ids(catalog: Catalog) -> set:
    return {message.id for message in catalog if message.id}


def extracted_ids(root: Path = ROOT) -> set:
    """Msgids in the sources now, extracted with babel.cfg like `make translations`."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    try:
        from babel.messages.frontend import parse_mapping_cfg as parse_mapping
    except ImportError:  # Babel < 2.14
        from babel.messages.frontend import parse_mapping

    keywords = dict(DEFAULT_KEYWORDS)
    for keyword in EXTRA_KEYWORDS:
        keywords[keyword] = None
    with (root / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping(handle)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(root), method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    found.discard("")
    # Babel keys plural entries by the singular msgid.
    return {m[0] if isinstance(m, tuple) else m for m in found}


def find_problems(translations_dir: Path = HERE, extract: bool = False) -> tuple[list[str], dict[str, int]]:
    """All problems found, and the number of translated entries per locale."""
    problems: list[str] = []
    counts: dict[str, int] = {}
    pot_path = translations_dir / f"{DOMAIN}.pot"
    template_ids = _ids(_read(pot_path)) if pot_path.exists() else None
    if template_ids is None:
        problems.append(f"{pot_path}: missing; run `make translations`")
    source_ids = extracted_ids() if extract else None

    locales = sorted(p.name for p in translations_dir.iterdir()
                     if (p / "LC_MESSAGES" / f"{DOMAIN}.po").is_file())
    for locale in REQUIRED_LOCALES:
        if locale not in locales:
            problems.append(f"{locale}: no catalog {locale}/LC_MESSAGES/{DOMAIN}.po "
                            f"(pybabel init -i {pot_path.name} -d {translations_dir.name} -l {locale})")
    for locale in locales:
        if locale in IGNORED_BY_BABEL:
            problems.append(f"{locale}: Flask-Babel never loads this directory; "
                            f"name the catalog {IGNORED_BY_BABEL[locale]}")
            continue
        path = translations_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog = _read(path, locale)
        translated = 0
        for message in catalog:
            if not message.id:
                continue
            entry_problems = check_message(locale, path, message)
            problems.extend(entry_problems)
            if not entry_problems:
                translated += 1
        counts[locale] = translated
        catalog_ids = _ids(catalog)
        if template_ids is not None:
            for msgid in sorted(template_ids - catalog_ids, key=str):
                problems.append(f"{locale}: msgid {msgid!r} is in {DOMAIN}.pot but not in the catalog "
                                f"(run `make translations`)")
        if source_ids is not None:
            for msgid in sorted(source_ids - catalog_ids, key=str):
                problems.append(f"{locale}: msgid {msgid!r} is in the code but not in the catalog "
                                f"(run `make translations` and translate it)")
    return problems, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=HERE, help="translations directory (default: this one)")
    parser.add_argument("--extract", action="store_true",
                        help="also extract the sources in memory and report strings missing from the catalogs")
    parser.add_argument("--quiet", action="store_true", help="print problems only")
    args = parser.parse_args(argv)
    problems, counts = find_problems(args.dir, extract=args.extract)
    for problem in problems:
        print(problem)
    if not args.quiet:
        summary = ", ".join(f"{locale}: {n} complete" for locale, n in sorted(counts.items()))
        print(f"{len(problems)} problem(s); {summary}", file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
