"""Both catalogs are complete: every visible string has Chinese and English (issue: bilingual UI)."""
import importlib.util

from wasteex import paths


def test_catalogs_are_complete_and_in_step_with_the_code():
    spec = importlib.util.spec_from_file_location("check_complete", paths.TRANSLATIONS_DIR / "check_complete.py")
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    problems, counts = checker.find_problems(paths.TRANSLATIONS_DIR, extract=True)
    assert problems == []
    assert counts["zh_Hans_CN"] > 500 and counts["zh_Hans_CN"] == counts["en"]
