"""Validate once per build: the checked tables are kept by content, read back while the data are
unchanged, checked again after any change, and never kept for data that fail."""

from __future__ import annotations

import shutil

import pytest

from fbss_evidence import config, dataset
from fbss_evidence.problems import InputError

pytestmark = pytest.mark.whole_data  # each test validates a copy of data/


@pytest.fixture
def copy(tmp_path):
    shutil.copytree(config.DATA, tmp_path / "data", ignore=shutil.ignore_patterns("extraction"))
    return dataset.DataPaths.in_folder(tmp_path / "data"), tmp_path / "validated"


def test_unchanged_data_are_read_back_and_changed_data_checked_again(copy, monkeypatch):
    paths, cache = copy
    calls = []
    real = dataset.load_dataset
    monkeypatch.setattr(dataset, "load_dataset", lambda p: calls.append(p) or real(p))
    first = dataset.load_validated(paths, cache)
    second = dataset.load_validated(paths, cache)
    assert len(calls) == 1 and len(list(cache.glob("*.pickle"))) == 1
    assert second.claims.equals(first.claims)
    claims = paths.claims.read_text(encoding="utf-8")
    paths.claims.write_text(claims.replace("nearly one in four", "nearly one in four", 1) + "", encoding="utf-8")
    dataset.load_validated(paths, cache)
    assert len(calls) == 1  # the same bytes: the same key
    paths.claims.write_text(claims.rstrip("\n") + "\n\n", encoding="utf-8")  # a blank line: other bytes
    dataset.load_validated(paths, cache)
    assert len(calls) == 2 and len(list(cache.glob("*.pickle"))) == 1


def test_data_that_fail_are_not_kept(copy):
    paths, cache = copy
    text = paths.claims.read_text(encoding="utf-8").replace(",cited_study,", ",cited_studdy,", 1)
    paths.claims.write_text(text, encoding="utf-8")
    with pytest.raises(InputError):
        dataset.load_validated(paths, cache)
    assert not list(cache.glob("*.pickle")) if cache.exists() else True


def test_a_damaged_entry_is_checked_again(copy):
    paths, cache = copy
    dataset.load_validated(paths, cache)
    entry = next(cache.glob("*.pickle"))
    entry.write_bytes(b"not a pickle")
    assert dataset.load_validated(paths, cache).claims is not None
    assert entry.read_bytes() != b"not a pickle"
