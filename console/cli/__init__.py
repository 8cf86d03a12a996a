"""The command line (``tierconsole``): :mod:`.main` parses and dispatches; one module per command group
(:mod:`.prompt`, :mod:`.batch`, :mod:`.status`, :mod:`.incident`, :mod:`.plan`, :mod:`.record`, :mod:`.replay`,
:mod:`.sandbox`, :mod:`.profiles`); :mod:`.options` holds the options every command shares, defined once.
``python -m tierconsole.cli`` runs it as the ``tierconsole`` command does."""
from ..core import dataclass_cache

# First, before any module of the command line or below creates its dataclasses: their compiled methods come
# from the cache of the last launch (~15 ms less before the console's first frame).
dataclass_cache.install()
