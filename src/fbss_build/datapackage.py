"""The published dataset as a Frictionless data package, and its data dictionary, generated from the
pandera schemas.

    python -m fbss_build.datapackage [--check]        (make datapackage)

Writes data/datapackage.json: one resource per table, its fields with their type,
description and constraints (required, unique, enum, pattern, minimum), and the
primary and foreign keys that schema.py declares; and docs/data-dictionary.md, the same
for people to read. schema.py stays the one source of truth (the vocabularies in it come
from vocab.py); --check (and a test) fail when either file is not what it would generate,
and a test validates the package and the data with the frictionless library, so people
outside Python (R, spreadsheets, data portals) can load the tables with their types.
"""
from __future__ import annotations

import argparse
import json
import sys

import pandera.pandas as pa

from fbss_evidence import config, schema
from fbss_evidence.outputs import write_text

PACKAGE = config.DATA / "datapackage.json"
DICTIONARY = config.ROOT / "docs" / "data-dictionary.md"

# The tables of the package: (schema, file inside data/).
RESOURCES = (
    (schema.SOURCES, "sources.csv"), (schema.CLAIMS, "claims.csv"), (schema.REFERENCES, "references.csv"),
    (schema.STUDIES, "studies.csv"), (schema.CITATION_AUDIT, "citation_audit.csv"),
    (schema.STATEMENT_AUDIT, "statement_audit.csv"), (schema.QUESTIONS, "questions.csv"),
    (schema.CLAIM_QUESTIONS, "claim_questions.csv"), (schema.RESULTS, "results.csv"),
    (schema.SEARCH_LOG, "literature/search_log.csv"), (schema.SCREENING, "literature/screening.csv"),
    (schema.NUMBER_EXCLUSIONS, "number_exclusions.csv"), (schema.ELIGIBILITY, "literature/eligibility.csv"),
    (schema.RISK_OF_BIAS, "literature/risk_of_bias.csv"), (schema.REVIEWS, "literature/reviews.csv"),
    (schema.REFERENCE_REVIEWS, "literature/reference_reviews.csv"),
)


def _constraints(column: pa.Column) -> dict:
    out = {}
    if not column.nullable:
        out["required"] = True
    if column.unique:
        out["unique"] = True
    for check in column.checks:
        stats = check.statistics or {}
        name = check.name
        if "allowed_values" in stats:
            out["enum"] = list(stats["allowed_values"])
        elif name == "str_matches":
            out["pattern"] = stats["pattern"].removeprefix("^").removesuffix("$")
        elif name == "greater_than_or_equal_to":
            out["minimum"] = stats["min_value"]
        elif name == "in_range":
            out["minimum"], out["maximum"] = stats["min_value"], stats["max_value"]
        elif name == "str_length" and stats.get("min_value"):
            out["minLength"] = stats["min_value"]
    return out


def _field(name: str, column: pa.Column) -> dict:
    numeric = str(column.dtype) == "float64"
    kind = ("integer" if (column.metadata or {}).get("whole") else "number") if numeric else "string"
    field = {"name": name, "type": kind, "description": column.description or ""}
    if numeric:
        # exclusive minimum (gt) has no Frictionless constraint; the validator enforces it
        checks = [c for c in column.checks if c.name == "greater_than"]
        if checks:
            field["description"] += f" (greater than {checks[0].statistics['min_value']:g})"
    constraints = _constraints(column)
    if constraints:
        field["constraints"] = constraints
    return field


def _resource(table: pa.DataFrameSchema, path: str) -> dict:
    meta = table.metadata or {}
    resource_schema = {"fields": [_field(name, col) for name, col in table.columns.items()],
                       "missingValues": [""]}
    if meta.get("primary_key"):
        resource_schema["primaryKey"] = list(meta["primary_key"])
    keys = [{"fields": column, "reference": {"resource": "" if other == table.name else other, "fields": field}}
            for column, other, field in meta.get("foreign_keys", ())]
    if keys:
        resource_schema["foreignKeys"] = keys
    return {"name": table.name.replace("_", "-"), "path": path, "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "description": table.description,
            "schema": resource_schema}


def package() -> dict:
    resources = [_resource(table, path) for table, path in RESOURCES]
    names = {table.name: table.name.replace("_", "-") for table, _ in RESOURCES}
    for resource in resources:  # foreign keys name resources by their package name
        for key in resource["schema"].get("foreignKeys", []):
            key["reference"]["resource"] = names.get(key["reference"]["resource"], key["reference"]["resource"])
    return {
        "name": "fbss-evidence",
        "title": "Quantitative claims about failed back surgery syndrome, and the evidence beside them",
        "description": "Every number five clinic web pages state about failed back surgery syndrome, with its "
                       "verbatim quote, the page's references and a citation audit, and what primary studies "
                       "report on the same questions. Generated from src/fbss_evidence/schema.py.",
        "licenses": [{"name": "other-at", "title": "The pages' text belongs to their publishers; the curated "
                                                   "tables are shared for research"}],
        "profile": "tabular-data-package",
        "resources": resources,
    }


def text() -> str:
    return json.dumps(package(), indent=2, ensure_ascii=False) + "\n"


def _rule(field: dict) -> str:
    c = field.get("constraints", {})
    parts = []
    if c.get("unique"):
        parts.append("unique")
    if "enum" in c:
        parts.append("one of " + ", ".join(f"`{v}`" for v in c["enum"]))
    if "pattern" in c:
        parts.append(f"matches `{c['pattern']}`")
    if "minimum" in c:
        parts.append(f"at least {c['minimum']:g}" + (f", at most {c['maximum']:g}" if "maximum" in c else ""))
    if c.get("minLength"):
        parts.append("not empty")
    return "; ".join(parts)


def markdown() -> str:
    """The data dictionary: every table, every column, its type, whether required, its rule and meaning."""
    lines = ["# Data dictionary", "",
             "Every table of `data/`, generated from `src/fbss_evidence/schema.py` by `make datapackage` (a test "
             "fails when it is stale). `make validate` checks every rule here, and more that span tables "
             "(`docs/methods.md`). An empty cell is a missing value.", ""]
    for resource in package()["resources"]:
        schema_ = resource["schema"]
        lines += [f"## `{resource['path']}`", "", resource["description"], ""]
        keys = []
        if schema_.get("primaryKey"):
            keys.append("key: " + ", ".join(f"`{k}`" for k in schema_["primaryKey"]))
        for fk in schema_.get("foreignKeys", []):
            target = f"{fk['reference']['resource'] or resource['name']}.{fk['reference']['fields']}"
            keys.append(f"`{fk['fields']}` → `{target}`")
        if keys:
            lines += ["; ".join(keys), ""]
        lines += ["| column | type | required | rule | meaning |", "|---|---|---|---|---|"]
        for field in schema_["fields"]:
            required = "yes" if field.get("constraints", {}).get("required") else ""
            meaning = field["description"].replace("|", "\\|")
            lines.append(f"| `{field['name']}` | {field['type']} | {required} | {_rule(field)} | {meaning} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fbss_build.datapackage", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="fail if data/datapackage.json or docs/data-dictionary.md is stale")
    args = parser.parse_args(argv)
    outputs = ((PACKAGE, text()), (DICTIONARY, markdown()))
    if args.check:
        stale = [path for path, content in outputs if not path.exists() or path.read_text(encoding="utf-8") != content]
        for path in stale:
            print(f"{path} is not what schema.py gives: run `make datapackage`", file=sys.stderr)
        return 1 if stale else 0
    for path, content in outputs:
        write_text(path, content)
        print(f"wrote {path.relative_to(config.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
