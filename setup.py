"""Which packages setuptools installs (the metadata is in pyproject.toml).

Every package under ``genjax/`` is found, so a new family or modality folder needs no edit
here; the named configs of ``experiments/configs/`` install as ``genjax.configs`` (no
top-level ``experiments`` package in site-packages).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["genjax", "genjax.*"]), "genjax.configs"],
    package_dir={"genjax.configs": "experiments/configs"},
    package_data={"genjax": ["py.typed"]},  # PEP 561: the package ships its type hints
)
