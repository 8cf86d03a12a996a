"""Prompt lab: send a test prompt at one tier, at every tier side by side, or escalating.

Everything goes through the shared core (:func:`tierconsole.core.ops.prompt.send_prompt`) with the
session's long-lived bedrock-runtime client, in a cancellable worker. Each tier's row fills in as
that tier finishes; streamed text appears as it arrives, one area per tier. ``esc`` cancels a prompt
in flight; ``f2`` goes back to the dashboard and lets it run. Every prompt is audited (length and
hash, never the text) and appended to the history file, which ``↑``/``↓`` and ``ctrl+r`` recall.

The parts: :mod:`.form` (the screen), :mod:`.results`, :mod:`.history`, :mod:`.widgets`, :mod:`.tiers`.
"""
from .form import PromptLabScreen
from .history import HistoryPicker
from .results import sample_run
from .tiers import ALL_TIERS_ORDER, TIER_OPTIONS, choice_label, first_tiers, wire_tier
from .widgets import PromptArea, ResultsTable, TickBox, TierOutput

__all__ = ["ALL_TIERS_ORDER", "TIER_OPTIONS", "HistoryPicker", "PromptArea", "PromptLabScreen", "ResultsTable", "TickBox",
           "TierOutput", "choice_label", "first_tiers", "sample_run", "wire_tier"]
