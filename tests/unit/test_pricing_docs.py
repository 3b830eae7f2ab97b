"""docs/pricing.md: its worked examples are executed, so the page and the engine never disagree."""

from __future__ import annotations

import doctest
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "pricing.md"


def test_the_worked_examples_of_docs_pricing_hold() -> None:
    result = doctest.testfile(
        str(PAGE), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.attempted > 30  # the examples were found and run
    assert result.failed == 0
