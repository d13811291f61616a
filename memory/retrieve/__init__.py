"""Retrieval: every ranking decision in one room.

search       HybridSearch: dense + lexical, fused, thread context, link expansion
fusion       reciprocal-rank fusion of the dense and lexical lists
lexical      LexicalIndex: BM25 over a scope's notes
indexed      index_text / embedded_text: what a note is BM25'd / embedded under
"""

__all__: list[str] = []
