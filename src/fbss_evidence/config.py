"""Every path the project uses, defined once."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DATA = ROOT / "data"
SOURCES_DIR = DATA / "sources"
SOURCES_CSV = DATA / "sources.csv"
CLAIMS_CSV = DATA / "claims.csv"
REFERENCES_CSV = DATA / "references.csv"
AUDIT_CSV = DATA / "citation_audit.csv"

NOTEBOOKS = ROOT / "notebooks"
FIGURES = ROOT / "figures"
TABLES = ROOT / "tables"
BUILD = ROOT / "build"
