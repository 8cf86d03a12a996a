"""Defaults of a recording that the command line names before any recording module is needed."""

#: ``--record-max-size`` / ``record --max-size`` when not given: the file is kept under this by dropping the
#: oldest minutes (about a week of a busy dashboard at 1 s).
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
