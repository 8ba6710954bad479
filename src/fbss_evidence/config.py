"""Every path the project uses, defined once."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DATA = ROOT / "data"
SOURCES_DIR = DATA / "sources"
SOURCES_CSV = DATA / "sources.csv"
CLAIMS_CSV = DATA / "claims.csv"
REFERENCES_CSV = DATA / "references.csv"
AUDIT_CSV = DATA / "citation_audit.csv"
STATEMENT_AUDIT_CSV = DATA / "statement_audit.csv"

# The file name of each table inside a data folder (data/, or a copy given as data_dir).
TABLE_FILES = {
    "sources": "sources.csv",
    "claims": "claims.csv",
    "references": "references.csv",
    "studies": "studies.csv",
    "audit": "citation_audit.csv",
    "statement_audit": "statement_audit.csv",
    "questions": "questions.csv",
    "claim_questions": "claim_questions.csv",
    "results": "results.csv",
    "search_log": "literature/search_log.csv",
    "screening": "literature/screening.csv",
    "eligibility": "literature/eligibility.csv",
    "risk_of_bias": "literature/risk_of_bias.csv",
    "reviews": "literature/reviews.csv",
    "reference_reviews": "literature/reference_reviews.csv",
    "number_exclusions": "number_exclusions.csv",
}

NOTEBOOKS = ROOT / "notebooks"

# Where runs write: the project itself, or (for tests and the benchmark) a scratch
# folder named by FBSS_OUTPUT_ROOT so that the published outputs stay untouched.
OUTPUT_ROOT = Path(os.environ.get("FBSS_OUTPUT_ROOT", ROOT))
FIGURES = OUTPUT_ROOT / "figures"
TABLES = OUTPUT_ROOT / "tables"
BUILD = OUTPUT_ROOT / "build"


def resolve(path: str | os.PathLike) -> Path:
    """A path as a notebook parameter gives it: relative paths are relative to the project
    folder, so a notebook finds its data wherever it is run from."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else ROOT / path
