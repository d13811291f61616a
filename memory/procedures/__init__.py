"""Procedural and concept memory: pure distillation, recall keys and utility decisions.

    lexicon      Lexicon, HOUSEHOLD                  the domain vocabulary (data, swappable)
    generalise   recall_key, parse_task, ...         task/observation -> *when to use* key
    steps        parse_action, abstract_steps, ...   concrete steps -> generalised segments
    draft        DistilledNote                       what distillation returns
    distill      distill_trajectory, ...             success -> procedure, failure -> avoid note
    concepts     extract_concepts, distill_batch     recurring sub-routines, linked to users
    utility      prune_decisions, near_duplicates,   feedback-driven pruning and merging
                 dedup_signature, merge_notes,
                 utility_score

Nothing here touches a store: every function takes values and returns values, so
the facade decides what to write and records the history. How the facade uses it:

    learn(t)    drafts = distill_trajectory(t); store each as draft.to_note(scope...),
                indexed on ``note.when_to_use``; then
                extract_concepts(stored procedures) and upsert concepts by name,
                linking each procedure to the concepts in ``extraction.uses``
    recall(q)   search the when_to_use index with ``recall_key(q)``; order ties by
                ``utility_score``
    prune()     for d in prune_decisions(notes): delete d.note_id, history reason d.reason;
                per kind: groups = near_duplicates({id: dedup_signature(n)}), then
                merge_notes(leader, rest) for each group (delete the rest)
"""

from __future__ import annotations

from memory.procedures.concepts import (
    ConceptExtraction,
    distill_batch,
    extract_concepts,
    procedure_key,
)
from memory.procedures.distill import (
    FailureCause,
    coerce_trajectory,
    diagnose_failure,
    distill_trajectory,
)
from memory.procedures.draft import AVOID_TAG, DistilledNote
from memory.procedures.generalise import (
    OBJECT,
    RECEPTACLE,
    TaskIntent,
    extract_task,
    parse_task,
    recall_key,
    strip_room_description,
)
from memory.procedures.lexicon import HOUSEHOLD, Lexicon
from memory.procedures.steps import Segment, abstract_steps, normalise_steps, parse_action
from memory.procedures.utility import (
    PruneDecision,
    dedup_signature,
    merge_notes,
    near_duplicates,
    prune_decisions,
    utility_score,
)

__all__ = [
    "AVOID_TAG",
    "HOUSEHOLD",
    "OBJECT",
    "RECEPTACLE",
    "ConceptExtraction",
    "DistilledNote",
    "FailureCause",
    "Lexicon",
    "PruneDecision",
    "Segment",
    "TaskIntent",
    "abstract_steps",
    "coerce_trajectory",
    "dedup_signature",
    "diagnose_failure",
    "distill_batch",
    "distill_trajectory",
    "extract_concepts",
    "extract_task",
    "merge_notes",
    "near_duplicates",
    "normalise_steps",
    "parse_action",
    "parse_task",
    "procedure_key",
    "prune_decisions",
    "recall_key",
    "strip_room_description",
    "utility_score",
]
