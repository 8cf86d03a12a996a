"""A configuration error says what a value is in the words of its YAML file, never a Python class name
(newcomer trial 2, #12: ``got _LinedList``)."""
from __future__ import annotations

import re

import pytest

from tierconsole.core.config.loader import load_yaml
from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.domain.profile import parse_profile


@pytest.mark.parametrize("text, word", [("- a\n- b\n", "a list"), ("just text\n", "a string"), ("42\n", "a number"),
                                        ("name: p\ntimeouts: .inf\n", "a number"),
                                        ("name: p\ntimeouts: [1, 2]\n", "a list")])
def test_a_profile_of_the_wrong_kind_is_named_in_yaml_words(tmp_path, text, word):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        parse_profile(load_yaml(path), default_name="bad", source=str(path))
    message = str(e.value)
    assert f"got {word}" in message, message
    assert not re.search(r"_Lined|\bfloat\b|\bint\b|\bstr\b|\blist\b(?! of)", message.replace(word, "")), message
