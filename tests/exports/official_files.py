"""Checks an official workbook must pass, shared by the export and end-to-end tests: every
cell in Vietnamese (outside the data dictionary), and the printed PDF (LibreOffice) with its
page count, titles, header rows and diacritics."""

from __future__ import annotations

import html.parser
import re
import shutil
import subprocess
import unicodedata
from datetime import date, datetime
from pathlib import Path

import openpyxl

from cchc.exports.workbook import DICTIONARY_SHEET

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")

# A Vietnamese syllable, diacritics removed: initial consonant, vowels, final consonant.
SYLLABLE = re.compile(
    r"^(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdghklmnprstvx])?"
    r"([aeiouy]{1,3})"
    r"(ch|ng|nh|[cmnpt])?$"
)
# English words that happen to spell a Vietnamese syllable without its marks.
ENGLISH_SYLLABLES = {"the", "not", "yet"}
PROPER_NAMES = {"Office"}
CAMEL = re.compile(
    r"(?<=[a-zà-ỹđ])(?=[A-ZĐ])|(?<=[A-ZĐ])(?=[A-ZĐ][a-zà-ỹđ])"
)  # I-Office, the province's document system, by its own name


def _bare(word: str) -> str:
    text = unicodedata.normalize("NFD", word.lower()).replace("đ", "d")
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def english_words(text: str) -> list[str]:
    """Words of `text` that are not Vietnamese: codes (upper case, digits) are not words."""
    found = []
    for token in re.findall(r"[^\W\d_]+", text):
        if len(token) <= 4 and sum(ch.isupper() for ch in token) >= 2:
            continue  # an abbreviation: TTg, QĐ, UBND
        # Source field names are Vietnamese in camel case (NgayHenTra): each part a syllable.
        for word in CAMEL.sub(" ", token).split():
            if len(word) == 1 or word in PROPER_NAMES or word.isupper():
                continue  # a letter (I, II), a code or an acronym: TTHC, CKMB
            bare = _bare(word)
            has_marks = bare != word.lower()
            if not SYLLABLE.match(bare) or (not has_marks and bare in ENGLISH_SYLLABLES):
                found.append(word)
    return found


def non_vietnamese_cells(path: Path) -> list[tuple[str, str, object]]:
    """(sheet, cell, value) of every cell outside the dictionary sheet that is not Vietnamese:
    English words, Excel booleans (printed TRUE/FALSE)."""
    bad = []
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        if sheet.title == DICTIONARY_SHEET:
            continue
        texts = [("sheet name", sheet.title)]
        texts += [("header", str(sheet.oddHeader.left.text or "")),
                  ("footer", str(sheet.oddFooter.right.text or ""))]  # fmt: skip
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, bool):
                    bad.append((sheet.title, cell.coordinate, cell.value))
                elif isinstance(cell.value, str):
                    texts.append((cell.coordinate, cell.value))
        for where, text in texts:
            # Page-header codes (&P, &"Font,Regular") are layout, not words.
            text = (
                re.sub(r'&"[^"]*"|&[A-Z]|&\d+', " ", text)
                if where in ("header", "footer")
                else text
            )
            words = english_words(text)
            if words:
                bad.append((sheet.title, where, f"{text!r}: {words}"))
    return bad


def to_pdf(books: list[Path], out: Path) -> dict[str, Path]:
    """Each workbook printed to PDF by LibreOffice, as a user would print it."""
    run = subprocess.run(
        [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{out}/profile",
         "--convert-to", "pdf", "--outdir", str(out), *map(str, books)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    pdfs = {b.name: out / f"{b.stem}.pdf" for b in books}
    for name, pdf in pdfs.items():
        assert pdf.exists() and pdf.stat().st_size > 1000, name
    return pdfs


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page, in reading order, normalised to NFC."""
    run = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr
    pages = run.stdout.decode("utf-8").split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return [unicodedata.normalize("NFC", p) for p in pages]


def squeeze(text: str) -> str:
    """Whitespace collapsed: wrapped header cells print across lines."""
    return " ".join(text.split())


def as_of_text(moment: date | datetime) -> str:
    return f"{moment:%d/%m/%Y}"


class _Text(html.parser.HTMLParser):
    """The text a reader sees: everything outside <style>."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._style = False

    def handle_starttag(self, tag, attrs):
        self._style = tag == "style"

    def handle_endtag(self, tag):
        self._style = False

    def handle_data(self, data):
        if not self._style:
            self.parts.append(data)


def non_vietnamese_html(path: Path) -> list[str]:
    """English words in the visible text of an HTML report."""
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return english_words(" ".join(parser.parts))
