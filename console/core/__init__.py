"""The console's core: no textual, rich or argparse. Domain logic, configuration, AWS clients and collectors,
the live source, the operator session and the operator actions (:mod:`.ops`), shared by the TUI and the CLI."""
