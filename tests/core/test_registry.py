"""Plug-in discovery: declarations in a package's modules, duplicates and wrong types refused."""

import sys

import pytest

from genjax.core.registry import Family, PluginError, discover


def _family(name, objectives=()):
    return Family(name=name, build=lambda c, s, x: None, summary="s", modalities=("image",),
                  objectives=objectives, smallest=lambda runs: None)


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A fresh importable package ``plugs_<n>`` under tmp_path; returns (name, folder)."""
    name = f"plugs_{len(sys.modules)}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, root
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[mod]


DECLARE = ("from genjax.core.registry import Family\n"
           "FAMILIES = (Family(name={name!r}, build=print, summary='', modalities=('image',),"
           " objectives=(), smallest=print, aliases={aliases!r}),)\n")


def test_discover_collects_declarations_and_aliases(package):
    name, root = package
    (root / "alpha").mkdir()
    (root / "alpha" / "__init__.py").write_text(DECLARE.format(name="alpha", aliases=("old",)))
    (root / "beta.py").write_text(DECLARE.format(name="beta", aliases=()))
    (root / "_private.py").write_text("raise RuntimeError('never imported')\n")
    (root / "plain.py").write_text("X = 1\n")  # declares nothing
    found = discover(name, "FAMILIES", Family)
    assert sorted(found) == ["alpha", "beta", "old"]
    assert found["old"] is found["alpha"] and found["alpha"].name == "alpha"
    with pytest.raises(TypeError):
        found["gamma"] = found["beta"]  # read-only


def test_two_plugins_with_one_name_are_refused(package):
    name, root = package
    (root / "a.py").write_text(DECLARE.format(name="same", aliases=()))
    (root / "b.py").write_text(DECLARE.format(name="other", aliases=("same",)))
    with pytest.raises(PluginError, match="two Familys are named 'same'"):
        discover(name, "FAMILIES", Family)


def test_a_declaration_of_the_wrong_type_is_refused(package):
    name, root = package
    (root / "a.py").write_text("FAMILIES = ('not a family',)\n")
    with pytest.raises(PluginError, match="not a Family"):
        discover(name, "FAMILIES", Family)


def test_sample_options_are_the_union_of_the_objectives_declarations():
    from genjax.core.objective import LABEL, Capabilities, SampleOption

    steps = SampleOption("steps", int, "how many")

    class A:
        capabilities = Capabilities(sample_options=(LABEL,))

    class B:
        capabilities = Capabilities(sample_options=(LABEL, steps))

    assert _family("f", objectives=(A, B)).sample_options() == (LABEL, steps)
    with pytest.raises(ValueError, match="must say why"):
        Capabilities(sample=False)
