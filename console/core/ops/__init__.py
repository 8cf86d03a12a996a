"""Operator actions over one shared core: the TUI and the headless subcommands both call these.

Each takes an :class:`~tierconsole.core.aws.session.AwsContext` and returns plain results. Mutating
actions pass through :class:`~.guard.Guard`, which refuses them in read-only mode and writes the
audit log.
"""
