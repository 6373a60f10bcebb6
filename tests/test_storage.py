"""Storage: folders, atomic store, recover with version, missing and damaged files."""

from __future__ import annotations

import os

import pytest

from ansar.create import descriptors as d
from ansar.create import storage
from ansar.create.codec import CodecError
from ansar.create.storage import File, FileNotFound, Folder, set_folders

WORD_MAP = d.MapOf(d.String, d.String)


def test_file_is_named_json_in_its_folder(tmp_path):
    folder = Folder(str(tmp_path))
    assert folder.file("word-map", WORD_MAP).path == os.path.join(str(tmp_path), "word-map.json")
    assert folder.file("notes.txt", d.Unicode).path == os.path.join(str(tmp_path), "notes.txt")


def test_store_then_recover(tmp_path):
    f = Folder(str(tmp_path / "model" / "server-0")).file("word-map", WORD_MAP)
    f.store({b"explain": b"define"})
    assert f.recover() == ({b"explain": b"define"}, None)
    f.store({b"fly": b"droll"}, version=3)
    assert f.recover() == ({b"fly": b"droll"}, 3)


def test_recover_reads_the_tour_file(tmp_path):
    (tmp_path / "word-map.json").write_bytes(b'{ "value": [ ["explain", "define"], ["fly", "droll"] ] }')
    value, version = Folder(str(tmp_path)).file("word-map", WORD_MAP).recover()
    assert value == {b"explain": b"define", b"fly": b"droll"} and version is None


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFound, match="word-map.json: not found"):
        Folder(str(tmp_path)).file("word-map", WORD_MAP).recover()


def test_damaged_file_raises_codec_error_naming_it(tmp_path):
    path = tmp_path / "count.json"
    path.write_bytes(b'{"value": "many"}')
    with pytest.raises(CodecError, match=r"count\.json: Expected int, got str$"):
        File(str(path), d.Integer8).recover()
    path.write_bytes(b'{"value": ')
    with pytest.raises(CodecError, match=r"count\.json: "):
        File(str(path), d.Integer8).recover()


def test_store_leaves_no_temporary_file_and_keeps_old_on_failure(tmp_path):
    f = Folder(str(tmp_path)).file("count", d.Integer8)
    f.store(1)
    with pytest.raises(CodecError):
        f.store("not a number")
    assert f.recover() == (1, None)
    assert sorted(os.listdir(tmp_path)) == ["count.json"]


def test_store_replaces_by_rename(tmp_path, monkeypatch):
    f = Folder(str(tmp_path)).file("count", d.Integer8)
    f.store(1)
    calls = []
    real = os.replace
    monkeypatch.setattr(storage.os, "replace", lambda a, b: (calls.append((a, b)), real(a, b)))
    f.store(2)
    assert len(calls) == 1 and calls[0][1] == f.path and os.path.dirname(calls[0][0]) == str(tmp_path)
    assert f.recover() == (2, None)


def test_sub_folders_and_listing(tmp_path):
    top = Folder(str(tmp_path))
    sub = top.folder("a")
    assert os.path.isdir(sub.path)
    sub.file("x", d.Integer8).store(1)
    sub.file("y", d.Integer8).store(2)
    assert list(sub.matching()) == ["x.json", "y.json"]
    assert [f.recover()[0] for f in sub.each(d.Integer8)] == [1, 2]
    assert list(top.matching()) == []
    assert list(Folder(str(tmp_path / "none")).matching()) == []


def test_folders_are_none_until_set(tmp_path):
    set_folders(None, None, None)
    assert storage.model_folder() is None and storage.resource_folder() is None
    assert storage.tmp_folder() is None
    set_folders(str(tmp_path / "m"), str(tmp_path / "r"), str(tmp_path / "t"))
    try:
        assert storage.model_folder() == Folder(str(tmp_path / "m"))
        assert storage.resource_folder().path == str(tmp_path / "r")
        assert storage.tmp_folder().path == str(tmp_path / "t")
    finally:
        set_folders(None, None, None)
