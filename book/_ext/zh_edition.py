"""The Chinese edition (中文版): written from the English chapters and a translation of their prose.

The English notebooks are the only source of code. For each page, ``zh/translations/<page>.md``
holds the Chinese text of every markdown cell, figure caption and alt text, each under a line

    <!-- cell 1a2b3c4d | en 0f1e2d3c4b5a -->

that names the English unit (``cell``, ``caption`` or ``alt`` with the cell's id; ``page`` for a
page translated whole) and the hash of the English text it translates. :func:`write_edition`
writes ``zh/book/``: each chapter with the English code cells and the outputs the English build
already computed (read from its execution cache, so nothing runs again), and the Chinese text.
An English unit whose hash no longer matches (or that has no translation) is *stale*: the page
shows it in English, opens with a notice in Chinese that links the English page, and the build
prints the page's name. A test holds main free of stale pages.

    python book/_ext/zh_edition.py write           # zh/book/ from book/ and zh/translations/
    python book/_ext/zh_edition.py status          # which pages are stale, and where
    python book/_ext/zh_edition.py skeleton PAGE   # add the missing units of a page, in English
    python book/_ext/zh_edition.py notebooks DIR   # the Chinese chapters as notebooks to run
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EN_TOC = ROOT / "_toc.yml"
ZH = ROOT / "zh"
TRANSLATIONS = ZH / "translations"
OUT = ZH / "book"  # written by the build, not kept in git
CACHE = ROOT / "_build" / ".jupyter_cache"
WHOLE_PAGES = ("glossary", "references", "try_lenet5")  # markdown pages translated whole

HEADER = re.compile(r"^<!-- (cell|caption|alt|page) (\S+) \| en ([0-9a-f]{12}) -->$", re.M)
STALE_NOTICE = (
    ":::{{admonition}} 译文待更新\n:class: warning zh-stale\n"
    "英文版的这一页在翻译之后有改动，下面有 {n} 处仍显示英文原文。"
    "请以<a href=\"{english}\">英文版</a>为准。\n:::\n"
)


def text_hash(text: str) -> str:
    """The first 12 hex digits of the SHA-256 of ``text`` (what a translation says it translates)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def pages() -> list[str]:
    """The English pages in reading order, as ``_toc.yml`` lists them (``book/01_history``, ...)."""
    return re.findall(r"(?:root|file):\s*(\S+)", EN_TOC.read_text())


def source_of(page: str) -> Path:
    for ext in (".ipynb", ".md"):
        if (ROOT / f"{page}{ext}").exists():
            return ROOT / f"{page}{ext}"
    raise FileNotFoundError(f"_toc.yml lists {page}, which is neither .ipynb nor .md")


def read_english(page: str) -> dict:
    """The page as a notebook (a MyST markdown page through jupytext), without outputs."""
    path = source_of(page)
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text())
        for i, cell in enumerate(nb["cells"]):  # a chapter stores ids (a test holds it); else number them
            cell.setdefault("id", f"{path.stem}-{i}")
        return nb
    import nbformat  # deferred: build-time only
    from myst_nb.core.read import read_myst_markdown_notebook

    nb = json.loads(nbformat.writes(read_myst_markdown_notebook(path.read_text())))
    for i, cell in enumerate(nb["cells"]):  # MyST pages have no stored ids: number the cells
        cell["id"] = f"{path.stem}-{i}"
    return nb


def units(nb: dict) -> list[tuple[str, str, str]]:
    """(kind, cell id, English text) of every translatable piece of a notebook, in order."""
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            found.append(("cell", cell["id"], "".join(cell["source"])))
        elif cell["cell_type"] == "code":
            meta = cell.get("metadata", {}).get("mystnb", {})
            if meta.get("figure", {}).get("caption"):
                found.append(("caption", cell["id"], meta["figure"]["caption"]))
            if meta.get("image", {}).get("alt"):
                found.append(("alt", cell["id"], meta["image"]["alt"]))
    return found


@dataclass
class Translation:
    """What ``zh/translations/<name>.md`` holds: (kind, id) -> (English hash, Chinese text)."""

    entries: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Translation:
        if not path.exists():
            return cls()
        text = path.read_text()
        heads = list(HEADER.finditer(text))
        entries = {}
        for head, nxt in zip(heads, heads[1:] + [None]):
            body = text[head.end():nxt.start() if nxt else len(text)].strip("\n")
            key = (head.group(1), head.group(2))
            if key in entries:
                raise ValueError(f"{path.name}: {key[0]} {key[1]} is translated twice")
            entries[key] = (head.group(3), body)
        return cls(entries)

    def write(self, path: Path) -> None:
        blocks = [f"<!-- {kind} {uid} | en {sha} -->\n{body.strip()}\n" for (kind, uid), (sha, body) in
                  self.entries.items()]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(blocks))


@dataclass
class PageState:
    page: str
    stale: list[str] = field(default_factory=list)  # units whose English changed or lack a translation

    @property
    def is_stale(self) -> bool:
        return bool(self.stale)


def _english_link(page: str) -> str:
    """From a Chinese page (zh/<page>.html) to its English original (<page>.html)."""
    depth = page.count("/") + 1  # the extra level is zh/
    return "../" * depth + f"{page}.html"


