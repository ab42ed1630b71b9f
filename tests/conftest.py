"""Test set-up: 8 fake CPU devices, set before JAX starts."""

import os

os.environ.setdefault("XLA_FLAGS", "")
if "xla_force_host_platform_device_count" not in os.environ["XLA_FLAGS"]:
    os.environ["XLA_FLAGS"] += " --xla_force_host_platform_device_count=8"
# Tiny programs, compiled once each: LLVM's optimisation passes cost more than they save
# (the suite ran 17% faster without them; numerics are unchanged, XLA's own passes still run).
if "xla_backend_optimization_level" not in os.environ["XLA_FLAGS"]:
    os.environ["XLA_FLAGS"] += " --xla_backend_optimization_level=0"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# As the CLI does: threefry's partitionable variant compiles ~5x slower on XLA:CPU.
os.environ.setdefault("JAX_THREEFRY_PARTITIONABLE", "0")
# Identical programs (the same tiny models in many tests) compile once per session.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(
    os.environ.get("TMPDIR", "/tmp"), "genjax-test-jax-cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import tempfile  # noqa: E402

# Embedded datasets are built once per test session into a private folder, never ~/.cache.
os.environ.setdefault("GENJAX_DATA_DIR", tempfile.mkdtemp(prefix="genjax-test-data-"))
