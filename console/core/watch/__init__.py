"""``tierconsole watch``: the headless watch loop, its event log, its state file and its alert sinks."""
