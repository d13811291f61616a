"""Which ranking recall leads with: the scope's own recall checks decide."""

from __future__ import annotations

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.model import Note, Step, Trajectory
from memory.procedures import rank_recalled
from memory.procedures.fusion import RECALL_CHECKS, RankerEvidence, ranker_evidence, with_check


def _procedure(note_id: str, key: str, skill: list[str], checks: dict | None = None) -> Note:
    distilled: dict = {"skill": skill, "heads": ["run"], "steps": ["run <arg1>"], "task": key}
    if checks is not None:
        distilled[RECALL_CHECKS] = checks
    return Note(
        id=note_id,
        content=key,
        kind="procedure",
        when_to_use=key,
        metadata={"distilled": distilled},
    )


def test_checks_accumulate_without_touching_the_input() -> None:
    first = with_check({"steps": ["a"]}, lexical=True, dense=False)
    second = with_check(first, lexical=False, dense=True)
    assert second[RECALL_CHECKS] == {"trials": 2, "lexical": 1, "dense": 1}
    assert first[RECALL_CHECKS] == {"trials": 1, "lexical": 1, "dense": 0}
    # Garbage where the counts should be is read as nothing, never raises.
    assert with_check({RECALL_CHECKS: "bad"}, lexical=False, dense=False)[RECALL_CHECKS] == {
        "trials": 1,
        "lexical": 0,
        "dense": 0,
    }


def test_the_better_proven_ranking_leads_and_a_tie_fuses() -> None:
    assert RankerEvidence().mode == "fused"
    assert RankerEvidence(trials=3, lexical=2, dense=2).mode == "fused"
    assert RankerEvidence(trials=3, lexical=3, dense=1).mode == "lexical"
    assert RankerEvidence(trials=3, lexical=0, dense=2).mode == "dense"
    notes = [
        _procedure("a", "deploy the app", ["deploy"], {"trials": 2, "lexical": 2, "dense": 0}),
        _procedure("b", "rotate the keys", ["rotate"], {"trials": 1, "lexical": 0, "dense": 1}),
        Note(content="an episode", metadata={"distilled": {RECALL_CHECKS: {"trials": 9}}}),
    ]
    assert ranker_evidence(notes) == RankerEvidence(trials=3, lexical=2, dense=1)


def test_the_mode_decides_between_the_two_rankings() -> None:
    notes = [
        _procedure("lex", "deploy the service", ["deploy", "servic"]),
        _procedure("den", "ship a release", ["ship", "releas"]),
    ]
    query = "deploy the service now"
    dense = ["den", "lex"]  # the embedding disagrees with the words

    def top(mode: str | None) -> str:
        return rank_recalled(query, notes, dense=dense, mode=mode)[0][0].id  # type: ignore[arg-type]

    assert top("lexical") == "lex"
    assert top("dense") == "den"
    # Fused: each is first in one list, and the tie goes to the lexical ranking.
    assert top("fused") == "lex"
    assert top(None) == "lex"  # no checks recorded yet: fused
    # With no word the lexical ranking knows, the dense one decides.
    ranked = [n.id for n, _ in rank_recalled("zzz qqq", notes, dense=dense, mode="fused")]
    assert ranked[0] == "den"


def _run(run_id: str, task: str, target: str) -> Trajectory:
    return Trajectory(
        id=run_id,
        task=task,
        steps=[
            Step(action=f"run_tests {target}", observation="2 failed"),
            Step(action=f"read_file {target}", observation="def f(): ..."),
            Step(action=f"write_file {target}", observation="written"),
            Step(action=f"run_tests {target}", observation="all passed"),
        ],
        success=True,
    )


def test_a_run_of_a_stored_kind_records_which_ranking_would_have_found_it() -> None:
    with AgenticMemory(embedder=HashingEmbedder()) as mem:
        mem.learn(_run("t1", "fix the failing tests in parser.py", "parser.py"))
        mem.learn(
            Trajectory(
                id="d1",
                task="publish the docs site",
                steps=[Step(action="build_docs site", observation="built")],
                success=True,
            )
        )
        mem.learn(_run("t2", "fix the failing tests in billing.py", "billing.py"))
        (fix,) = [n for n in mem.notes(kinds=["procedure"]) if "t1" in n.sources]
        assert "t2" in fix.sources  # merged into its kind
        checks = fix.metadata["distilled"][RECALL_CHECKS]
        assert checks["trials"] == 1
        assert set(checks) == {"trials", "lexical", "dense"}
        # The evidence persists with the note: a later recall reads it back.
        assert ranker_evidence(mem.notes(kinds=["procedure"])).trials == 1


def test_a_learned_note_is_embedded_by_its_task_and_indexed_by_its_key() -> None:
    from memory.retrieve.indexed import embedded_text, index_text

    note = _procedure("p", "fix the <arg1> tests", ["fix"])
    note = note.model_copy(
        update={"metadata": {"distilled": {"task": "Fix the parser tests, please."}}}
    )
    assert embedded_text(note) == "Fix the parser tests, please."
    assert index_text(note) == "fix the <arg1> tests"  # placeholders stay lexical only
    bare = note.model_copy(update={"metadata": {}})
    assert embedded_text(bare) == "fix the <arg1> tests"
    episode = Note(content="met Ana at the cafe", metadata={"distilled": {"task": "x"}})
    assert embedded_text(episode) == "met Ana at the cafe"


def test_the_parts_of_the_task_line_weigh_fully_other_lines_as_they_match() -> None:
    from memory.procedures.recall import build_profile, recall_query

    notes = [
        _procedure("a", "call the billing service", ["call", "billing", "servic"]),
        _procedure("b", "deploy the app", ["deploy", "app"]),
    ]
    profile = build_profile(notes)
    one_line = recall_query("the invoices look broken; call the billing service", profile)
    assert one_line.passage == "the invoices look broken; call the billing service"
    assert one_line.weights["invoice"] > 0 and one_line.weights["broken"] > 0
    framed = recall_query("Welcome to the shop, see the offers\ncall the billing service", profile)
    assert framed.passage == "call the billing service"
    assert framed.weights.get("offer", 0.0) < framed.weights["billing"]
