"""Book folder -> Book: book.toml's settings, then each chapter it lists, all checked."""

from __future__ import annotations

from pathlib import Path

from ..errors import BookError, BookWarning
from ..model import Book, Chapter
from .chapter import RESERVED_IDS, chapter_warnings, read_chapter
from .settings import Settings, read_settings


def load(root: Path) -> Book:
    """Read the book in the folder ``root``; raise BookError at the first problem."""
    root = Path(root)
    check_book_folder(root)
    settings = read_settings(root)
    chapters = _chapters(settings)
    warnings = settings.warnings + _unlisted(root, settings, chapters) + tuple(
        warning for chapter in chapters for warning in chapter_warnings(chapter))
    return Book(
        root=root, config=settings.path, title=settings.title, subtitle=settings.subtitle,
        authors=settings.authors, language=settings.language,
        identifier=settings.identifier, slug=settings.slug,
        description=settings.description, rights=settings.rights,
        publisher=settings.publisher, subjects=settings.subjects, credits=settings.credits,
        chapters=chapters, print=settings.print, booklet=settings.booklet,
        epub=settings.epub, cover=settings.cover, labels=settings.labels, warnings=warnings)


def check_book_folder(root: Path) -> None:
    """A BookError unless ``root`` is a folder (it is read before anything is written)."""
    if not root.exists():
        raise BookError("no such book folder", root,
                        hint="give the folder that holds book.toml")
    if not root.is_dir():
        raise BookError("not a folder", root, hint="give the folder that holds book.toml")


def _chapters(settings: Settings) -> tuple[Chapter, ...]:
    chapters = []
    ids: dict[str, str] = {}
    for name, path in settings.chapter_files:
        if not path.exists():
            raise BookError(f"chapter `{name}` is listed in book.toml but not found",
                            path, hint=f"create it or remove it from `chapters` in "
                            f"{settings.path.name}:{settings.chapters_line}")
        chapter = read_chapter(path)
        if chapter.id in RESERVED_IDS:
            raise BookError(f"chapter id `{chapter.id}` is reserved by Bindery", path,
                            hint="rename the file or give it an `id:` in its front matter")
        if chapter.id in ids:
            raise BookError(f"two chapters have the id `{chapter.id}`: `{ids[chapter.id]}` "
                            f"and `{name}`", path,
                            hint="rename one file or give it an `id:` in its front matter")
        ids[chapter.id] = name
        chapters.append(chapter)
    return tuple(chapters)


def _unlisted(root: Path, settings: Settings,
              chapters: tuple[Chapter, ...]) -> tuple[BookWarning, ...]:
    """A warning for each Markdown file beside the chapters that book.toml does not list."""
    listed = {chapter.source.resolve() for chapter in chapters}
    folders = {chapter.source.parent for chapter in chapters}
    return tuple(
        BookWarning(f"`{path.relative_to(root).as_posix()}` is not listed in `chapters` and "
                    f"is not built", settings.path, settings.chapters_line)
        for folder in sorted(folders) for path in sorted(folder.glob("*.md"))
        if path.resolve() not in listed)
