"""Text and rich tables for the headless commands' output (no textual): :mod:`.prompt`, :mod:`.batch`,
:mod:`.status`, and :mod:`.plan` (also drawn by the TUI's plan screen)."""
