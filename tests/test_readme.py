"""The README stays the newcomer's door: the two commands and every spec field are in it."""
from __future__ import annotations

from pathlib import Path

from neuralab.spec.reference import spec_reference

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_shows_the_two_commands():
    assert "make demo" in README and "make test" in README


def test_readme_spec_reference_lists_every_field():
    missing = [row["field"] for row in spec_reference() if f"`{row['field']}`" not in README]
    assert not missing, f"add these fields to the README's spec reference: {missing}"


def test_readme_spec_reference_is_the_generated_table():
    from neuralab.spec.reference import reference_markdown

    assert reference_markdown() in README, "regenerate the README's spec table from neuralab.spec.reference"
