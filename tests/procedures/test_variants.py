"""Per-variant provenance of merged procedures and retiring a failing lead (pure)."""

from __future__ import annotations

from memory.procedures import lead_and_variants, retire_lead, with_variant


def test_runs_join_the_step_list_they_used() -> None:
    base = {"steps": ["a", "b"]}
    same = with_variant(base, ["t1"], ["a", "b"], ["t2"])
    assert same["lead_sources"] == ["t1", "t2"] and same["variants"] == []
    other = with_variant(same, ["t1", "t2"], ["a", "c"], ["t3"])
    again = with_variant(other, ["t1", "t2", "t3"], ["a", "c"], ["t4"])
    assert again["variants"] == [["a", "c"]] and again["variant_sources"] == [["t3", "t4"]]
    assert lead_and_variants(again, []) == (["t1", "t2"], [(["a", "c"], ["t3", "t4"])])
    assert base == {"steps": ["a", "b"]}  # inputs untouched


def test_metadata_without_provenance_reads_the_note_sources_as_the_lead() -> None:
    old = {"steps": ["a"], "variants": [["b"]]}
    assert lead_and_variants(old, ["t1", "t2"]) == (["t1", "t2"], [(["b"], [])])
    # A variant with no known runs cannot take over: the note is judged whole.
    assert retire_lead(old, ["t1", "t2"]) is None
    assert retire_lead({"steps": ["a"]}, ["t1"]) is None


def test_retiring_promotes_the_variant_most_runs_used() -> None:
    metadata = with_variant({"steps": ["bad"]}, ["t1"], ["x"], ["t2"])
    metadata = with_variant(metadata, ["t1", "t2"], ["y"], ["t3"])
    metadata = with_variant(metadata, ["t1", "t2", "t3"], ["y"], ["t4"])
    promoted = retire_lead(metadata, ["t1", "t2", "t3", "t4"], reason="1/6 below 0.5")
    assert promoted is not None
    assert promoted["steps"] == ["y"] and promoted["lead_sources"] == ["t3", "t4"]
    assert promoted["variants"] == [["x"]] and promoted["variant_sources"] == [["t2"]]
    assert promoted["retired"] == [{"steps": ["bad"], "sources": ["t1"], "reason": "1/6 below 0.5"}]
    # Ties go to the earliest variant.
    tied = with_variant(
        with_variant({"steps": ["s"]}, ["a"], ["p"], ["b"]), ["a", "b"], ["q"], ["c"]
    )
    assert retire_lead(tied, ["a", "b", "c"])["steps"] == ["p"]  # type: ignore[index]
