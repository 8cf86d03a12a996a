"""What makes two sandbox configs "the same" for attaching: what they make the sandbox serve, not where
the file is nor the console's own settings."""
from __future__ import annotations

from importlib import resources

from tierconsole.core.config.loader import load_yaml
from tierconsole.sandbox.config import config_digest, config_document


def _builtin_text() -> str:
    return resources.files("tierconsole.profiles").joinpath("sandbox.yaml").read_text()


def test_a_copy_of_the_builtin_file_elsewhere_has_its_digest(tmp_path):
    copy = tmp_path / "profiles" / "sandbox.yaml"
    copy.parent.mkdir()
    copy.write_text(_builtin_text())
    assert config_digest(config_document(copy)) == config_digest(config_document(None))


def test_console_settings_and_the_name_do_not_count_but_what_the_sandbox_serves_does(tmp_path):
    text = _builtin_text()
    base = config_digest(load_yaml("a.yaml", text))
    renamed = text.replace("name: sandbox", "name: drill").replace("alert_threshold: 0.8", "alert_threshold: 0.5")
    assert config_digest(load_yaml("b.yaml", renamed)) == base
    other_account = text.replace('account_id: "123456789012"', 'account_id: "210987654321"')
    assert other_account != text and config_digest(load_yaml("c.yaml", other_account)) != base
    other_region = text.replace("region: us-east-1", "region: eu-west-1", 1)
    assert other_region != text and config_digest(load_yaml("d.yaml", other_region)) != base
