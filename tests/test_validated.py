"""Validate once: fbss_evidence.validated serves stored tables only for unchanged inputs."""
from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from fbss_evidence import config, validate, validated
from fbss_evidence.problems import InputError


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(config.DATA, folder, ignore=shutil.ignore_patterns("extraction"))
    return {name: folder / f"{name}.csv" for name in ("claims", "sources", "references")} | {
        "audit": folder / "citation_audit.csv", "cache": tmp_path / "cache"}


def _load(d):
    return validated.load(d["claims"], d["sources"], d["references"], d["audit"], d["cache"])


def _refuse_to_validate(monkeypatch):
    def boom(*args):
        raise AssertionError("validated again")
    monkeypatch.setattr(validate, "load_dataset", boom)


def test_the_second_load_is_served_from_the_cache(data, monkeypatch):
    first = _load(data)
    assert len(list(data["cache"].glob("*.pickle"))) == 1
    _refuse_to_validate(monkeypatch)
    second = _load(data)
    for name in ("sources", "claims", "references", "audit"):
        stored, checked = getattr(second, name), getattr(first, name)
        pd.testing.assert_frame_equal(stored, checked)  # values, dtypes, index and columns
        assert stored.isna().equals(checked.isna())


def test_an_edited_claims_file_is_validated_again_and_refused(data, monkeypatch):
    _load(data)
    text = data["claims"].read_text(encoding="utf-8")
    data["claims"].write_text(text.replace(",71.2,", ',"71,2",', 1), encoding="utf-8")
    with pytest.raises(InputError) as err:
        _load(data)
    assert any("is not a number" in str(p) for p in err.value.problems)


def test_a_touched_input_or_source_text_is_a_new_key(data):
    before = validated.key(data["claims"], data["sources"], data["references"], data["audit"])
    text = data["sources"].parent / "sources" / "darrow-muscle-damage.txt"
    os.utime(text, ns=(1, 1))
    assert validated.key(data["claims"], data["sources"], data["references"], data["audit"]) != before


def test_without_a_cache_folder_nothing_is_stored(data):
    validated.load(data["claims"], data["sources"], data["references"], data["audit"], None)
    assert not data["cache"].exists()


def test_a_corrupt_stored_file_is_validated_again(data):
    _load(data)
    (stored,) = data["cache"].glob("*.pickle")
    stored.write_bytes(b"not a pickle")
    assert len(_load(data).claims) == len(validate.load_dataset(data["claims"], data["sources"],
                                                                  data["references"], data["audit"]).claims)


def test_only_the_newest_are_kept(data, monkeypatch):
    for i in range(validated.KEEP + 2):
        os.utime(data["claims"], ns=(10**18 + i, 10**18 + i))
        _load(data)
    assert len(list(data["cache"].glob("*.pickle"))) == validated.KEEP


def test_the_cli_stores_for_the_notebooks(data, capsys):
    args = [str(data["claims"]), "--sources", str(data["sources"]), "--references", str(data["references"]),
            "--audit", str(data["audit"]), "--cache", str(data["cache"])]
    assert validate.main(args) == 0
    assert len(list(data["cache"].glob("*.pickle"))) == 1


def test_an_edit_that_keeps_size_and_mtime_is_still_a_new_key(data):
    before = validated.key(data["claims"], data["sources"], data["references"], data["audit"])
    st = data["claims"].stat()
    text = data["claims"].read_text(encoding="utf-8")
    data["claims"].write_text(text.replace(",25,", ",52,", 1), encoding="utf-8")  # same size
    os.utime(data["claims"], ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime
    assert data["claims"].stat().st_size == st.st_size
    assert validated.key(data["claims"], data["sources"], data["references"], data["audit"]) != before


def test_the_cli_always_validates_even_with_a_stored_copy(data, capsys, monkeypatch):
    args = [str(data["claims"]), "--sources", str(data["sources"]), "--references", str(data["references"]),
            "--audit", str(data["audit"]), "--cache", str(data["cache"])]
    assert validate.main(args) == 0
    calls = []
    real = validate.load_dataset
    monkeypatch.setattr(validate, "load_dataset", lambda *a: calls.append(a) or real(*a))
    assert validate.main(args) == 0
    assert len(calls) == 1


def test_a_cache_that_cannot_be_written_is_a_warning(data, capsys):
    blocked = data["cache"]
    blocked.write_text("a file where the folder should be")
    args = [str(data["claims"]), "--sources", str(data["sources"]), "--references", str(data["references"]),
            "--audit", str(data["audit"]), "--cache", str(blocked)]
    assert validate.main(args) == 0
    err = capsys.readouterr().err
    assert f"warning: could not store the validated tables in {blocked}" in err
