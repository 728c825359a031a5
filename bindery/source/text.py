"""Source file -> text: UTF-8 with positions, and the characters XML cannot hold refused."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import BookError
from ..paths import TEXT_LIMIT, read_file

# XML 1.0 allows tab, line feed, carriage return and everything from U+0020 up, except the
# surrogates and U+FFFE/U+FFFF. Python strings can carry all of those; an XHTML file cannot.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def line_and_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``."""
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def read_text(path: Path, what: str = "file") -> str:
    """The file's text: UTF-8 (a byte-order mark is accepted), line ends normalised to \\n.

    Only a regular file of at most 16 MiB is read. Bytes that are not UTF-8 and characters
    that cannot be in an XML document are errors that name the file and the place.
    """
    data = read_file(path, what, TEXT_LIMIT)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise BookError(
            f"not UTF-8 text: byte 0x{data[error.start]:02x} at byte offset {error.start}",
            path, line, hint="save the file as UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    check_xml_characters(text, path)
    return text


def check_xml_characters(text: str, path: Path | None, first_line: int = 1,
                         what: str = "") -> None:
    """Raise a BookError at the first character that no XML document may contain.

    ``first_line`` is the line of ``text``'s start in ``path``; ``what`` names the value
    (a TOML key) when the text is one value of the file.
    """
    match = _NOT_XML.search(text)
    if match is None:
        return
    line, column = line_and_column(text, match.start())
    if what:
        column = None          # a value's column is not the file's
    prefix = f"{what}: " if what else ""
    raise BookError(f"{prefix}control character U+{ord(match.group()):04X} cannot appear "
                    f"in a book", path, line + first_line - 1, column, hint="delete it")
