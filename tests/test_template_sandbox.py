"""A book's templates see data, not capabilities, and cannot run for ever or fill memory.

A book may bring its own templates (`templates/partials/chapter.html`, `templates/epub/...`):
a book from a stranger must not read, write or delete a file through them. Every object a
template receives is walked, attribute by attribute, and every known way out is tried; each
either renders nothing dangerous or stops the build with one line naming the template and
its line. Nothing outside the book is read (a canary's content never reaches an output),
written or deleted. A template that loops or grows without bound is stopped by a budget.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from bindery.cli import main
from bindery.resources import TEMPLATES

from helpers import EPOCH, ROOT, TINY, copy_book, output_contents, run_isolated

CHAPTER = "partials/chapter.html"
COVER = "epub/cover.xhtml"
SECRET = "CANARY-TEMPLATE-9d2b41e6"

#: Attribute names that are capabilities wherever they are found (file system, Python
#: internals): none of them may be reachable from anything a template receives.
CAPABILITIES = [
    "read_text", "write_text", "read_bytes", "write_bytes", "unlink", "open", "joinpath",
    "resolve", "exists", "is_file", "iterdir", "glob", "rglob", "mkdir", "rmdir", "rename",
    "touch", "stat", "lstat", "chmod", "symlink_to", "hardlink_to", "readlink", "absolute",
    "with_name", "expanduser", "samefile", "as_uri", "parent", "parents", "home", "cwd",
    "mro", "__subclasses__", "__globals__", "__init__", "__dict__", "__class__", "__mro__",
    "__base__", "__bases__", "__self__", "__func__", "__code__", "__builtins__", "__module__",
    "__reduce__", "__reduce_ex__", "__getattribute__", "__html__", "_fields", "_asdict",
    "_replace", "gi_frame", "f_globals", "func_globals",
]
#: Names that lead on through the data, or may hold a path: walked, and their values checked.
NAVIGATION = [
    "root", "config", "source", "cover", "path", "file", "href", "chapters", "images",
    "authors", "print", "trim", "booklet", "epub", "division", "labels", "body", "warnings",
    "sandbox", "environment", "loader", "globals",
]
NAMES = NAVIGATION + CAPABILITIES

PROBE = """{%- macro probe(label, value, depth) -%}
{%- if value is defined -%}
{%- for name in names -%}
{%- if value[name] is defined -%}
@@{{ label }}.{{ name }}={{ value[name] }}@@
{%- if depth > 0 %}{{ probe(label ~ "." ~ name, value[name], depth - 1) }}{% endif -%}
{%- endif -%}
{%- endfor -%}
{%- if depth > 0 and value is iterable and value is not string and value is not mapping -%}
{%- for item in value -%}{%- if loop.index <= 2 -%}
{{ probe(label ~ "[" ~ loop.index0 ~ "]", item, depth - 1) }}
{%- endif -%}{%- endfor -%}
{%- endif -%}
{%- endif -%}
{%- endmacro -%}
{%- macro root(label, value) -%}
{%- if value is defined -%}@@{{ label }}=={{ value }}@@{{ probe(label, value, 3) }}{%- endif -%}
{%- endmacro -%}
"""


def _probe_library() -> str:
    return "{%- set names = " + repr(NAMES) + " -%}\n" + PROBE


def _calls(*roots: str) -> str:
    """The template text that walks each root variable (undefined ones are skipped)."""
    return ("<div class=\"probe\"><p>@@walker=ran@@"
            + "".join(f'{{{{ p.root("{name}", {name}) }}}}' for name in roots)
            + "</p></div>")


def _default(name: str) -> str:
    return (Path(TEMPLATES) / name).read_text("utf-8")


def _with_chapter_snippet(book: Path, snippet: str) -> None:
    """The book's own chapter partial: Bindery's, with ``snippet`` before its end."""
    text = _default(CHAPTER)
    position = text.rindex("</section>")
    path = book / "templates" / CHAPTER
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text[:position] + snippet + "\n" + text[position:], "utf-8")


def _with_cover_snippet(book: Path, snippet: str) -> None:
    text = _default(COVER)
    position = text.rindex("</body>")
    path = book / "templates" / COVER
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text[:position] + "<div>" + snippet + "</div>\n" + text[position:], "utf-8")


def _user_cover(book: Path) -> None:
    toml = book / "book.toml"
    line = 'chapters = ["chapitres/un.md", "chapitres/deux.md", "chapitres/annexe.md"]'
    text = toml.read_text("utf-8")
    assert line in text
    toml.write_text(text.replace(line, line + '\ncover = "images/diagramme.png"'), "utf-8")


def _digest_tree(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): (
        hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder")
        for path in sorted(folder.rglob("*"))}


class Machine:
    """Files outside the book a template must not read, change, delete or create."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.canary = tmp_path / "canary.txt"
        self.canary.write_text(SECRET + "\n", "utf-8")
        self.victim = tmp_path / "victim.txt"
        self.victim.write_bytes(b"a file of the user's\n")
        self.new_file = tmp_path / "created-by-a-template.txt"
        self.new_dir = tmp_path / "made-by-a-template"
        self.passwd = ""
        if Path("/etc/passwd").is_file():
            self.passwd = Path("/etc/passwd").read_text("utf-8", "replace").split("\n")[0]

    def values(self, text: str) -> str:
        return (text.replace("CANARY", repr(str(self.canary)))
                .replace("VICTIM", repr(str(self.victim)))
                .replace("NEWFILE", repr(str(self.new_file)))
                .replace("NEWDIR", repr(str(self.new_dir))))

    def check(self) -> None:
        assert self.canary.read_text("utf-8") == SECRET + "\n"
        assert self.victim.read_bytes() == b"a file of the user's\n", "the victim was changed"
        assert not self.new_file.exists(), "a template created a file"
        assert not self.new_dir.exists(), "a template made a folder"

    def leaked(self, data: bytes) -> list[str]:
        found = []
        if SECRET.encode() in data:
            found.append("the canary's content")
        if self.passwd and len(self.passwd) > 8 and self.passwd.encode() in data:
            found.append("/etc/passwd")
        return found


