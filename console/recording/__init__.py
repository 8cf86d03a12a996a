"""Record and replay the dashboard's data: the file format (:mod:`.format`), its codec (:mod:`.encode`,
:mod:`.decode`), the SQLite store (:mod:`.store`), writing (:mod:`.recorder`) and reading (:mod:`.reader`),
recording a live source (:mod:`.capture`) and the replay source (:mod:`.replay`). No UI: the replay's
screens are in :mod:`tierconsole.tui.replay`."""
