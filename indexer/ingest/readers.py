"""Read one source file into a Document, picking the reader by the file's content.

Three formats: whitehouse.gov markdown with YAML front matter, the American
Presidency Project's plain text (header + citation footer), and a plain-text
fallback for a transcript with speaker labels and no metadata.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
import stat
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import frontmatter
import yaml
from dateutil import parser as dateparser
from markdown_it import MarkdownIt

from ..controls import CONTROL
from ..errors import UnreadableFile
from ..records import DATE_RANGE, Document, Source, real_date
from .speakers import PRESIDENTS

WHITEHOUSE = "whitehouse.gov"
PRESIDENCY_PROJECT = "American Presidency Project"
PLAIN_TEXT = "plain text"

_MARKDOWN = MarkdownIt("commonmark")
_MARKDOWN_CHARS = re.compile(r"[\\*_\[\]<`&]")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
MAX_FILE_BYTES = 8_000_000  # 32 times the corpus's largest page (0.25 MB); 7.9 MB of turns peaks at 371 MB
_FILE_TYPES = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
_SEPARATOR_ONLY = re.compile(r"^[#*\-_=~.\s]*$")
_BLOCK_MARKER = re.compile(r"^(?:#{1,6}\s+|>\s*)+")
# A line the page breaks before (two trailing spaces, a backslash, `<br />`) and that opens
# with a speaker label starts a new paragraph, even with no blank line in between:
# "...back to the summer.  \nMS. PSAKI:  Yeah." is a question, then an answer.
_LABEL_AFTER_HARD_BREAK = re.compile(
    r"(?:[ \u00a0]{2,}|\\|<br\s*/?>)[ \t\u00a0]*\n"
    r"(?=[ \t]*(?:Q[ \u00a0]{2,}|Q:|[A-Z][A-Z.'’\- ]{1,60}:[ \u00a0]))"
)
_APP_FOOTER = re.compile(
    r"^.*\bOnline by Gerhard Peters and John T\. Woolley|^Filed Under\s*$", re.M
)
_DEFAULT_DAYS = (dt.datetime(2000, 1, 1), dt.datetime(2001, 2, 2))  # a part the text leaves out differs
_NOT_IN_ID = re.compile(r"\s|" + CONTROL.pattern)
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")
# Biden-era pages left www.whitehouse.gov on 2025-01-20 for the archive, at the same path.
_WHITEHOUSE_BRIEFING_ROOM = re.compile(r"^https?://(?:www\.)?whitehouse\.gov(?=/briefing-room/)", re.I)
BIDEN_ARCHIVE = "https://bidenwhitehouse.archives.gov"
_PRESIDENCY_URL = re.compile(r"https?://(?:www\.)?presidency\.ucsb\.edu/[^\s<>\"')\]]+", re.I)

KINDS = (
    ("gaggle", ("gaggle",)),
    ("background call", ("background press call", "background call", "background press briefing")),
    ("press call", ("press call",)),
    ("press briefing", ("press briefing", "briefing by", "briefing with")),
    ("press conference", ("press conference",)),
    ("interview", ("interview",)),
    ("remarks", ("remarks", "excerpts", "address")),
    ("readout", ("readout",)),
    ("fact sheet", ("fact sheet",)),
    ("statement", ("statement",)),
    ("letter", ("letter", "message to")),
    ("proclamation", ("proclamation",)),
    ("executive order", ("executive order",)),
    ("memorandum", ("memorandum",)),
    ("nominations", ("nominat", "withdrawal")),
)


def read_document(path: Path, raw: bytes | None = None) -> Document:
    """Read one file (`raw`: its bytes, if already read); raise UnreadableFile with a one-line reason if it
    cannot be."""
    text = _text_of(read_file(path) if raw is None else raw)
    if _looks_like_front_matter(text):
        return _read_whitehouse(path, text)
    if _APP_FOOTER.search(text):
        return _read_presidency_project(path, text)
    return _read_plain(path, text)


def clean_text(text: str) -> str:
    """Plain, single-spaced text: no markdown, no invisible or control characters, NBSP as space."""
    text = unicodedata.normalize("NFKC", CONTROL.sub(" ", text.translate(_INVISIBLE)))
    if _MARKDOWN_CHARS.search(text):
        text = _markdown_to_text(text)
    return " ".join(text.split())


def kind_of(title: str) -> str:
    lowered = title.lower()
    for kind, needles in KINDS:
        if any(needle in lowered for needle in needles):
            return kind
    return "release"


def president_on(date: str | None) -> str | None:
    if not date:
        return None
    for name, start, end in PRESIDENTS:
        if start <= date < end:
            return name
    return None


def archived_url(url: str | None, date: str | None) -> str | None:
    """A Biden-era whitehouse.gov briefing-room link as it resolves now: the same path on
    bidenwhitehouse.archives.gov. Other links are kept as they are."""
    if url and president_on(date) == "Joe Biden":
        return _WHITEHOUSE_BRIEFING_ROOM.sub(BIDEN_ARCHIVE, url)
    return url


def read_file(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES. A FIFO, a device or a socket is refused before it
    is opened (reading one would wait forever or never end); the read stops one byte past the limit, so a file
    that grows, or is swapped for a device, cannot fill the memory either."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for is_kind, name in _FILE_TYPES if is_kind(info.st_mode)), "a special file")
            raise UnreadableFile(f"not a regular file but {kind}: give transcript files, or folders of them")
        if info.st_size > MAX_FILE_BYTES:
            raise _too_large(info.st_size)
        with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from exc
    if len(raw) > MAX_FILE_BYTES:  # its size said less: it grew, or it is not what stat says
        raise _too_large(None)
    return raw


def _too_large(size: int | None) -> UnreadableFile:
    limit = f"{MAX_FILE_BYTES / 1e6:.0f} MB"
    said = f"{size / 1e6:.0f} MB; the limit is {limit}" if size is not None else f"more than the limit of {limit}"
    return UnreadableFile(f"too large for a transcript ({said}): split it into documents")


def _text_of(raw: bytes) -> str:
    """The file's text: UTF-8, or UTF-16 with a byte-order mark; anything else is refused with the reason."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decoded(raw, "utf-16")
    if b"\x00" in raw[:8192]:
        raise UnreadableFile("binary file (contains NUL bytes)")
    return _decoded(raw, "utf-8-sig")


