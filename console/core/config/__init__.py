"""Configuration: the one safe YAML loader (:mod:`.loader`), profile discovery and loading (:mod:`.profiles`), XDG paths (:mod:`.paths`)."""
