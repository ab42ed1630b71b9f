"""Plug-ins found, not registered: families and modalities declared by the packages that hold them.

A family package (``genjax/families/<name>/``) declares ``FAMILIES = (Family(...), ...)`` in
its ``__init__``; a modality module (``genjax/modalities/<name>.py``) declares ``MODALITY``.
:func:`discover` imports every subpackage/module of a package and collects those attributes,
plus the objects other distributions advertise under an entry-point group (``genjax.families``
/ ``genjax.modalities``), so a third-party family is one ``pip install`` away and an in-tree
one is one new folder. Nothing is mutated at import time; the result is an immutable mapping.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import pkgutil
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


class PluginError(ValueError):
    """Two plug-ins with one name, or a plug-in that is not of the declared type."""


def _declared(obj: Any, attribute: str, kind: type) -> tuple[Any, ...]:
    """The plug-ins a module or an entry-point object declares."""
    value = getattr(obj, attribute, None) if isinstance(obj, types.ModuleType) else obj
    if value is None:
        return ()
    items = tuple(value) if isinstance(value, tuple | list) else (value,)
    for item in items:
        if not isinstance(item, kind):
            raise PluginError(f"{getattr(obj, '__name__', obj)!r} declares {attribute} = "
                              f"{item!r}, which is not a {kind.__name__}")
    return items


def discover(package: str, attribute: str, kind: type,
             entry_point_group: str | None = None) -> Mapping[str, Any]:
    """Every plug-in of ``kind`` declared under ``package`` and by installed distributions.

    Args:
      package: a package name, e.g. ``"genjax.families"``; each of its direct subpackages or
        modules not starting with ``_`` may declare ``attribute``.
      attribute: the module attribute holding one plug-in or a tuple of them.
      kind: the plug-in type (it has a ``name`` and optional ``aliases``).
      entry_point_group: also load the objects advertised under this group.

    Returns:
      ``name -> plug-in``, aliases included, read-only.

    Raises:
      PluginError: two plug-ins claim one name, or a declaration of the wrong type.
    """
    found: dict[str, Any] = {}

    def add(item: Any, origin: str) -> None:
        for name in (item.name, *getattr(item, "aliases", ())):
            if name in found and found[name] is not item:
                raise PluginError(f"two {kind.__name__}s are named {name!r} (the second from "
                                  f"{origin}); rename one")
            found[name] = item

    root = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        for item in _declared(module, attribute, kind):
            add(item, module.__name__)
    if entry_point_group:
        for point in importlib.metadata.entry_points(group=entry_point_group):
            for item in _declared(point.load(), attribute, kind):
                add(item, f"entry point {point.value}")
    return types.MappingProxyType(found)


@dataclasses.dataclass(frozen=True)
class Family:
    """A model family: how a config becomes its objective.

    Attributes:
      name: the value of ``config.family``.
      build: ``build(config, spec, context) -> Objective``; the one place of the family that
        reads a ConfigDict (``context`` is a ``genjax.app.experiment.BuildContext``: the
        dataset's modality, the precision policy, and a way to load another run).
      summary: one line for ``genjax configs``.
      modalities: the modality names the family trains on; others are refused before
        ``build`` with one message.
      precisions: the compute-precision policies ``build`` applies (``fp32`` always).
      objectives: the objective classes ``build`` may return (their declared capabilities
        are what ``genjax sample RUN --help`` lists for a run of the family).
      smallest: ``smallest(runs) -> config``, the family's smallest honest config (tiny
        networks, a small dataset): the registry's contract test trains, resumes, samples
        and evaluates it for every family. ``runs`` maps each family of ``needs`` to a
        trained run folder of that family's own smallest config.
      needs: families whose runs ``smallest`` needs (a second stage's first stage).
      aliases: older names of the family; configs saved under one are migrated by
        ``migrate`` (``migrate(config) -> config`` in the family's own schema).
      migrate: see ``aliases``.
      defaults: ``defaults() -> config``, the family's config schema with every key at its
        default. A run saved before a key was added gets that key's default when it is read
        back (so a new option's default must be the behaviour runs had without it), and
        resuming it sees no config change. None: saved configs are read as they are.
    """

    name: str
    build: Callable[..., Any]
    summary: str
    modalities: tuple[str, ...]
    objectives: tuple[type, ...]
    smallest: Callable[[Mapping[str, Any]], Any]
    precisions: tuple[str, ...] = ("fp32",)
    needs: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    migrate: Callable[[Any], Any] | None = None
    defaults: Callable[[], Any] | None = None

    def sample_options(self) -> tuple[Any, ...]:
        """The sample options of every objective the family builds (first declaration wins)."""
        seen: dict[str, Any] = {}
        for objective in self.objectives:
            for option in objective.capabilities.sample_options:
                seen.setdefault(option.name, option)
        return tuple(seen.values())


def lazy_package(package: str, module: str = "family") -> Callable[[str], Any]:
    """The module-level ``__getattr__`` of a family package whose ``__init__`` stays light.

    The package's public names (``FAMILIES`` and its re-exports) live in ``package.module``,
    imported on the first attribute that the package itself lacks; so importing the package,
    or one of its light submodules (its ``config``, which ``genjax configs NAME`` reads),
    imports neither JAX nor the family's networks. A submodule loaded by that import is
    returned as the package attribute it became.
    """

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = importlib.import_module(f"{package}.{module}")
        if hasattr(target, name):
            return getattr(target, name)
        loaded = vars(sys.modules[package])
        if name in loaded:
            return loaded[name]
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
