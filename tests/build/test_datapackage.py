"""fbss_build.datapackage: data/datapackage.json is what the pandera schemas give, and it describes the
data truly (checked with the frictionless library, foreign keys included)."""

from __future__ import annotations

import json
import shutil

import pytest

from fbss_build import datapackage
from fbss_evidence import config, schema


def test_the_committed_package_is_what_the_schemas_give():
    assert datapackage.PACKAGE.read_text(encoding="utf-8") == datapackage.text(), "run `make datapackage`"
    assert datapackage.main(["--check"]) == 0


def test_the_committed_data_dictionary_is_what_the_schemas_give():
    assert datapackage.DICTIONARY.read_text(encoding="utf-8") == datapackage.markdown(), "run `make datapackage`"


def test_every_table_of_the_schema_module_is_a_resource():
    import pandera.pandas as pa

    tables = {v.name for v in vars(schema).values() if isinstance(v, pa.DataFrameSchema)}
    assert tables == {table.name for table, _ in datapackage.RESOURCES}


def test_the_dictionary_lists_every_column_with_its_vocabulary():
    text = datapackage.markdown()
    assert "## `number_exclusions.csv`" in text
    for table, path in datapackage.RESOURCES:
        section = text.split(f"## `{path}`", 1)[1].split("\n## ", 1)[0]
        for column in table.columns:
            assert f"| `{column}` |" in section, (path, column)
    assert "`contradicted`" in text.split("## `statement_audit.csv`", 1)[1].split("\n## ", 1)[0]


def test_every_table_and_column_of_the_schemas_is_described():
    package = datapackage.package()
    by_name = {r["name"]: r for r in package["resources"]}
    for table, path in datapackage.RESOURCES:
        resource = by_name[table.name.replace("_", "-")]
        assert resource["path"] == path and (config.DATA / path).exists()
        assert [f["name"] for f in resource["schema"]["fields"]] == list(table.columns)
    claims = {f["name"]: f for f in by_name["claims"]["schema"]["fields"]}
    assert claims["topic"]["constraints"]["enum"] == list(schema.allowed_values(schema.CLAIMS, "topic"))
    assert claims["claim_id"]["constraints"] == {
        "required": True,
        "unique": True,
        "pattern": schema.SLUG.removeprefix("^").removesuffix("$"),
    }
    assert claims["numerator"]["type"] == "integer" and claims["value"]["type"] == "number"
    assert {"fields": "ref_id", "reference": {"resource": "references", "fields": "ref_id"}} in by_name["claims"][
        "schema"
    ]["foreignKeys"]


@pytest.mark.slow
def test_frictionless_validates_the_package_and_the_data():
    from frictionless import validate

    report = validate(str(datapackage.PACKAGE))
    assert report.valid, [e.message for task in report.tasks for e in task.errors][:5]


@pytest.mark.slow
def test_frictionless_finds_a_broken_foreign_key(tmp_path):
    from frictionless import validate

    copy = tmp_path / "data"
    shutil.copytree(config.DATA, copy, ignore=shutil.ignore_patterns("extraction"))
    text = (copy / "results.csv").read_text(encoding="utf-8").replace("zhang-2022,", "nobody-2022,", 1)
    (copy / "results.csv").write_text(text, encoding="utf-8")
    report = validate(str(copy / "datapackage.json"))
    assert not report.valid
    assert any(e.type == "foreign-key" for task in report.tasks for e in task.errors)


def test_a_stale_package_is_detected(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "datapackage.json"
    stale.write_text(json.dumps({"name": "old"}))
    monkeypatch.setattr(datapackage, "PACKAGE", stale)
    assert datapackage.main(["--check"]) == 1
    assert "make datapackage" in capsys.readouterr().err
