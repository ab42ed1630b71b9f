"""Datasets for genjax: embedded offline datasets, prepared TFDS datasets, batching.

Typical use::

    from genjax.data import Batches, dataset_spec, load_source
    from genjax.data.pipeline import images_to_float

    spec = dataset_spec("mnist_subset")
    source = load_source("mnist_subset", "train")
    batches = Batches(source, batch_size=64, seed=0,
                      transform=images_to_float(pad_to=32))
    for step, batch in batches.iterate(start=0, prefetch=2):
        ...

Small datasets read many times (the 2D mixtures) are faster in memory:
``Batches(ArraySource(load_arrays("toy2d_ring", "train")), 100, seed=0)``.
"""

from genjax.data.embedded import EMBEDDED_DATASETS, dataset_spec, load_source
from genjax.data.pipeline import ArraySource, Batches, load_arrays
from genjax.data.tfds import DatasetError, DatasetSpec, default_data_dir

__all__ = [
    "EMBEDDED_DATASETS",
    "ArraySource",
    "Batches",
    "DatasetError",
    "DatasetSpec",
    "dataset_spec",
    "default_data_dir",
    "load_arrays",
    "load_source",
]
