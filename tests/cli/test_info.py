"""``neuralab info`` and ``--version``: topics listed, usage lines name the real spec field, 80 columns."""
from __future__ import annotations

import pytest
from rich.console import Console

from neuralab import __version__
from neuralab.cli import main
from neuralab.cli.info import catalog_table
from neuralab.spec.catalog import TABLES


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"neuralab {__version__}"


def test_info_alone_lists_every_topic_with_its_field(capsys):
    assert main(["info"]) == 0
    printed = capsys.readouterr().out
    assert all(topic in printed for topic in (*TABLES, "spec"))
    assert "train.loss" in printed and "data.features" in printed


@pytest.mark.parametrize(("topic", "usage"), [("losses", "`train.loss: NAME`"),
                                              ("features", "`data.features: [NAME, …]`"),
                                              ("schedules", "`train.schedule.name: NAME`")])
def test_the_usage_line_names_the_spec_field(topic, usage):
    assert catalog_table(topic).title == f"{topic} — {usage} in a spec"


@pytest.mark.parametrize("topic", ["activations", "schedules", "optimizers", "inits"])
def test_tables_read_at_80_columns(topic):
    console = Console(width=80, record=True)
    console.print(catalog_table(topic, width=80))
    text = console.export_text()
    assert "…" not in text  # nothing cut off
    for name, entry in TABLES[topic].items():
        assert name in text
        for value in entry.properties.values():  # every property is there, whole words
            assert value.split()[0] in text