def _danger(value: str, tmp_path: Path) -> str | None:
    """Why a value a template rendered shows a capability or the machine, or None."""
    for pattern in ("PosixPath", "Path(", "<module", "<class", "<function", "<bound method Path",
                    "<built-in function", "<frame", "<code object", str(tmp_path),
                    str(ROOT), str(Path(TEMPLATES))):
        if pattern in value:
            return pattern
    return None


def _run(tmp_path: Path, *arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(argument) for argument in arguments])
    return result.exit_code, result.output


def _check_failure(output: str, template: str) -> None:
    errors = [line for line in output.split("\n") if line.startswith("error: ")]
    assert len(errors) == 1, output
    assert "template" in errors[0], errors[0]
    assert re.search(re.escape(f"templates/{template}") + r":\d+", errors[0]), errors[0]


def _epub_texts(out: Path) -> dict[str, bytes]:
    path = out / "petit-traite.epub"
    if not path.exists():
        return {}
    with zipfile.ZipFile(path) as epub:
        return {name: epub.read(name) for name in epub.namelist()}


@pytest.fixture(autouse=True)
def _workdir(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    """The good tiny book's EPUB, built once: the hostile builds start from it."""
    from conftest import build_book
    return build_book(TINY, tmp_path_factory.mktemp("previous") / "out", formats=("epub",)).out


def _scene(tmp_path: Path, previous: Path) -> tuple[Path, Path, Machine]:
    book = copy_book(TINY, tmp_path / "book")
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    return book, out, Machine(tmp_path)


# -- walking every object the templates receive ---------------------------------------------

@pytest.mark.parametrize("user_cover", [False, True], ids=["generated cover", "user cover"])
def test_walking_every_object_a_template_receives_finds_no_capability(
        user_cover, tmp_path, previous):
    book, out, machine = _scene(tmp_path, previous)
    if user_cover:
        _user_cover(book)
    (book / "templates").mkdir()
    (book / "templates" / "probe.html").write_text(_probe_library(), "utf-8")
    importing = '{% import "probe.html" as p %}'
    _with_chapter_snippet(book, importing + _calls(
        "book", "chapter", "title", "matter", "stylesheet", "version", "date", "contents"))
    _with_cover_snippet(book, importing + _calls(
        "cover", "book", "title", "matter", "stylesheet", "version"))
    sources = _digest_tree(book)
    status, output = _run(tmp_path, "build", book, "--out", out, "--format", "epub", "--force")
    assert "Traceback" not in output and "internal error" not in output, output
    assert status in (0, 1), output
    machine.check()
    assert _digest_tree(book) == sources, "the build changed the book"
    if status == 1:
        errors = [line for line in output.split("\n") if line.startswith("error: ")]
        assert len(errors) == 1 and "template" in errors[0], output
        assert re.search(r"templates/(partials/chapter\.html|epub/cover\.xhtml|probe\.html)"
                         r":\d+", errors[0]), errors[0]
        return
    findings, walked = [], 0
    for name, data in _epub_texts(out).items():
        assert not machine.leaked(data), name
        if not name.endswith(".xhtml"):
            continue
        text = "".join(etree.fromstring(data).itertext())
        walked += text.count("@@walker=ran@@")
        for label, value in re.findall(r"@@([^=@]+?)=(.*?)@@", text, flags=re.S):
            if label == "walker":
                continue
            last = label.split(".")[-1].split("[")[0].lstrip("=")
            if last in CAPABILITIES:
                findings.append(f"{label} is reachable: {value[:120]}")
            elif (why := _danger(value, tmp_path)) is not None:
                findings.append(f"{label} shows {why}: {value[:120]}")
    assert walked >= 4, "the walking templates did not run (chapters and cover)"
    assert not findings, "\n".join(sorted(set(findings))[:40])


# -- every known way out, one at a time ------------------------------------------------------

ESCAPES = {
    "book.root reads a file": "{{ book.root.joinpath(CANARY).read_text() }}",
    "book.root reads /etc/passwd": "{{ book.root.joinpath('/etc/passwd').read_text() }}",
    "book.config reads a file": "{{ book.config.parent.joinpath(CANARY).read_text() }}",
    "chapter.source reads a file": "{{ chapter.source.parent.joinpath(CANARY).read_text() }}",
    "book.chapters[0].source reads": "{{ book.chapters[0].source.joinpath(CANARY).read_bytes() }}",
    "an image's source reads": "{% for image in book.images %}"
                               "{{ image.source.joinpath(CANARY).read_text() }}{% endfor %}",
    "chapter.images open": "{% for image in chapter.images %}"
                           "{{ image.source.joinpath(CANARY).open().read() }}{% endfor %}",
    "book.root writes a file": "{{ book.root.joinpath(VICTIM).write_text('pwned') }}",
    "book.root creates a file": "{{ book.root.joinpath(NEWFILE).write_text('pwned') }}",
    "book.root opens for writing": "{{ book.root.joinpath(VICTIM).open('w').write('x') }}",
    "book.root makes a folder": "{{ book.root.joinpath(NEWDIR).mkdir() }}",
    "chapter.source deletes a file": "{{ chapter.source.joinpath(VICTIM).unlink() }}",
    "chapter.source deletes itself": "{{ chapter.source.unlink() }}",
    "book.root renames a file": "{{ book.root.joinpath(VICTIM).rename(NEWFILE) }}",
    "attr filter": "{{ (book | attr('root')).joinpath(CANARY).read_text() }}",
    "subscript": "{{ book['root'].joinpath(CANARY).read_text() }}",
    "map attribute": "{{ book.chapters | map(attribute='source') | list }}",
    "book.root shown": "{{ book.root }} {{ book.config }} {{ chapter.source }}",
    "str.format reaches attributes": "{{ '{0.root}'.format(book) }}",
    "str.format reaches the class": "{{ '{0.__class__.__mro__}'.format(book) }}",
    "title class": "{{ chapter.title.__class__.__mro__[1].__subclasses__() }}",
    "book title mro": "{{ book.title.__class__.__mro__ }}",
    "body __html__": "{{ chapter.body.__html__.__globals__ }}",
    "labels class": "{{ book.labels.__class__.__init__.__globals__ }}",
    "labels items": "{% for k, v in book.labels.items() %}{{ v.__class__ }}{% endfor %}",
    "self context": "{{ self._TemplateReference__context }}",
    "cycler globals": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "joiner globals": "{{ joiner.__init__.__globals__ }}",
    "namespace globals": "{{ namespace.__init__.__globals__ }}",
    "lipsum globals": "{{ lipsum.__globals__['os'] }}",
    "dict mro": "{{ dict.mro()[1].__subclasses__() }}",
    "range self": "{{ range.__self__ }}",
    "user cover reads": "{{ book.cover.joinpath(CANARY).read_text() }}",
    "user cover shown": "{{ book.cover }}",
}
COVER_ESCAPES = {
    "cover.name encode": "{{ cover.name.encode.__self__.__class__ }}",
    "cover class": "{{ cover.__class__.__init__.__globals__ }}",
    "cover fields": "{{ cover._fields }} {{ cover.__dict__ }}",
    "cover book.root": "{{ book.root.joinpath(CANARY).read_text() }}",
}


def _attempt(tmp_path, previous, snippet: str, template: str) -> None:
    book, out, machine = _scene(tmp_path, previous)
    if "cover" in snippet:
        _user_cover(book)
    snippet = machine.values(snippet)
    (_with_chapter_snippet if template == CHAPTER else _with_cover_snippet)(book, snippet)
    sources = _digest_tree(book)
    before = output_contents(out)
    status, output = _run(tmp_path, "build", book, "--out", out, "--format", "epub", "--force")
    assert "Traceback" not in output and "internal error" not in output, output
    assert status in (0, 1), output
    machine.check()
    assert _digest_tree(book) == sources, "the build changed the book"
    assert not machine.leaked(output.encode()), output
    if status == 1:
        _check_failure(output, template)
        assert output_contents(out) == before
        return
    for name, data in _epub_texts(out).items():
        assert not machine.leaked(data), name
        if name.endswith(".xhtml"):
            text = data.decode("utf-8", "replace")
            assert _danger(text, tmp_path) is None, (name, _danger(text, tmp_path))


@pytest.mark.parametrize("escape", list(ESCAPES))
def test_a_chapter_template_cannot_escape(escape, tmp_path, previous):
    _attempt(tmp_path, previous, ESCAPES[escape], CHAPTER)


@pytest.mark.parametrize("escape", list(COVER_ESCAPES))
def test_the_cover_template_cannot_escape(escape, tmp_path, previous):
    _attempt(tmp_path, previous, COVER_ESCAPES[escape], COVER)


# -- budgets ---------------------------------------------------------------------------------

def _isolated(tmp_path: Path, *arguments: str, timeout: float) -> tuple[int, str, float]:
    return run_isolated(arguments, tmp_path, timeout)


#: name -> (template text, whether the message must speak of time: "too long" or "budget")
BUDGET_BREAKERS = {
    "nested range loops": ("{% for i in range(100000) %}{% for j in range(100000) %}"
                           "{% endfor %}{% endfor %}", True),
    "a loop doing work": ("{% for i in range(100000) %}{% for j in range(100000) %}"
                          "{% if i == j %}{% endif %}{% endfor %}{% endfor %}", True),
    "text times ten billion": ('{{ "x" * 10**10 }}', False),
    "centred in ten billion": ('{{ "x" | center(10**10) }}', False),
    "a list times ten billion": ('{{ ["x"] * 10**10 }}', False),
    "doubling forty times": ('{% set s = namespace(v="xx") %}{% for i in range(40) %}'
                             '{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v | length }}', False),
    "padding by a format": ('{{ "%*s" % (10**10, "x") }}', False),
    "a hundred thousand copies of a big string": ('{{ ("x" * 100000) * 100000 }}', False),
}


@pytest.mark.parametrize("breaker", list(BUDGET_BREAKERS))
def test_a_template_over_its_budget_is_stopped(breaker, tmp_path, previous):
    """Exit 1 within half a minute, one line naming the template; never exit 70, never a
    MemoryError, never a process the kernel kills."""
    snippet, about_time = BUDGET_BREAKERS[breaker]
    book, out, _ = _scene(tmp_path, previous)
    _with_chapter_snippet(book, snippet)
    before = output_contents(out)
    status, output, seconds = _isolated(tmp_path, "build", "book", "--out", "out",
                                        "--format", "epub", timeout=60)
    assert "Traceback" not in output and "MemoryError" not in output, output
    assert "internal error" not in output, output
    assert status == 1, (status, output)
    _check_failure(output, CHAPTER)
    if about_time:
        line = next(line for line in output.split("\n") if line.startswith("error: "))
        assert "too long" in line or "budget" in line, line
    assert seconds < 45, f"stopped only after {seconds:.0f} s"
    assert output_contents(out) == before