def _with_outputs(nb: dict) -> dict:
    """The notebook with the outputs the English build computed, from its execution cache."""
    if not any(c["cell_type"] == "code" for c in nb["cells"]):
        return nb
    import nbformat  # deferred: build-time only
    from jupyter_cache import get_cache

    node = nbformat.from_dict(copy.deepcopy(nb))
    try:
        _, merged = get_cache(CACHE).merge_match_into_notebook(node)
    except KeyError as exc:
        raise RuntimeError("The English build's execution cache has no run of this page's code; "
                           "build the English edition first (make book does both, in order).") from exc
    merged = json.loads(nbformat.writes(merged))
    for cell, source in zip(merged["cells"], nb["cells"]):  # the cache keeps no ids: restore them
        cell["id"] = source["id"]
    return merged


def localise(page: str, with_outputs: bool = True) -> tuple[dict, PageState]:
    """The Chinese notebook of ``page`` and what in it is stale."""
    nb = read_english(page)
    translation = Translation.read(TRANSLATIONS / f"{Path(page).name}.md")
    state = PageState(page)
    zh = _with_outputs(nb) if with_outputs else copy.deepcopy(nb)
    by_id = {cell["id"]: cell for cell in zh["cells"]}
    for kind, uid, english in units(nb):
        sha, body = translation.entries.get((kind, uid), (None, None))
        if sha != text_hash(english):
            state.stale.append(f"{kind} {uid}")
            continue
        cell = by_id[uid]
        if kind == "cell":
            cell["source"] = body
        else:
            part = "figure" if kind == "caption" else "image"
            cell["metadata"]["mystnb"][part]["caption" if kind == "caption" else "alt"] = body
    if state.stale:
        notice = STALE_NOTICE.format(n=len(state.stale), english=_english_link(page))
        zh["cells"].insert(0, {"cell_type": "markdown", "id": "zh-stale-notice", "metadata": {},
                               "source": notice})
    zh["metadata"]["language_info"] = nb["metadata"].get("language_info", {"name": "python"})
    zh["nbformat"], zh["nbformat_minor"] = 4, max(5, nb.get("nbformat_minor", 5))
    return zh, state


def localise_whole(page: str) -> tuple[str, PageState]:
    """A markdown page translated whole, or the English with the notice when it is stale."""
    english = source_of(page).read_text()
    translation = Translation.read(TRANSLATIONS / f"{Path(page).name}.md")
    sha, body = translation.entries.get(("page", Path(page).name), (None, None))
    state = PageState(page)
    if sha == text_hash(english):
        return body + "\n", state
    state.stale.append(f"page {Path(page).name}")
    notice = STALE_NOTICE.format(n=1, english=_english_link(page))
    title_end = english.index("\n", english.index("# ")) + 1
    return english[:title_end] + "\n" + notice + english[title_end:], state


def _notebook_links(text: str) -> str:
    """Links to a MyST page that the edition writes as a notebook (the intro) point at the .ipynb."""
    for page in pages():
        name = Path(page).name
        if name not in WHOLE_PAGES and source_of(page).suffix == ".md":
            text = re.sub(rf"\]\({re.escape(name)}\.md(#[^)]*)?\)",
                          lambda m, name=name: f"]({name}.ipynb{m.group(1) or ''})", text)
    return text


def write_edition(out: Path = OUT, with_outputs: bool = True) -> list[PageState]:
    """Write every Chinese page into ``out``; return each page's state (stale units listed)."""
    states = []
    for page in pages():
        name = Path(page).name
        if name in WHOLE_PAGES:
            text, state = localise_whole(page)
            target = out / f"{name}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_notebook_links(text))
        else:
            nb, state = localise(page, with_outputs)
            for cell in nb["cells"]:
                if cell["cell_type"] == "markdown":
                    cell["source"] = _notebook_links("".join(cell["source"]))
            target = out / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        states.append(state)
    return states


def report(states: list[PageState]) -> str:
    stale = [s for s in states if s.is_stale]
    if not stale:
        return f"中文版: all {len(states)} pages up to date with the English"
    lines = [f"中文版: {len(stale)} of {len(states)} pages are stale (shown with a notice):"]
    lines += [f"  {s.page}: {', '.join(s.stale[:6])}{' ...' if len(s.stale) > 6 else ''}" for s in stale]
    return "\n".join(lines)


def skeleton(page: str) -> Path:
    """Add to the page's translation file every unit it lacks, in English, with its hash, so a
    translator replaces the text below each header. Units already there keep their text."""
    path = TRANSLATIONS / f"{Path(page).name}.md"
    translation = Translation.read(path)
    if Path(page).name in WHOLE_PAGES:
        wanted = [("page", Path(page).name, source_of(page).read_text())]
    else:
        wanted = units(read_english(page))
    entries = {}
    for kind, uid, english in wanted:
        entries[(kind, uid)] = translation.entries.get((kind, uid), (text_hash(english), english))
    Translation(entries).write(path)
    return path


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "write":
        print(report(write_edition()))
    elif command == "status":
        states = [localise_whole(p)[1] if Path(p).name in WHOLE_PAGES else localise(p, False)[1] for p in pages()]
        print(report(states))
    elif command == "skeleton" and len(argv) == 2:
        print(f"wrote {skeleton(argv[1] if '/' in argv[1] else f'book/{argv[1]}')}")
    elif command == "notebooks" and len(argv) == 2:
        out = Path(argv[1])
        states = write_edition(out, with_outputs=False)
        for md in out.glob("*.md"):  # keep the chapters only
            md.unlink()
        print(f"wrote the Chinese chapters to {out}\n{report(states)}")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
