"""Retrieval: every ranking decision in one room.

search       HybridSearch: dense + lexical, fused, thread context, link expansion
fusion       reciprocal-rank fusion of the dense and lexical lists
lexical      LexicalIndex: BM25 over a scope's notes
indexed      index_text: the text a note is indexed (embedded and BM25'd) under
"""

__all__: list[str] = []