def _decoded(raw: bytes, encoding: str) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not {encoding.removesuffix('-sig').upper()} text (bad byte at offset "
                             f"{exc.start}); convert it to UTF-8, e.g. with iconv -f latin1 -t utf-8") from exc
    if not text.strip():
        raise UnreadableFile("empty file")
    return text


def _looks_like_front_matter(text: str) -> bool:
    return text.lstrip("\ufeff").startswith("---")


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases (page metadata never needs them, a YAML bomb does),
    and with dates left as text, so an impossible one (2022-13-45) is an unknown date, not an error."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases (*name) are not allowed in front matter")
        return super().compose_node(parent, index)


class _FrontMatter(frontmatter.YAMLHandler):
    def load(self, fm: str, **kwargs):
        return yaml.load(fm, Loader=_NoAliasLoader)


def _read_whitehouse(path: Path, text: str) -> Document:
    try:
        post = frontmatter.loads(text, handler=_FrontMatter())
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise UnreadableFile(f"malformed front matter: {_first_line(exc)}") from exc
    meta = post.metadata
    if not isinstance(meta.get("title") or "", (str, int, float)):
        raise UnreadableFile(f"malformed front matter: the title is a {type(meta['title']).__name__}, not text")
    title = clean_text(str(meta.get("title") or ""))
    if not title:
        raise UnreadableFile("malformed front matter: no title")
    date = _iso_date(meta.get("date")) or _iso_date(meta.get("published_time"))
    paragraphs = _paragraphs_from_markdown(post.content)
    return _document(path, title, date, paragraphs, WHITEHOUSE, archived_url(_url(meta.get("source_url")), date))


