"""Book -> Pages: Jinja2 templates make one XHTML file per EPUB document and one HTML for print.

Templates get plain data and own all the markup. The environment is sandboxed (templates
may come with a book), autoescapes, and fails on an undefined variable, naming the template
file and line.
"""

from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass
from pathlib import Path

import jinja2

from . import __version__
from .errors import BookError
from .model import Book, Cover
from .sandbox import Sandbox
from .source.styles import check_references, class_names, inside, only_data
from .source.text import read_text
from .templating import BudgetExceeded, make_environment, plain, render_within_budget

#: Where the EPUB's one stylesheet goes, relative to the package document.
EPUB_STYLESHEET = "styles/book.css"


@dataclass(frozen=True)
class Document:
    """One EPUB content document, in spine order."""

    id: str
    name: str                     # path relative to the package document: text/x.xhtml
    title: str
    xhtml: str
    landmark: str | None = None   # its epub:type in the landmarks nav, if it is one
    in_toc: bool = True


@dataclass(frozen=True)
class Pages:
    documents: tuple[Document, ...]
    epub_stylesheet: str
    print_html: str
    print_base_url: str           # chapters' relative image paths resolve against it
    print_contents: bool          # the print edition has a contents page
    print_stylesheets: tuple[Path, ...] = ()


@dataclass(frozen=True)
class NavEntry:
    href: str
    title: str
    type: str = ""
    children: tuple["NavEntry", ...] = ()


class _Loader(jinja2.BaseLoader):
    """Templates from the book's templates/ folder, then the project's."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def get_source(self, environment, template):
        path = self.sandbox.template(template)
        if path is None:
            raise jinja2.TemplateNotFound(template)
        source = read_text(path, "template")
        stamp = _stamp(path)
        checked: list = []        # the build in which it was last found up to date

        def uptodate() -> bool:
            # Still the file the lookup finds (a book may add an override), unchanged;
            # asked at each use (the long book's site: 250 times), looked at once a build.
            if checked and checked[0] is _BUILD[0]:
                return True
            if self.sandbox.template(template) == path and _stamp(path) == stamp:
                checked[:] = [_BUILD[0]]
                return True
            return False

        return source, str(path), uptodate


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


#: Which build this is (``render`` starts one): templates are looked at once a build.
_BUILD: list = [object()]


@functools.lru_cache(maxsize=8)
def environment(sandbox: Sandbox) -> jinja2.Environment:
    """One environment per book folder, so each template is compiled once (the navigation
    document is rendered twice per EPUB, and `watch` renders again and again); a changed
    template, or a template a book adds to its own folder, is picked up: the loader tells
    Jinja when a template is out of date."""
    env = make_environment(_Loader(sandbox))
    env.globals["version"] = __version__
    return env


def render(book: Book, sandbox: Sandbox, date: str, cover: Cover | None = None) -> Pages:
    """Render every EPUB document and the print document; nothing is written.

    The EPUB opens with a cover page when there is a ``cover`` (only the EPUB has one).
    """
    _BUILD[0] = object()
    env = environment(sandbox)
    view = plain(book)            # what templates see: plain records, no paths
    documents = []
    if cover is not None:
        documents.append(_document(env, "epub/cover.xhtml", view, "cover", "text/cover.xhtml",
                                   book.labels["cover"], "cover", landmark="cover",
                                   in_toc=False, cover=cover))
    documents.append(_document(env, "epub/titlepage.xhtml", view, "titlepage",
                               "text/titlepage.xhtml", book.title, "frontmatter",
                               landmark="titlepage", in_toc=False))
    first_body = next((c.id for c in book.chapters if c.division.matter == "body"), None)
    first_back = next((c.id for c in book.chapters if c.division.matter == "back"), None)
    for chapter, chapter_view in zip(book.chapters, view.chapters):
        landmark = {first_body: "bodymatter", first_back: "backmatter"}.get(chapter.id)
        documents.append(_document(
            env, "epub/chapter.xhtml", view, chapter.id, f"text/{chapter.document_name}",
            chapter.title, f"{chapter.division.matter}matter", landmark=landmark,
            chapter=chapter_view))
    if any(chapter.notes for chapter in book.chapters):
        documents.append(_document(
            env, "epub/notes.xhtml", view, "endnotes", "text/endnotes.xhtml",
            book.labels["notes"], "backmatter",
            landmark=None if first_back else "backmatter"))
        first_back = first_back or "endnotes"
    documents.append(_document(
        env, "epub/colophon.xhtml", view, "colophon", "text/colophon.xhtml",
        book.labels["colophon"],
        "backmatter", landmark=None if first_back else "backmatter"))
    stylesheets = [sandbox.style(name) for name in ("common.css", "print.css")]
    for path in stylesheets:
        check_references(read_text(path, "stylesheet"), path,
                         inside(path.parent, sandbox.inside))
    contents = _wants_contents(book)
    print_html = _render(env, "print/book.html", book=view, date=date, contents=contents,
                         edition="print",
                         stylesheets=[path.resolve().as_uri() for path in stylesheets])
    epub_css = "\n".join(_epub_stylesheet(sandbox.style(name))
                         for name in ("common.css", "epub.css"))
    return Pages(documents=tuple(documents), epub_stylesheet=epub_css, print_html=print_html,
                 print_base_url=(book.root.resolve() / "text").as_uri() + "/",
                 print_contents=contents, print_stylesheets=tuple(stylesheets))


def render_cover(book: Book, sandbox: Sandbox, **context) -> str:
    """The print cover wrap's HTML (``print/cover.html``), for ``pdf/cover.py``."""
    return _render(environment(sandbox), "print/cover.html", book=plain(book), **context)


