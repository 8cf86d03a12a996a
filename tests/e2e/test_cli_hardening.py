"""Files holding account data are private, bad paths and addresses are usage errors, and output into
a pipe that closed early (``| head -1``) ends quietly."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierconsole.cli.main import main
from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.domain.profile import endpoint_problem, parse_profile
from tierconsole.recording.recorder import Recorder
from tests.conftest import NOVA
from tests.e2e.test_headless import env  # noqa: F401 - fixture: an isolated XDG environment
from tests.recording_corpus import FRAMES, write_good

CLI = [sys.executable, "-m", "tierconsole.cli"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the usual umask: files are created readable by everyone unless said otherwise
    yield
    os.umask(old)


# --- 0600 ---------------------------------------------------------------------------------------
def test_a_recording_and_its_journal_files_are_created_private(tmp_path, umask_022):
    path = tmp_path / "r.tcrec"
    rec = Recorder(path, "prod-ops", commit_seconds=0)
    try:
        for data in FRAMES[:5]:
            rec.write(data)
        rec.flush()
        sidecars = [Path(f"{path}{s}") for s in ("-wal", "-shm") if Path(f"{path}{s}").exists()]
        assert sidecars, "recording runs in WAL mode"
        assert {p.name: mode(p) for p in [path, *sidecars]} == {p.name: 0o600 for p in [path, *sidecars]}
    finally:
        rec.close()
    assert mode(path) == 0o600


def test_appending_to_a_recording_others_can_read_makes_it_private(tmp_path, umask_022):
    path = write_good(tmp_path / "old.tcrec", n=3)
    path.chmod(0o644)  # as an older tierconsole left it
    with Recorder(path, "prod-ops") as rec:
        rec.write(FRAMES[3])
    assert mode(path) == 0o600


def test_the_record_command_writes_a_private_recording(tmp_path, env):
    path = tmp_path / "s.tcrec"
    out = subprocess.run([*CLI, "record", str(path), "--duration", "1s", "-q"], capture_output=True, text=True,
                         timeout=90, env=env, cwd=tmp_path, preexec_fn=lambda: os.umask(0o022))
    assert out.returncode == 0, out.stderr
    assert mode(path) == 0o600


def test_incident_export_is_private_and_leaves_no_temporary_file(sandbox, tmp_path, env):
    out_file = tmp_path / "incident.md"
    out = subprocess.run([*CLI, "incident", "export", "--since", "2m", "--model", NOVA, "-o", str(out_file),
                          "--endpoint-url", sandbox.endpoint], capture_output=True, text=True, timeout=90, env=env,
                         cwd=tmp_path, preexec_fn=lambda: os.umask(0o022))
    assert out.returncode == 0, out.stderr
    assert mode(out_file) == 0o600 and out_file.read_text().startswith("#")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("incident.md")] == ["incident.md"]


async def test_the_incident_view_export_is_private(tmp_path, umask_022):
    from textual.app import App

    from tests.functional.test_incident_view import M, incident
    from tierconsole.tui.screens.incident import IncidentScreen

    class Host(App):
        CSS_PATH = ["../../console/tui/styles/incident.tcss"]

    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(IncidentScreen(incident(), highlight=M + 5, export_dir=tmp_path / "exports"))
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
    [written] = (tmp_path / "exports").glob("incident-*.md")
    assert mode(written) == 0o600 and "Diagnosis" in written.read_text()
    assert mode(tmp_path / "exports") == 0o700  # the folder it made for them: private too


# --- bad paths ------------------------------------------------------------------------------------
@pytest.mark.parametrize("where, needle", [
    ("missing/dir/x.md", "no such directory"),
    (".", "is a directory"),
    ("file.txt/x.md", "is not a directory"),
])
def test_incident_export_to_a_bad_path_is_a_usage_error_before_any_collection(tmp_path, env, where, needle):
    (tmp_path / "file.txt").write_text("x")
    started = time.monotonic()
    out = subprocess.run([*CLI, "incident", "export", "-o", str(tmp_path / where)], capture_output=True, text=True,
                         timeout=90, env=env, cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert f"argument --output: {tmp_path / where}: {needle}" in out.stderr, out.stderr
    assert time.monotonic() - started < 20  # refused at once: no sandbox started, nothing collected


def test_record_into_a_missing_directory_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "missing" / "r.tcrec"
    assert main(["record", str(path), "--duration", "1s", "--profile", "sandbox"]) == 2
    assert f"{path}: no such directory" in capsys.readouterr().err
    assert not path.parent.exists()


# --- bad addresses --------------------------------------------------------------------------------
BAD_URLS = ["http://[::1", "http://127.0.0.1:99999", "ftp://x", "http://", "http://exa mple.com", "localhost:4599",
            "http://a_b.example", "http://x\x07y", "https://:443", "http://[::g]:80"]


@pytest.mark.parametrize("command", [["prompt", "hi", "--model", NOVA], ["status"], ["batch", "list"],
                                     ["incident", "export"], ["record", "x.tcrec", "--duration", "1s"]])
@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_endpoint_url_is_a_usage_error_for_every_command(tmp_path, monkeypatch, capsys, command, url):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:  # refused by the parser, before anything runs
        main([*command, "--endpoint-url", url])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument --endpoint-url: " in err and "Traceback" not in err, err
    assert not (tmp_path / "x.tcrec").exists()


def test_a_bad_endpoint_url_in_a_profile_names_the_field():
    with pytest.raises(ConfigError, match=r"endpoint_url: is not a valid URL \(Invalid IPv6 URL\)"):
        parse_profile({"endpoint_url": "http://[::1"}, default_name="p")


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.text(max_size=30),
    st.builds(lambda s, h, p: f"{s}://{h}{p}", st.sampled_from(["http", "https", "ftp", "HTTP"]),
              st.one_of(st.text(max_size=12), st.sampled_from(["localhost", "127.0.0.1", "[::1]", "[::1", "a..b",
                                                              "-a.com", "a-.com", "xn--bcher-kva.example"])),
              st.one_of(st.just(""), st.integers(-5, 70000).map(lambda n: f":{n}"), st.text(max_size=6)))))
def test_an_endpoint_url_that_is_accepted_is_one_every_sdk_call_can_use(url):
    """The class: whatever the text, either it is refused with a reason, or the SDK accepts it as an
    endpoint and the URL parses with its port (what the calls later do)."""
    import botocore.utils
    from urllib.parse import urlsplit

    problem = endpoint_problem(url)
    if problem is None:
        assert botocore.utils.is_valid_endpoint_url(url) or botocore.utils.is_valid_ipv6_endpoint_url(url), url
        urlsplit(url).port
    else:
        assert isinstance(problem, str) and problem


def test_good_endpoint_urls_are_accepted():
    for url in ("http://127.0.0.1:4599", "http://localhost:4599/", "https://bedrock.us-east-1.amazonaws.com",
                "http://[::1]:4599", "http://sandbox.internal."):
        assert endpoint_problem(url) is None, url


# --- output into a closed pipe -------------------------------------------------------------------------
def _into_a_closed_pipe(argv: list[str], env: dict, cwd: Path) -> tuple[int, str]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    proc.stdout.close()  # as `| head -1` does once it has its line (here: before the first)
    try:
        _, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err.decode("utf-8", "replace")


@pytest.mark.parametrize("command", [
    ["profiles"], ["profiles", "--json"], ["batch", "list"], ["batch", "list", "--json"], ["status"],
    ["status", "--json"], ["incident", "export", "--since", "2m"], ["prompt", "hi", "--model", NOVA, "--json"],
    ["replay", "REC", "--info"], ["--help"],
])
def test_output_into_a_pipe_closed_early_ends_quietly(sandbox, tmp_path, env, command):
    rec = write_good(tmp_path / "r.tcrec", n=3)
    argv = [*CLI, *[str(rec) if a == "REC" else a for a in command]]
    if command[0] in ("batch", "status", "incident", "prompt"):
        argv += ["--endpoint-url", sandbox.endpoint]
    code, err = _into_a_closed_pipe(argv, env, tmp_path)
    assert "Traceback" not in err and "Exception ignored" not in err and "BrokenPipe" not in err, err
    # as a program killed by SIGPIPE, and nothing said (argparse's own --help ignores the closed pipe: 0)
    assert code == (0 if command == ["--help"] else 141) and err == "", (code, err)
