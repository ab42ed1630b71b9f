"""``genjax configs NAME``: a named config's resolved keys, their defaults and one-line docs.

The docs are the trailing ``# comments`` of the schema sources (``genjax/config.py``'s
``base_config``, a family's ``config.py``, the recipe itself): the comment on a key of a
``ConfigDict({...})`` literal, or on an assignment ``config.train.steps = 700  # ...``. The
recipe's own comments win over its family's, which win over the base config's.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path
from typing import Any

from genjax import config as gconfig


def describe_config(name: str, width: int = 100) -> str:
    """The text ``genjax configs NAME`` prints: the summary, then one line per key.

    Raises:
      ConfigError: an unknown name or a config file that cannot be loaded.
    """
    config = gconfig.load_config(name)
    flat = gconfig.flatten(config)
    if name in gconfig.list_configs():
        docs = key_docs(f"{gconfig.CONFIGS_PACKAGE}.{name}")
    else:  # a .py file, executed by load_config without a sys.modules entry
        docs = key_docs_of_source(Path(name).read_text())
    summary = gconfig.list_configs().get(name) or _file_summary(name)
    lines = [_wrap(f"{name}: {summary}", width, "  "), "",
             f"keys (family {config.family!r}; change any with --config.KEY=VALUE):"]
    key_width = max(map(len, flat), default=0)
    shown = {key: repr(value) for key, value in flat.items()}
    value_width = min(max(map(len, shown.values()), default=0), 24)
    for key, value in shown.items():
        line = f"  {key:<{key_width}} = {value:<{value_width}}"
        if key in docs:
            line += f"  # {docs[key]}"
        lines.append(line.rstrip())
    return "\n".join(lines)


def _file_summary(name: str) -> str:
    path = Path(name)
    if path.is_file():
        return gconfig.first_paragraph(ast.get_docstring(ast.parse(path.read_text())) or "")
    return ""


def key_docs(module: str) -> dict[str, str]:
    """``{"section.key": comment}`` from the source of ``module`` (already imported) and of the
    ``genjax`` modules it imports, recursively; a module's comments override those of the
    modules it imports."""
    docs: dict[str, str] = {}
    for name in _dependencies(module, set()):
        source = _source(name)
        if source is not None:
            docs.update(_comments_of_keys(source))
    return docs


def key_docs_of_source(source: str) -> dict[str, str]:
    """``key_docs`` of a config file's source (its genjax imports first, then its own)."""
    docs: dict[str, str] = {}
    seen: set[str] = set()
    for name in _imported_modules(source):
        for dependency in _dependencies(name, seen):
            docs.update(_comments_of_keys(_source(dependency) or ""))
    docs.update(_comments_of_keys(source))
    return docs


def _imported_modules(source: str) -> list[str]:
    return [node.module for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            and (node.module == "genjax" or node.module.startswith("genjax."))]


def _source(module: str) -> str | None:
    mod = sys.modules.get(module)
    path = getattr(mod, "__file__", None)
    if path is None or not path.endswith(".py"):
        return None
    return Path(path).read_text()


def _dependencies(module: str, seen: set[str]) -> list[str]:
    """``module`` after the genjax modules it imports (depth first, each once)."""
    if module in seen:
        return []
    seen.add(module)
    source = _source(module)
    if source is None:
        return []
    order = []
    for name in _imported_modules(source):
        order += _dependencies(name, seen)
    return [*order, module]


def _comments_of_keys(source: str) -> dict[str, str]:
    """The trailing comments of the config keys a module's source sets."""
    comments = {tok.start[0]: tok.string.lstrip("#").strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type == tokenize.COMMENT}
    out: dict[str, str] = {}

    def comment_of(node: ast.AST) -> str | None:
        for line in (node.lineno, getattr(node, "end_lineno", node.lineno)):
            if comments.get(line):
                return comments[line]
        return None

    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        path = _attribute_path(node.targets[0])
        if not path:
            continue
        literal = _dict_literal(node.value)
        if literal is None:
            doc = comment_of(node)
            if doc:
                out[path] = doc
            continue
        for key, value in zip(literal.keys, literal.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                doc = comments.get(key.lineno) or comments.get(value.end_lineno or key.lineno)
                if doc:
                    out[f"{path}.{key.value}"] = doc
    return out


def _attribute_path(target: ast.AST) -> str:
    """``"train.steps"`` for ``config.train.steps`` (the root variable dropped)."""
    parts: list[str] = []
    while isinstance(target, ast.Attribute):
        parts.append(target.attr)
        target = target.value
    return ".".join(reversed(parts)) if isinstance(target, ast.Name) else ""


def _dict_literal(value: ast.AST) -> ast.Dict | None:
    """The ``{...}`` of ``{...}`` or ``ConfigDict({...})``."""
    if isinstance(value, ast.Dict):
        return value
    if isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Dict):
        return value.args[0]
    return None


def _wrap(text: str, width: int, indent: str) -> str:
    import textwrap

    return textwrap.fill(text, width=width, subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False)  # a path or name stays whole


def config_summaries(width: int = 100) -> list[str]:
    """The lines of ``genjax configs``: each name with its whole summary, wrapped under it."""
    configs: dict[str, Any] = gconfig.list_configs()
    name_width = max(map(len, configs), default=0)
    import textwrap

    lines = []
    for name, summary in configs.items():
        lines += textwrap.wrap(summary or "(no docstring)", width=width,
                               initial_indent=f"{name:<{name_width}}  ",
                               subsequent_indent=" " * (name_width + 2))
    return lines