def _read_presidency_project(path: Path, text: str) -> Document:
    footer = _APP_FOOTER.search(text)
    body_lines = text[: footer.start()].splitlines()
    lines = [clean_text(line) for line in body_lines]
    lines = [line for line in lines if line]
    if len(lines) < 4:
        raise UnreadableFile("malformed Presidency Project text: no header")
    president, title, date_line = lines[0], lines[1], lines[2]
    date = _iso_date(date_line)
    if date is None:
        raise UnreadableFile(f"malformed Presidency Project text: bad date line {date_line[:40]!r}")
    link = _PRESIDENCY_URL.search(text, footer.start())  # the citation footer's own link, if it has one
    url = "https://www.presidency.ucsb.edu" + link[0].split("presidency.ucsb.edu", 1)[1] if link else None
    doc = _document(path, title, date, lines[3:], PRESIDENCY_PROJECT, url)
    doc.president = _normal_president(president, date)
    return doc


def _read_plain(path: Path, text: str) -> Document:
    """A transcript with no metadata: its date and title come from the file name ("2022-03-07-briefing.txt").
    An impossible date there (2022-13-45) fails the file, since the name is its only date: stored, it would
    break every date range; dropped in silence, it would hide the file from every date filter."""
    chunks = re.split(r"\n\s*\n", text) if re.search(r"\n\s*\n", text) else text.splitlines()
    paragraphs = [clean_text(chunk) for chunk in chunks]
    match = _DATE_IN_NAME.search(path.name)
    date = real_date(match[1]) if match else None
    if match and not date:
        raise UnreadableFile(f"the date in the file name, {match[1]}, is not a real date from "
                             f"{DATE_RANGE}: rename the file with the transcript's date, YYYY-MM-DD")
    title = clean_text(path.stem.replace("-", " ").replace("_", " "))
    if date:
        title = title.replace(date.replace("-", " "), "").strip() or title
    return _document(path, title[:1].upper() + title[1:], date, paragraphs, PLAIN_TEXT, None)


def _document(path, title, date, paragraphs, source_name, url) -> Document:
    paragraphs = [p for p in paragraphs if p and not _SEPARATOR_ONLY.match(p)]
    doc = Document(
        doc_id=_doc_id(path),
        title=title,
        date=date,
        kind=kind_of(title),
        source_url=url,
        source_name=source_name,
        path=str(path),
        paragraphs=paragraphs,
        president=president_on(date),
    )
    doc.sources.append(Source(path=str(path), name=source_name, url=url))
    return doc


def _paragraphs_from_markdown(body: str) -> list[str]:
    chunks = re.split(r"\n[ \t\u00a0]*\n", _LABEL_AFTER_HARD_BREAK.sub("\n\n", body))
    return [clean_text(_BLOCK_MARKER.sub("", chunk.strip())) for chunk in chunks]


def _markdown_to_text(text: str) -> str:
    parts = []
    for token in _MARKDOWN.parseInline(text):
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
    return "".join(parts)


def _doc_id(path: Path) -> str:
    """The file name without its extension or source suffix, NFC (macOS writes names decomposed), each space,
    line break or control character a hyphen: stable across machines, and one line wherever it is shown."""
    stem = unicodedata.normalize("NFC", path.stem)
    for suffix in (".whitehouse", ".presidency-project"):
        stem = stem.removesuffix(suffix)
    return _NOT_IN_ID.sub("-", stem)


def _iso_date(value) -> str | None:
    """YYYY-MM-DD for a date the text names in full; None for no date, an impossible one (2022-13-45) or a
    partial one ("March 2022": dateutil would take the missing day from today)."""
    if isinstance(value, dt.date):
        return real_date(value.isoformat()[:10])
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dates = {dateparser.parse(value.strip(), default=default, ignoretz=True).date() for default in _DEFAULT_DAYS}
    except (ValueError, OverflowError):
        return None
    return real_date(dates.pop().isoformat()) if len(dates) == 1 else None


def _url(value) -> str | None:
    """An http(s) link with a host and no space or control character; anything else is not kept."""
    if not isinstance(value, str) or re.search(r"\s", value.strip()) or CONTROL.search(value):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def _normal_president(name: str, date: str) -> str:
    """The Presidency Project writes "Joe Biden"; fall back to the date's president."""
    return name if 1 < len(name.split()) <= 4 else president_on(date) or name


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
