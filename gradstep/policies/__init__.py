"""Rules that every layer shares, one module each: how printed output is capped
(``output_cap``), how non-finite numbers are written in strict JSON (``strict_json``),
which messages mean the process ran out of memory (``memory_errors``). No torch, no Qt."""