def render_site(template: str, sandbox: Sandbox, book: Book, **context) -> str:
    """A page of the site (``site/index.html``, ``site/page.html``), for ``site/``."""
    return _render(environment(sandbox), template, book=_plain_book(book),
                   **{name: plain(value) for name, value in context.items()})


#: The book the site's pages were last given, and what templates see of it: the same for
#: each of its pages (the long book: 44 pages, each made the whole book plain again).
_SITE_BOOK: list = [None, None]


def _plain_book(book: Book):
    if _SITE_BOOK[0] is not book:
        _SITE_BOOK[:] = [book, plain(book)]
    return _SITE_BOOK[1]


def styled_classes(sandbox: Sandbox) -> frozenset[str]:
    """The class names the stylesheets of this book's outputs style (its own or Bindery's)."""
    return frozenset().union(*(class_names(read_text(sandbox.style(name), "stylesheet"))
                               for name in ("common.css", "epub.css", "print.css")))


def _epub_stylesheet(path: Path) -> str:
    text = read_text(path, "stylesheet")
    check_references(text, path, only_data)
    return text


def render_nav(book: Book, sandbox: Sandbox, toc: list[NavEntry], landmarks: list[NavEntry],
               page_list: list[NavEntry]) -> str:
    """The EPUB navigation document: table of contents, landmarks and page list."""
    return _render(environment(sandbox), "epub/nav.xhtml", book=book, toc=toc,
                   landmarks=landmarks, page_list=page_list, stylesheet=EPUB_STYLESHEET)


def _wants_contents(book: Book) -> bool:
    return book.print.toc if book.print.toc is not None else len(book.chapters) > 2


def _document(env, template: str, book, doc_id: str, name: str, title: str,
              matter: str, landmark: str | None = None, in_toc: bool = True,
              **context) -> Document:
    xhtml = _render(env, template, book=book, title=title, matter=matter,
                    stylesheet=EPUB_STYLESHEET, edition="epub", **context)
    return Document(id=doc_id, name=name, title=title, xhtml=xhtml, landmark=landmark,
                    in_toc=in_toc)


def _render(env: jinja2.Environment, template: str, **context) -> str:
    try:
        return render_within_budget(env.get_template(template), context)
    except jinja2.TemplateSyntaxError as error:
        raise BookError(f"template syntax error: {error.message}",
                        error.filename or template, error.lineno) from None
    except jinja2.TemplateNotFound as error:
        raise BookError(f"template `{error.name}` not found",
                        _template_frame(error)[0] or template,
                        _template_frame(error)[1],
                        hint="Bindery looks in the book's templates/ folder, then its own"
                        ) from None
    except BookError:
        raise
    except jinja2.TemplateError as error:
        path, line = _template_frame(error)
        raise BookError(f"template error: {error.message or error}", path or template,
                        line) from None
    except BudgetExceeded as error:
        path, line = _template_frame(error)
        places = getattr(error, "template_places", None)
        if places:
            path, line = places[-1]
        raise BookError(f"template stopped: {error}", path or template, line,
                        hint="a template has a budget of time, output and memory"
                        ) from None
    except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError,
            AttributeError, MemoryError) as error:
        # Whatever else a template's own expressions raise is the template's fault.
        path, line = _template_frame(error)
        raise BookError(f"template error: {type(error).__name__}: {error}",
                        path or template, line) from None


def _template_frame(error: BaseException) -> tuple[str | None, int | None]:
    """The innermost template file and line in an error's traceback."""
    found: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(error.__traceback__):
        if not frame.filename.endswith(".py") and Path(frame.filename).is_file():
            found = (frame.filename, frame.lineno)
    return found
