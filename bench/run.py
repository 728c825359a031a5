"""Bindery's benchmark: cold build, no-op and one-word rebuilds, a long book (cold, edited in
a new process and in `watch`), books of 10 and 100 chapters, and a catalogue of 100 small
books.

    python bench/run.py [--runs 5] [--quick] [--markdown bench/README.md]

Every figure is the wall time of a separate process (as a user runs it), the median of
``--runs`` runs with the minimum and maximum. pandoc comes from PyPI's ``pypandoc_binary``
(``pip install -e '.[bench]'``); its PDF goes through WeasyPrint, like ours. Nothing is
committed: the scale books are generated in a temporary folder, the same on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
PYTHON = sys.executable

# Runs a Python command in a child and reports its peak memory (self and children) as JSON
# on the last line of stderr.
MEASURE = r"""
import resource, runpy, sys, json
sys.argv = sys.argv[1:]
code = 0
try:
    if sys.argv[0] == "-m":
        sys.argv = sys.argv[1:]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exit:
    code = exit.code or 0
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write("\n" + json.dumps({"self_kib": own, "children_kib": children}) + "\n")
sys.exit(code)
"""


def run(command: list[str], cwd: Path = ROOT, env: dict | None = None,
        memory: bool = False) -> tuple[float, dict]:
    """Wall time of one command (and its peak memory, for a Python command)."""
    if memory:
        command = [PYTHON, "-c", MEASURE, *command[1:]] if command[0] == PYTHON else command
    started = time.perf_counter()
    # As a user's Python runs: it keeps the compiled modules (a sandbox may forbid it).
    environment = {key: value for key, value in os.environ.items()
                   if key != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(command, cwd=cwd, env={**environment, **(env or {})},
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    stats = {}
    if memory:
        stats = json.loads(done.stderr.strip().split("\n")[-1])
    return seconds, stats


def summary(times: list[float]) -> dict:
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "runs": len(times)}


def fmt(stat: dict) -> str:
    return f"{stat['median']:.3f} s ({stat['min']:.3f}–{stat['max']:.3f})"


def bindery(*args: str) -> list[str]:
    return [PYTHON, "-m", "bindery", "build", *args]


# -- 1. cold build against pandoc ---------------------------------------------------------

def pandoc_path() -> str:
    try:
        import pypandoc
    except ImportError:
        raise SystemExit("pandoc is needed: pip install -e '.[bench]'") from None
    return pypandoc.get_pandoc_path()


def pandoc_sources(folder: Path) -> list[Path]:
    """The book's chapters as pandoc reads them: front matter becomes a heading."""
    sources = []
    import tomllib
    config = tomllib.loads((BOOK / "book.toml").read_text("utf-8"))
    for name in config["chapters"]:
        text = (BOOK / name).read_text("utf-8")
        _, front, body = text.split("---", 2)
        title = next(line.split(":", 1)[1].strip().strip('"') for line in front.splitlines()
                     if line.startswith("title:"))
        target = folder / Path(name).name
        target.write_text(f"# {title}\n\n{body}", "utf-8")
        sources.append(target)
    return sources


def cold_builds(runs: int, work: Path) -> dict:
    times = []
    for index in range(runs):
        out = work / f"cold-{index}"
        seconds, _ = run(bindery(str(BOOK), "--out", str(out), "--quiet"))
        times.append(seconds)
    return summary(times)


def pandoc_builds(runs: int, work: Path) -> tuple[dict, dict, dict]:
    pandoc = pandoc_path()
    sources = [str(path) for path in pandoc_sources(work)]
    weasyprint = str(Path(PYTHON).with_name("weasyprint"))
    metadata = ["--metadata", "title=ISIS: run.", "--metadata", "author=Jorge Vanstreels",
                "--metadata", "lang=en"]
    epub, pdf, both = [], [], []
    for index in range(runs):
        a, _ = run([pandoc, *sources, *metadata, "-o", str(work / f"pandoc-{index}.epub")])
        b, _ = run([pandoc, *sources, *metadata, f"--pdf-engine={weasyprint}",
                    "-o", str(work / f"pandoc-{index}.pdf")])
        epub.append(a)
        pdf.append(b)
        both.append(a + b)
    return summary(epub), summary(pdf), summary(both)


# -- 2 and 3. rebuilds -------------------------------------------------------------------

