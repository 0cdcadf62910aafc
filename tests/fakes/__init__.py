"""Test doubles, one per submodule (e.g. ``tests.fakes.openai_server``, the fake
OpenAI-compatible server, and ``tests.fakes.schema_instance``, its JSON Schema instance builder).

Import from the submodules; this package imports nothing so that
``python -m tests.fakes.openai_server`` runs cleanly.
"""
