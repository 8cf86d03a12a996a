"""The command line (``tierconsole``): :mod:`.main` parses and dispatches; one module per command group
(:mod:`.prompt`, :mod:`.batch`, :mod:`.status`, :mod:`.incident`, :mod:`.plan`, :mod:`.record`, :mod:`.replay`,
:mod:`.sandbox`, :mod:`.profiles`); :mod:`.options` holds the options every command shares, defined once.
``python -m tierconsole.cli`` runs it as the ``tierconsole`` command does."""
