"""The Textual console: :mod:`.run` (``run_tui``, the entry from the command line), :mod:`.app` (the App),
:mod:`.messages`, :mod:`.screens`, :mod:`.widgets`, :mod:`.theming` and ``styles/*.tcss``; :mod:`.replay` is
the console on a recording. Widgets render what they are given; they never fetch."""
