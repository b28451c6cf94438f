"""The Chinese edition (中文版): written from the English chapters, kept in step, terms checked."""

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("zh_edition", ROOT / "book" / "_ext" / "zh_edition.py")
zh_edition = sys.modules["zh_edition"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(zh_edition)

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_chinese_contents_list_the_english_pages_in_order():
    english = re.findall(r"(?:root|file):\s*(\S+)", (ROOT / "_toc.yml").read_text())
    chinese = re.findall(r"(?:root|file):\s*(\S+)", (ROOT / "zh" / "_toc.yml").read_text())
    assert chinese == english


def test_every_chapter_cell_has_an_id():
    """Translations are keyed by cell id: every English chapter stores one per cell (nbformat 4.5)."""
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        ids = [cell.get("id") for cell in nb["cells"]]
        assert None not in ids, f"{path.name} has cells without an id"
        assert len(set(ids)) == len(ids), f"{path.name} repeats a cell id"


@pytest.fixture
def copy_of_the_course(tmp_path, monkeypatch):
    """The English pages, the contents and the translations in a temporary folder, with the
    edition's paths pointed at it (so a test may change an English cell)."""
    for name in ("_toc.yml", "book", "zh/translations"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("_build", "_static"))
        elif source.exists():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, tmp_path / name)
    (tmp_path / "zh" / "translations").mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(zh_edition, "ROOT", tmp_path)
    monkeypatch.setattr(zh_edition, "EN_TOC", tmp_path / "_toc.yml")
    monkeypatch.setattr(zh_edition, "TRANSLATIONS", tmp_path / "zh" / "translations")
    monkeypatch.setattr(zh_edition, "OUT", tmp_path / "zh" / "book")
    return tmp_path


def _first_prose_cell(nb: dict) -> dict:
    return next(c for c in nb["cells"] if c["cell_type"] == "markdown" and "## " in "".join(c["source"]))


def test_a_changed_english_cell_makes_its_page_stale_with_a_notice(copy_of_the_course):
    page = "book/04_c1"
    zh_edition.skeleton(page)  # a translation of the page as it is now
    _, state = zh_edition.localise(page, with_outputs=False)
    assert not state.is_stale
    path = copy_of_the_course / "book" / "04_c1.ipynb"
    nb = json.loads(path.read_text())
    cell = _first_prose_cell(nb)
    cell["source"] = "".join(cell["source"]) + "\nOne more English sentence."
    path.write_text(json.dumps(nb, indent=1))
    zh, state = zh_edition.localise(page, with_outputs=False)
    assert state.stale == [f"cell {cell['id']}"]
    notice = "".join(zh["cells"][0]["source"])
    assert "译文待更新" in notice and 'href="../../book/04_c1.html"' in notice
    shown = next(c for c in zh["cells"] if c.get("id") == cell["id"])
    assert "One more English sentence." in "".join(shown["source"])  # the English, not an old translation
    listing = zh_edition.report([state])
    assert "book/04_c1" in listing and "stale" in listing


def test_the_chinese_chapters_run_the_english_code(copy_of_the_course):
    page = "book/09_data_flow"
    english = json.loads((copy_of_the_course / "book" / "09_data_flow.ipynb").read_text())
    zh, _ = zh_edition.localise(page, with_outputs=False)
    code = [c["source"] for c in english["cells"] if c["cell_type"] == "code"]
    assert [c["source"] for c in zh["cells"] if c["cell_type"] == "code"] == code


def test_a_translation_file_rejects_a_unit_translated_twice(tmp_path):
    path = tmp_path / "x.md"
    path.write_text("<!-- cell a | en 0123456789ab -->\n甲\n<!-- cell a | en 0123456789ab -->\n乙\n")
    with pytest.raises(ValueError, match="twice"):
        zh_edition.Translation.read(path)


# --- the glossary: the one list of terms -------------------------------------------------------

def glossary_pairs() -> list[tuple[str, str]]:
    """(English term, Chinese term) of every glossary entry: its first term line and the next."""
    text = (ROOT / "book" / "glossary.md").read_text()
    block = text[text.index("```{glossary}"):]
    block = block[:block.index("\n```", 5)]
    pairs, terms = [], []
    for line in block.splitlines()[1:]:
        if not line.strip():
            continue
        if line.startswith("  "):
            if terms:
                pairs.append((terms[0], terms[1] if len(terms) > 1 else terms[0]))
            terms = []
        else:
            terms.append(line.strip())
    return pairs


def test_the_glossary_pairs_each_english_term_with_one_chinese_term():
    pairs = glossary_pairs()
    assert len(pairs) >= 30
    english = [e for e, _ in pairs]
    chinese = [z for _, z in pairs if CJK.search(z)]
    assert len(english) == len(set(english)), "an English term is listed twice"
    assert len(chinese) == len(set(chinese)), "two English terms share a Chinese term"
    for e, z in pairs:
        assert not CJK.search(e), f"{e!r} stands where the English term goes: swapped with {z!r}?"
