"""The API reference builds from the docstrings with the README's `pdoc` command (offline):
the pages of the public API, of every registered family's objectives, the modalities and the
metrics exist and document their public names."""

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pdoc")

from genjax.families import families  # noqa: E402
from genjax.modalities import modalities  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_command() -> list[str]:
    (line,) = re.findall(r"^pdoc .*$", README.read_text(), re.M)
    return line.split()


def page(out: Path, module: str) -> Path:
    return out.joinpath(*module.split(".")).with_suffix(".html")


def text_of(path: Path) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", path.read_text())).split())


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The README's command, writing into a temporary folder instead of docs/api."""
    args = readme_command()[1:]
    assert args[args.index("-o") + 1] == "docs/api"
    out = tmp_path_factory.mktemp("api")
    args[args.index("-o") + 1] = str(out)
    done = subprocess.run([sys.executable, "-m", "pdoc", *args], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return out, done.stderr


def test_the_public_modules_have_documented_pages(reference):
    out, warnings = reference
    modules = ["genjax", "genjax.api", "genjax.core.objective", "genjax.modalities",
               "genjax.metrics",
               *sorted({type(m).__module__ for m in modalities().values()})]
    for module in modules:
        path = page(out, module)
        assert path.exists(), module
        assert len(text_of(path).split()) > 50, module  # a documented page, not a stub
    assert (out / "index.html").exists() and (out / "search.js").exists()
    assert "genjax.__all__" not in warnings  # train / load / Model resolve on the package page
    assert "train" in text_of(page(out, "genjax"))


def test_every_registered_objective_is_documented(reference):
    out, _ = reference
    for family in families().values():
        for cls in family.objectives:
            module = cls.__module__
            package = module.rsplit(".", 1)[0]
            # its own module's page, or its family package's page (which re-exports it)
            found = [p for p in (page(out, module), page(out, package)) if p.exists()
                     and f"class {cls.__name__}" in text_of(p)]
            assert found, (family.name, cls.__name__)
            first_line = cls.__doc__.strip().splitlines()[0]
            assert first_line.split()[0] in text_of(found[0]), (cls.__name__, first_line)


def test_pages_document_the_public_names(reference):
    out, _ = reference
    api = text_of(page(out, "genjax.api"))
    for name in ("train", "load", "Model", "sample", "interpolate", "encode", "decode",
                 "log_prob", "slerp", "spherical"):
        assert name in api, name
    assert "Raises" in api and "Args" in api  # the Google sections were parsed
    caps = text_of(page(out, "genjax.core.objective"))
    assert "Capabilities" in caps and "log_prob_about" in caps
    vae = text_of(page(out, "genjax.families.autoencoders.vae"))
    assert "importance-weighted" in vae and "iwae_bound" in vae
