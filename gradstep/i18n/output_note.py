"""The note written where a snippet's printed output was cut (``policies.output_cap``), in
the person's language: pass ``worded_note`` as the cap's ``note``."""

from __future__ import annotations

from gradstep.i18n import N_, _

UNITS = {"bytes": N_("bytes"), "characters": N_("characters")}


def worded_note(count: int, unit: str) -> str:
    """Return the note for ``count`` units of output dropped, translated now."""
    words = _(UNITS[unit]) if unit in UNITS else unit
    return "\n" + _("... {count} {unit} of output dropped (output is capped; see README "
                    "'Limits') ...", count=count, unit=words) + "\n"
