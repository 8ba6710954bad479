"""Re-resolve the project's dependencies and write requirements.lock.

Run through `make lock`. It resolves the direct dependencies of pyproject.toml
in a throw-away virtual environment, freezes the result and drops the packages
listed in EXCLUDED (see the README's development notes for why).
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"

# rfc3987-syntax builds ~35 Lark parsers when jsonschema imports it (about 1.3 s
# in every papermill/nbval/nbconvert process); jsonschema treats it as optional
# and nothing in this environment validates the `iri` formats it serves.
# lark is only needed by rfc3987-syntax.
EXCLUDED = {"rfc3987-syntax", "lark"}


def direct_dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"]) + ["setuptools>=77"]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env_dir = Path(tmp) / "venv"
        venv.create(env_dir, with_pip=True)
        pip = [str(env_dir / "bin" / "python"), "-m", "pip"]
        subprocess.run(pip + ["install", "--quiet", *direct_dependencies()], check=True)
        frozen = subprocess.run(
            pip + ["freeze", "--all", "--exclude-editable"],
            check=True, capture_output=True, text=True,
        ).stdout.splitlines()
    kept = sorted(
        (line for line in frozen
         if line.split("==")[0].lower().replace("_", "-") not in EXCLUDED | {"pip"}),
        key=str.lower,
    )
    header = [
        "# Exact versions of every package in the project's environment.",
        "# Installed with `pip install --no-deps -r requirements.lock` by `make`.",
        "# Regenerate with `make lock` (see README, 'Updating dependencies').",
        f"# Deliberately left out: {', '.join(sorted(EXCLUDED))} (README, 'Start-up time').",
    ]
    LOCK.write_text("\n".join(header + kept) + "\n")
    print(f"wrote {LOCK.relative_to(ROOT)} with {len(kept)} packages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
