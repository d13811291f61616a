"""Procedural and concept memory for any agent: pure distillation, keys, recall, utility.

    text         Hints, words, segments, ...         domain-free text handling; user hints
    generalise   TaskKey, task_key, ...              task + actions -> *when to use* key
    steps        step_lines, fold, ...               every action generalised, repeats folded
    draft        DistilledNote                       what distillation returns
    distill      distill_trajectory, ...             success -> procedure, failure -> avoid note
    merging      same_kind, merged_procedure_fields  trajectories of one kind -> one procedure
    concepts     extract_concepts, distill_batch     step runs shared by different kinds
    recall       rank_recalled, recall_query, ...    which notes fit a new task or observation
    profile      ScopeProfile, build_profile         what a scope's notes teach about words
    statement    weigh_parts                         which sentence of an observation is the task
    boilerplate  RecurringParts                      parts recurring in a scope's observations
    utility      prune_decisions, near_duplicates,   feedback-driven pruning and merging
                 dedup_signature, merge_notes,
                 utility_score
    fusion       RankerEvidence, with_check          which ranking recall trusts, from the
                                                     scope's own checks
    variants     lead_and_variants, retire_lead      which runs each step list of a merged
                                                     procedure came from; retiring a lead

No domain is built in: arguments are found by aligning the task with its actions,
and what words mean in a scope is learned from its stored notes. Nothing here
touches a store: every function takes values and returns values, so the facade
decides what to write and records the history. How the facade uses it:

    learn(t)    drafts = distill_trajectory(t, known=stored procedures, hints=...);
                a procedure draft of a stored kind (same_kind) is merged into it
                (merged_procedure_fields), others stored, indexed on when_to_use;
                then extract_concepts(stored procedures) upserts concepts by name
                and links each procedure to the concepts in ``extraction.uses``
    recall(q)   rank_recalled(q, stored learned notes, dense=ids of the notes whose
                learned task embeds nearest recall_query(q).passage)
    prune()     for d in prune_decisions(notes): retire_lead(procedure) when a variant
                can take over, else delete d.note_id, history reason d.reason;
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
    when_to_use,
)
from memory.procedures.draft import AVOID_TAG, DistilledNote, distilled_metadata
from memory.procedures.generalise import TaskKey, align_arguments, task_key, task_statement
from memory.procedures.merging import (
    MERGE_THRESHOLD,
    kind_similarity,
    merge_drafts,
    merged_procedure_fields,
    same_kind,
)
from memory.procedures.recall import (
    RecallQuery,
    ScopeProfile,
    build_profile,
    rank_recalled,
    recall_query,
)
from memory.procedures.steps import CHOICE, action_template, fold, step_lines
from memory.procedures.text import NO_HINTS, Hints, instance_words, segments, words
from memory.procedures.utility import (
    PruneDecision,
    dedup_signature,
    merge_notes,
    near_duplicates,
    prune_decisions,
    utility_score,
)
from memory.procedures.variants import (
    lead_and_variants,
    retire_lead,
    retired_lead,
    with_variant,
)

__all__ = [
    "AVOID_TAG",
    "CHOICE",
    "MERGE_THRESHOLD",
    "NO_HINTS",
    "ConceptExtraction",
    "DistilledNote",
    "FailureCause",
    "Hints",
    "PruneDecision",
    "RecallQuery",
    "ScopeProfile",
    "TaskKey",
    "action_template",
    "align_arguments",
    "build_profile",
    "coerce_trajectory",
    "dedup_signature",
    "diagnose_failure",
    "distill_batch",
    "distill_trajectory",
    "distilled_metadata",
    "extract_concepts",
    "fold",
    "instance_words",
    "kind_similarity",
    "merge_drafts",
    "merge_notes",
    "merged_procedure_fields",
    "lead_and_variants",
    "near_duplicates",
    "procedure_key",
    "prune_decisions",
    "rank_recalled",
    "recall_query",
    "retire_lead",
    "retired_lead",
    "same_kind",
    "segments",
    "step_lines",
    "task_key",
    "task_statement",
    "utility_score",
    "with_variant",
    "when_to_use",
    "words",
]
