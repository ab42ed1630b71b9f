"""Named configs, installed as ``genjax.configs``: one ``<name>.py`` with ``get_config()`` each.

This folder is mapped to ``genjax.configs`` by pyproject.toml (package-dir); import the recipes
as ``genjax.configs.<name>``. Files starting with ``_`` are helpers, not configs.
"""
