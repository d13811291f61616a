"""Test doubles shared by several test folders (and by the scripted-model benchmarks).

The tests import these as ``doubles.<module>``: ``tests/conftest.py`` has no package
beside it, so pytest puts ``tests/`` on ``sys.path`` (its default "prepend" import mode)
before any test module is imported. The benchmarks (``benchmarks/scripted_llm.py``)
put ``tests/`` on ``sys.path`` the same way and import the same ``doubles.<module>``,
so a double is one module whichever side loads it first.
"""
