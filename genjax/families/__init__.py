"""Model families, one folder each; found by :func:`families`, never listed by hand.

A family folder ``genjax/families/<name>/`` holds its objective(s), its networks (or imports
shared ones from ``genjax.nn``), its config schema and a ``build(config, spec, context)``, and
its ``__init__`` declares ``FAMILIES = (genjax.core.registry.Family(...), ...)``. Other
distributions add families under the ``genjax.families`` entry-point group. See
``docs/architecture.md`` ("How to add a family").
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from genjax.core.registry import Family, discover


@functools.cache
def families() -> Mapping[str, Family]:
    """Every family by name (aliases included: a former name maps to its family)."""
    return discover("genjax.families", "FAMILIES", Family, "genjax.families")