def rebuilds(runs: int, work: Path) -> tuple[dict, dict]:
    book = work / "edit-book"
    shutil.copytree(BOOK, book)
    out = work / "edit-out"
    run(bindery(str(book), "--out", str(out), "--quiet"))
    noop = [run(bindery(str(book), "--out", str(out), "--quiet"))[0] for _ in range(runs)]
    chapter = book / "chapters" / "isis-run.md"
    edits = []
    for index in range(runs):
        text = chapter.read_text("utf-8")
        old, new = ("dummies", "dummys") if index % 2 == 0 else ("dummys", "dummies")
        chapter.write_text(text.replace(old, new, 1), "utf-8")
        edits.append(run(bindery(str(book), "--out", str(out), "--quiet"))[0])
    return summary(noop), summary(edits)


# -- 4. a generated book of many chapters -------------------------------------------------

WORDS = ("the a of and to in is was that for on with as by at from his her it an were are "
         "which this be or had not but have one they you all we there their been has when "
         "who will more no if out so said what up its about into than them can only other "
         "new some could time these two may then do first any my now such like our over "
         "man me even most made after also did many before must through back years where "
         "much your way well down should because each just those people how too little "
         "state good very make world still own see men work long get here between both "
         "life being under never day same another know while last might us great old year "
         "off come since against go came right used take three").split()


