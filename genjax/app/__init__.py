"""The application layer: what the ``genjax`` commands do, over families, modalities, data.

* :mod:`genjax.app.experiment`: the generic builder (config -> objective, batches, settings)
  and run folders (``load_run``, ``read_saved_config``).
* :mod:`genjax.app.evaluate`: ``genjax eval``; :mod:`genjax.app.domain`: the domain digit
  classifier it trains once; :mod:`genjax.app.fid`: ``genjax fid`` between image sets.
* :mod:`genjax.app.sampling`: many samples in fixed-size jitted chunks.
"""
