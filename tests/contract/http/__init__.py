"""The HTTP contract suite: one black-box suite, run in process, against a served process, or
against any deployment (see ``conftest.py`` and the README)."""
