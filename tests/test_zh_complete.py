"""The Chinese edition is complete and in step: every page translated, terms from the glossary."""

import re
from pathlib import Path

import pytest
from test_zh import CJK, glossary_pairs, zh_edition


def _english_prose(page: str) -> str:
    nb = zh_edition.read_english(page)
    text = "\n".join(english for kind, _, english in zh_edition.units(nb) if kind == "cell")
    return re.sub(r"`[^`]*`|\$[^$]*\$|\]\([^)]*\)", " ", text)  # code, maths and link targets


def _chinese_prose(page: str) -> str:
    translation = zh_edition.Translation.read(zh_edition.TRANSLATIONS / f"{Path(page).name}.md")
    return "\n".join(body for (kind, _), (_, body) in translation.entries.items() if kind == "cell")


CHAPTERS = [p for p in zh_edition.pages() if p.split("/")[-1][:2].isdigit()]


@pytest.mark.parametrize("page", CHAPTERS)
def test_every_glossary_term_is_written_with_its_chinese_term(page):
    """Where an English chapter uses a glossary term, its Chinese chapter uses the glossary's
    Chinese term (the one term list), not a synonym of the translator's."""
    english, chinese = _english_prose(page).lower(), _chinese_prose(page)
    missing = [f"{e} -> {z}" for e, z in glossary_pairs() if CJK.search(z)
               and re.search(rf"\b{re.escape(e.lower())}(e?s)?\b", english) and z not in chinese]
    assert not missing, f"{page}: the Chinese text lacks the glossary's terms {missing}"


@pytest.mark.parametrize("page", zh_edition.pages())
def test_no_page_of_the_chinese_edition_is_stale(page):
    """An English change lands with its translation: every unit of every page is translated,
    from the English as it is now."""
    if Path(page).name in zh_edition.WHOLE_PAGES:
        _, state = zh_edition.localise_whole(page)
    else:
        _, state = zh_edition.localise(page, with_outputs=False)
    assert not state.is_stale, (f"{page}: {len(state.stale)} units untranslated or translated from an older "
                                f"English ({', '.join(state.stale[:5])}); see book/_ext/zh_edition.py")
