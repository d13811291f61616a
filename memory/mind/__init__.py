"""The mind: what turns raw text into structure (keywords, tags, context, links, evolution).

    Mind (protocol, ``base``)     decide(draft, candidates) -> Decision
     ├── HeuristicMind            offline, deterministic (``heuristic``)
     └── LLMMind                  any LangChain / LlamaIndex model (``llm``)

``apply`` turns a Decision into note changes; ``tagging``, ``linking`` and ``evolution``
are the heuristic mind's pure parts. Import the concrete minds from their modules.
"""

__all__: list[str] = []
