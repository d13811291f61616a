"""Test doubles shared by several test folders (and by the scripted-model benchmarks).

The tests import these as ``doubles.<module>``: ``tests/conftest.py`` has no package
beside it, so pytest puts ``tests/`` on ``sys.path`` (its default "prepend" import mode)
before any test module is imported. The benchmarks put the repository root on
``sys.path`` and import the same files as ``tests.doubles.<module>``.
"""
