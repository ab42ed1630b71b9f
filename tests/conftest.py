"""Test set-up: 8 fake CPU devices, set before JAX starts."""

import os

os.environ.setdefault("XLA_FLAGS", "")
if "xla_force_host_platform_device_count" not in os.environ["XLA_FLAGS"]:
    os.environ["XLA_FLAGS"] += " --xla_force_host_platform_device_count=8"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import tempfile  # noqa: E402

# Embedded datasets are built once per test session into a private folder, never ~/.cache.
os.environ.setdefault("GENJAX_DATA_DIR", tempfile.mkdtemp(prefix="genjax-test-data-"))
