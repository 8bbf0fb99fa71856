"""Typed records of the plain data that crosses gradstep's seams (no torch, no Qt).

- ``errors``: ``ErrorRecord``, the one shape of every failure, and ``error_record``.
- ``graph``: the trace JSON (``TraceJSON``, ``TraceNode``, ``NODE_FIELDS``) and graph files.
- ``timeline``: backward passes (``PassRecord``, ``Step``) and the snippet's own calls.
- ``kernel``: each request's arguments and reply, and ``failure_reply``.
- ``findings``: ``Finding`` and ``gradstep check --json``.
- ``validate``: ``problems(data, Record)``; ``markdown``: writes docs/schema.md.

The records are TypedDicts: the data stays plain dicts (JSON as it is sent), the types
say what is in them, and tests/test_schema.py holds real replies to them.
"""