def generate(folder: Path, chapters: int, words_per_chapter: int) -> Path:
    """A deterministic book: ``chapters`` chapters of about ``words_per_chapter`` words."""
    rng = random.Random(1234)
    (folder / "chapters").mkdir(parents=True)
    names = []
    for number in range(1, chapters + 1):
        paragraphs = []
        written = 0
        while written < words_per_chapter:
            count = rng.randint(60, 160)
            words = [rng.choice(WORDS) for _ in range(count)]
            words[0] = words[0].capitalize()
            sentence_ends = sorted(rng.sample(range(8, count - 1), k=max(1, count // 18)))
            for end in sentence_ends:
                words[end] += "."
                words[end + 1] = words[end + 1].capitalize()
            paragraphs.append(" ".join(words) + ".")
            written += count
        name = f"chapters/chapter-{number:03}.md"
        (folder / name).write_text(f"---\ntitle: Chapter {number}\n---\n\n"
                                   + "\n\n".join(paragraphs) + "\n", "utf-8")
        names.append(name)
    (folder / "book.toml").write_text("\n".join([
        'title = "A Generated Book"', 'language = "en"',
        'identifier = "urn:uuid:00000000-0000-4000-8000-000000000001"',
        'slug = "generated"', 'chapters = [' + ", ".join(f'"{n}"' for n in names) + "]",
        "", "[[authors]]", 'name = "Bench Mark"', ""]), "utf-8")
    return folder


BARE_WEASYPRINT = r"""
import sys, time
from pathlib import Path
from bindery.convert import convert
from bindery.sandbox import Sandbox
from bindery.source import load
from bindery.render import render
book = convert(load(Path(sys.argv[1])))
sandbox = Sandbox(book.root.resolve())
pages = render(book, sandbox, "2020-01-01T00:00:00Z")
Path(sys.argv[2]).write_text(pages.print_html, "utf-8")
Path(sys.argv[3]).write_text(pages.print_base_url, "utf-8")
"""

WEASYPRINT_ONLY = r"""
import sys
from pathlib import Path
import weasyprint
html = Path(sys.argv[1]).read_text("utf-8")
base = Path(sys.argv[2]).read_text("utf-8")
weasyprint.HTML(string=html, base_url=base).write_pdf(sys.argv[3], pdf_variant=sys.argv[4] or None)
"""


def scale(runs: int, work: Path, sizes: list[int], words: int) -> list[dict]:
    rows = []
    for chapters in sizes:
        book = generate(work / f"scale-{chapters}", chapters, words)
        html, base = work / f"scale-{chapters}.html", work / f"scale-{chapters}.base"
        run([PYTHON, "-c", BARE_WEASYPRINT, str(book), str(html), str(base)])
        flat = generate(work / f"scale-{chapters}-flat", chapters, words)
        with open(flat / "book.toml", "a", encoding="utf-8") as config:
            config.write("\n[epub]\npage_list = false\n")
        epub, epub_mem, pdf, pdf_mem, bare, bare_plain, plain = [], [], [], [], [], [], []
        for index in range(runs):
            plain.append(run(bindery(str(flat), "--out", str(work / f"flat-{chapters}-{index}"),
                                     "--format", "epub", "--quiet"))[0])
            out = work / f"scale-{chapters}-out-{index}"
            seconds, memory = run(bindery(str(book), "--out", str(out), "--format", "epub",
                                          "--quiet"), memory=True)
            epub.append(seconds)
            epub_mem.append(max(memory["self_kib"], memory["children_kib"]))
            seconds, memory = run(bindery(str(book), "--out", str(out), "--format", "pdf",
                                          "--quiet", "--force"), memory=True)
            pdf.append(seconds)
            pdf_mem.append(max(memory["self_kib"], memory["children_kib"]))
            bare.append(run([PYTHON, "-c", WEASYPRINT_ONLY, str(html), str(base),
                             str(work / "bare.pdf"), "pdf/ua-1"])[0])
            bare_plain.append(run([PYTHON, "-c", WEASYPRINT_ONLY, str(html), str(base),
                                   str(work / "bare.pdf"), ""])[0])
        from pypdf import PdfReader
        pages = len(PdfReader(next((work / f"scale-{chapters}-out-0").glob("*.pdf"))).pages)
        rows.append({"chapters": chapters, "words": chapters * words, "pages": pages,
                     "epub": summary(epub), "epub_peak_mib": max(epub_mem) / 1024,
                     "epub_no_page_list": summary(plain),
                     "pdf": summary(pdf), "pdf_peak_mib": max(pdf_mem) / 1024,
                     "weasyprint_ua": summary(bare), "weasyprint_plain": summary(bare_plain)})
    return rows


# -- 4b. a long book: cold, edited in a new process, edited in watch ---------------------

WATCHED = r"""
import json, sys, time
from pathlib import Path
from bindery.builder import build
from bindery.builder.request import BuildRequest
from bindery.watch import idle
book, out, chapter = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
request = BuildRequest(book_dir=book, out_dir=out, keep_layout=True)   # as watch asks
build(request)                      # what watch does when it starts
times = []
for index in range(int(sys.argv[4])):
    idle()                           # what watch does when no change has come for 0.5 s
    text = chapter.read_text("utf-8")
    old, new = ("the", "thee") if index % 2 == 0 else ("thee", "the")
    chapter.write_text(text.replace(f" {old} ", f" {new} ", 1), "utf-8")
    started = time.perf_counter()
    report = build(request)          # what watch does after a save
    times.append(time.perf_counter() - started)
    stages = dict(report.stages)
# A page's worth of text added to the chapter, then taken out again: the chapters after it move.
text = chapter.read_text("utf-8")
page = "\n\n".join([max(text.split("\n\n"), key=len)] * 3)
moved = []
for index in range(int(sys.argv[4])):
    idle()
    chapter.write_text(text + "\n\n" + page + "\n" if index % 2 == 0 else text, "utf-8")
    started = time.perf_counter()
    report = build(request)
    moved.append(time.perf_counter() - started)
    moved_stages = dict(report.stages)
print(json.dumps({"times": times, "stages": stages, "moved": moved,
                  "moved_stages": moved_stages}))
"""


def long_book(runs: int, work: Path, chapters: int = 40, words: int = 2500) -> dict:
    """A generated book of ``chapters`` × ``words`` words: Bindery's cold build of every
    output against pandoc + WeasyPrint making one PDF of the same text; a one-word edit in
    chapter 20 rebuilt by a new process, and by a process that keeps its layout (watch)."""
    book = generate(work / "long", chapters, words)
    pandoc = pandoc_path()
    weasyprint = str(Path(PYTHON).with_name("weasyprint"))
    sources = []
    for path in sorted((book / "chapters").glob("*.md")):
        _, front, body = path.read_text("utf-8").split("---", 2)
        title = front.split("title:", 1)[1].strip()
        target = work / "long-pandoc" / path.name
        target.parent.mkdir(exist_ok=True)
        target.write_text(f"# {title}\n\n{body}", "utf-8")
        sources.append(str(target))
    anchor = [run([pandoc, *sources, "--metadata", "title=A Generated Book",
                   f"--pdf-engine={weasyprint}", "-o", str(work / f"long-{index}.pdf")])[0]
              for index in range(runs)]
    cold = [run(bindery(str(book), "--out", str(work / f"long-out-{index}"), "--quiet"))[0]
            for index in range(runs)]
    chapter = book / "chapters" / f"chapter-{chapters // 2:03}.md"
    edits = []
    for index in range(runs):
        text = chapter.read_text("utf-8")
        old, new = ("the", "thee") if index % 2 == 0 else ("thee", "the")
        chapter.write_text(text.replace(f" {old} ", f" {new} ", 1), "utf-8")
        edits.append(run(bindery(str(book), "--out", str(work / "long-out-0"), "--quiet"))[0])
    done = subprocess.run([PYTHON, "-c", WATCHED, str(book), str(work / "long-watch"),
                           str(chapter), str(runs)], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: the watched rebuilds\n{done.stderr[-2000:]}")
    watched = json.loads(done.stdout.strip().splitlines()[-1])
    return {"words": chapters * words, "anchor": summary(anchor), "cold": summary(cold),
            "edit": summary(edits), "watch": summary(watched["times"]),
            "watch_stages": watched["stages"], "moved": summary(watched["moved"]),
            "moved_stages": watched["moved_stages"]}


# -- 5. a catalogue of small books ----------------------------------------------------------

def catalogue(runs: int, work: Path, books: int = 100) -> dict:
    """``books`` small generated books (3 chapters of 300 words each) built at once into
    their own folders, then built again with nothing changed."""
    shelf = work / "catalogue"
    for number in range(books):
        book = generate(shelf / f"book-{number:03}", 3, 300)
        config = book / "book.toml"
        config.write_text(config.read_text("utf-8").replace(
            "00000000-0000-4000-8000-000000000001", f"00000000-0000-4000-8000-{number:012}"),
            "utf-8")
    out = work / "catalogue-out"
    cold, _ = run(bindery(str(shelf), "--out", str(out), "--quiet"))
    again = [run(bindery(str(shelf), "--out", str(out), "--quiet"))[0] for _ in range(runs)]
    return {"books": books, "cold": cold, "noop": summary(again),
            "noop_per_book": statistics.median(again) / books}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def table(results: dict) -> str:
    cold, noop, edit = results["cold"], results["noop"], results["edit"]
    pandoc_epub, pandoc_pdf, pandoc = results["pandoc"]
    lines = [
        f"Measured {results['date']} on {results['machine']}; median of {cold['runs']} runs "
        f"(minimum–maximum), wall time of a new process each.",
        "",
        "| What | Time | Ratio | Target | Met |",
        "| --- | --- | --- | --- | --- |",
        f"| Bindery cold build, every output | {fmt(cold)} | "
        f"{cold['median'] / pandoc['median']:.2f} × pandoc | ≤ 1 × pandoc EPUB + PDF | "
        f"{'yes' if cold['median'] <= pandoc['median'] else 'no'} |",
        f"| pandoc 3 EPUB | {fmt(pandoc_epub)} | | | |",
        f"| pandoc 3 PDF (`--pdf-engine=weasyprint`) | {fmt(pandoc_pdf)} | | | |",
        f"| pandoc EPUB + PDF | {fmt(pandoc)} | 1.00 | | |",
        f"| No-op rebuild | {fmt(noop)} | {noop['median'] / cold['median']:.3f} × cold | "
        f"< 0.15 s and < 0.2 × cold | "
        f"{'yes' if noop['median'] < 0.15 and noop['median'] < cold['median'] / 5 else 'no'} |",
        f"| Rebuild after a one-word edit | {fmt(edit)} | "
        f"{edit['median'] / cold['median']:.2f} × cold | < 0.6 × cold | "
        f"{'yes' if edit['median'] < 0.6 * cold['median'] else 'no'} |",
    ]
    if results.get("scale"):
        lines += ["", "Generated books (deterministic, not committed):", "",
                  "| Chapters | Words | Pages | EPUB with page list | EPUB without "
                  "(`page_list = false`) | EPUB peak | PDF | PDF peak | "
                  "WeasyPrint alone, PDF/UA | Overhead | WeasyPrint alone, plain |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for row in results["scale"]:
            overhead = row["pdf"]["median"] / row["weasyprint_ua"]["median"] - 1
            lines.append(
                f"| {row['chapters']} | {row['words']:,} | {row['pages']} | {fmt(row['epub'])} "
                f"| {fmt(row['epub_no_page_list'])} "
                f"| {row['epub_peak_mib']:.0f} MiB | {fmt(row['pdf'])} | "
                f"{row['pdf_peak_mib']:.0f} MiB | {fmt(row['weasyprint_ua'])} | "
                f"{overhead:+.1%} | {fmt(row['weasyprint_plain'])} |")
    if results.get("long"):
        row = results["long"]
        anchor, cold = row["anchor"]["median"], row["cold"]["median"]
        stages = ", ".join(f"{name} {seconds:.2f} s"
                           for name, seconds in row["watch_stages"].items())
        lines += ["", f"A generated book of {row['words']:,} words (40 chapters), every output:",
                  "", "| What | Time | Ratio | Target | Met |", "| --- | --- | --- | --- | --- |",
                  f"| pandoc + WeasyPrint, one PDF | {fmt(row['anchor'])} | 1.00 | | |",
                  f"| Bindery cold build | {fmt(row['cold'])} | {cold / anchor:.2f} × anchor "
                  f"| ≤ 1.0 × anchor | {'yes' if cold <= anchor else 'no'} |",
                  f"| One-word edit, new process | {fmt(row['edit'])} | "
                  f"{row['edit']['median'] / cold:.2f} × cold | ≤ 0.3 × cold | "
                  f"{'yes' if row['edit']['median'] <= 0.3 * cold else 'no'} |",
                  f"| One-word edit in `watch` (the build, in the process that built before) "
                  f"| {fmt(row['watch'])} | {row['watch']['median'] / cold:.2f} × cold | "
                  f"≤ 1.5 s | {'yes' if row['watch']['median'] <= 1.5 else 'no'} |",
                  "", f"Stages of the last edit in `watch`: {stages}."]
        if row.get("moved"):
            moved = ", ".join(f"{name} {seconds:.2f} s"
                              for name, seconds in row["moved_stages"].items())
            lines += ["", "| What | Time | Ratio | Target | Met |", "| --- | --- | --- | --- | --- |",
                      f"| A page of text added to (or taken from) chapter 20 in `watch`: the 20 "
                      f"chapters after it move | {fmt(row['moved'])} | "
                      f"{row['moved']['median'] / cold:.2f} × cold | ≤ 1.5 s, as any edit "
                      f"in `watch` | {'yes' if row['moved']['median'] <= 1.5 else 'no'} |",
                      "", f"Stages of the last such edit: {moved}."]
    if results.get("catalogue"):
        row = results["catalogue"]
        per_book = row["noop_per_book"]
        lines += ["", f"A catalogue of {row['books']} small generated books (3 chapters of 300 "
                  "words each), `bindery build catalogue/` with the default `--jobs`:", "",
                  "| What | Time | Per book | Target | Met |",
                  "| --- | --- | --- | --- | --- |",
                  f"| First build, every output of every book | {row['cold']:.1f} s | "
                  f"{row['cold'] / row['books']:.2f} s | | |",
                  f"| Again, nothing changed | {fmt(row['noop'])} | {per_book:.4f} s | "
                  f"≤ 0.05 s a book | {'yes' if per_book <= 0.05 else 'no'} |"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale-runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="a smaller scale book (10 and 30 chapters of 300 words)")
    parser.add_argument("--no-scale", action="store_true", help="skip the generated books")
    parser.add_argument("--long", action=argparse.BooleanOptionalAction, default=True,
                        help="the 100,000-word book: cold, edited, edited in watch")
    parser.add_argument("--markdown", type=Path, help="also write the table into this file")
    parser.add_argument("--books", type=int, default=100,
                        help="books in the generated catalogue (0: skip it)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bindery-bench-") as folder:
        work = Path(folder)
        results = {"date": date.today().isoformat(), "machine": machine()}
        print("cold builds...", file=sys.stderr)
        results["cold"] = cold_builds(arguments.runs, work)
        print("pandoc...", file=sys.stderr)
        results["pandoc"] = pandoc_builds(arguments.runs, work)
        print("rebuilds...", file=sys.stderr)
        results["noop"], results["edit"] = rebuilds(arguments.runs, work)
        if arguments.long:
            print("a long book...", file=sys.stderr)
            results["long"] = long_book(arguments.scale_runs, work)
        if not arguments.no_scale:
            sizes, words = ([10, 30], 300) if arguments.quick else ([10, 100], 3000)
            print(f"scale: {sizes} chapters of {words} words...", file=sys.stderr)
            results["scale"] = scale(arguments.scale_runs, work, sizes, words)
        if arguments.books:
            print(f"catalogue of {arguments.books} books...", file=sys.stderr)
            results["catalogue"] = catalogue(arguments.runs, work, arguments.books)
    text = table(results)
    print(text)
    print(json.dumps(results, indent=1), file=sys.stderr)
    if arguments.markdown:
        arguments.markdown.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
