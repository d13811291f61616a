"""add, search, show, list, update, delete through the real command group."""

from __future__ import annotations

from pathlib import Path

from cli_support import Run, output_json


def _ids(run: Run, store: Path, *args: str) -> dict[str, str]:
    """Content -> id of the notes ``list`` shows."""
    listed = output_json(run("list", "--path", store, "--json", *args))
    return {note["content"]: note["id"] for note in listed}


def test_add_returns_a_described_note_and_search_finds_it(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "s"
    added = output_json(
        run(
            "add",
            "Ann: I drink oat milk coffee",
            "--path",
            path,
            "--user",
            "u1",
            "--json",
            "--metadata",
            '{"source": "chat"}',
        )
    )
    assert added["user_id"] == "u1" and added["metadata"] == {"source": "chat"}
    assert added["keywords"]
    hits = output_json(run("search", "oat milk", "--path", path, "--user", "u1", "--json"))
    assert [h["id"] for h in hits] == [added["id"]]
    assert output_json(run("search", "oat milk", "--path", path, "--user", "u2", "--json")) == []
    table = run("search", "oat milk", "--path", path, "--user", "u1")
    assert table.exit_code == 0 and added["id"] in table.stdout


def test_list_filters_by_scope_kind_tag_and_since(run: Run, store: Path) -> None:
    assert len(output_json(run("list", "--path", store, "--json"))) == 5
    ann = output_json(run("list", "--path", store, "--user", "ann", "--json"))
    assert len(ann) == 4 and all(n["content"].split(":")[0] in ("Ann", "Bob") for n in ann)
    assert output_json(run("list", "--path", store, "--kind", "procedure", "--json")) == []
    tag = ann[0]["tags"][0]
    tagged = output_json(run("list", "--path", store, "--tag", tag, "--json"))
    assert tagged and all(tag in n["tags"] for n in tagged)
    assert output_json(run("list", "--path", store, "--since", "2999-01-01", "--json")) == []
    assert len(output_json(run("list", "--path", store, "--since", "2000-01-01", "--json"))) == 5
    assert len(output_json(run("list", "--path", store, "--limit", "2", "--json"))) == 2
    bad = run("list", "--path", store, "--since", "not a date")
    assert bad.exit_code == 1 and "--since" in bad.stderr


def test_show_gives_links_thread_and_history(run: Run, store: Path) -> None:
    ids = _ids(run, store, "--user", "ann")
    second = ids["Bob: A greyhound! Do you take Biscuit running?"]
    shown = output_json(run("show", second, "--path", store, "--json"))
    assert shown["note"]["id"] == second
    assert len(shown["thread"]) >= 3 and second in shown["thread"]
    assert shown["thread"][0] == ids["Ann: I adopted a greyhound called Biscuit from the shelter."]
    assert {link["id"] for link in shown["links"]} >= {shown["thread"][0]}
    assert shown["history"][0]["action"] == "create"
    text = run("show", second, "--path", store)
    assert text.exit_code == 0
    assert "links" in text.stdout and "thread" in text.stdout and "history" in text.stdout


def test_update_records_history_and_delete_removes(run: Run, store: Path) -> None:
    ids = _ids(run, store, "--user", "bob")
    note_id = ids["Bob: my sister visits in June"]
    updated = output_json(
        run("update", note_id, "--path", store, "--tags", "family, plans", "--pin", "--json")
    )
    assert updated["tags"] == ["family", "plans"] and updated["pinned"] is True
    history = output_json(run("show", note_id, "--path", store, "--json"))["history"]
    assert [e["action"] for e in history][-1] == "update"
    assert run("update", note_id, "--path", store).exit_code == 1  # nothing to change
    deleted = run("delete", note_id, "--path", store)
    assert deleted.exit_code == 0 and note_id in deleted.stdout
    gone = output_json(run("show", note_id, "--path", store, "--json"))
    assert gone["deleted"] is True and gone["content"] == "Bob: my sister visits in June"
    assert [e["action"] for e in gone["history"]][-2:] == ["update", "delete"]
    assert "deleted" in run("show", note_id, "--path", store).stdout
    assert note_id not in {n["id"] for n in output_json(run("list", "--path", store, "--json"))}
    again = run("delete", note_id, "--path", store)
    assert again.exit_code == 1 and "no note with id" in again.stderr


def test_scope_options_keep_other_users_notes_out_of_reach(run: Run, store: Path) -> None:
    bob_note = _ids(run, store, "--user", "bob")["Bob: my sister visits in June"]
    for command in ("show", "delete"):
        result = run(command, bob_note, "--path", store, "--user", "ann")
        assert result.exit_code == 1 and "no note with id" in result.stderr
    assert run("show", bob_note, "--path", store, "--user", "bob").exit_code == 0
