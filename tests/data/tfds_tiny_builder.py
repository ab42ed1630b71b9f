"""A tiny TFDS dataset the tests prepare themselves, to read it like a real TFDS one.

It is not an embedded genjax dataset: ``load_source`` must reach it through the
real-TFDS path (``tfds.builder`` + ``tfds.data_source``), as it would reach a
user's prepared ``mnist`` or ``cifar10``.
"""

import inspect

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

NUM_TRAIN = 12
NUM_TEST = 5
SHAPE = (6, 5, 3)


def example(i: int) -> dict:
    """The i-th example (train rows first, then test rows)."""
    image = (np.arange(np.prod(SHAPE)).reshape(SHAPE) * 7 + i * 13) % 256
    return {"image": image.astype(np.uint8), "label": i % 3, "extra": np.int64(1000 + i)}


class TestBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """What every test builder shares: a version, and its code path (this top-level module,
    which TFDS cannot find by itself)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Test data."}

    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls):
        return epath.Path(inspect.getfile(cls))


class GenjaxTinyImages(TestBuilder):
    """Registered builder (like TFDS's own mnist), with an extra field genjax drops."""


    def _info(self):
        # DatasetInfo directly: dataset_info_from_configs needs the module to
        # sit in a package, and this test helper is a top-level module.
        return tfds.core.DatasetInfo(
            builder=self,
            description="Tiny images for genjax tests.",
            disable_shuffling=True,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Tensor(shape=SHAPE, dtype=np.uint8),
                    "label": tfds.features.ClassLabel(num_classes=3),
                    "extra": tfds.features.Scalar(dtype=np.int64),
                }
            ),
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        return {
            "train": self._generate_examples(range(NUM_TRAIN)),
            "test": self._generate_examples(range(NUM_TRAIN, NUM_TRAIN + NUM_TEST)),
        }

    def _generate_examples(self, rows):
        for i in rows:
            yield i, example(i)


class GenjaxTinyUnregistered(GenjaxTinyImages, skip_registration=True):
    """Same data under a name TFDS's registry does not know: read from files only."""

    name = "genjax_tiny_unregistered"


TEXTS = {"train": "First Citizen:\nBefore we proceed any further, hear me speak.\n",
         "test": "All:\nSpeak, speak.\n"}


class GenjaxTinyText(TestBuilder):
    """A registered text builder shaped like TFDS's tiny_shakespeare: one ``"text"`` record
    per split."""


    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, description="Tiny text for genjax tests.", disable_shuffling=True,
            features=tfds.features.FeaturesDict({"text": tfds.features.Text()}))

    def _split_generators(self, dl_manager):
        del dl_manager
        return {split: self._generate_examples(text) for split, text in TEXTS.items()}

    def _generate_examples(self, text):
        yield 0, {"text": text}


def prepare(builder_cls, data_dir, file_format="array_record"):
    """Builds the dataset into data_dir and returns the builder."""
    builder = builder_cls(data_dir=str(data_dir), file_format=file_format)
    builder.download_and_prepare()
    return builder


#: Lengths of the tiny speech clips (train rows first): shorter, equal to and longer than 1 s.
SPEECH_LENGTHS = (9000, 16000, 20000, 12345, 16000, 7000, 18000, 16000)
SPEECH_TRAIN = 6


def speech_clip(i: int) -> np.ndarray:
    """Clip ``i``: int16 values ``(i + 1) * 100 + position % 50`` (its ends are recognisable
    after centring)."""
    return ((i + 1) * 100 + np.arange(SPEECH_LENGTHS[i]) % 50).astype(np.int16)


class GenjaxTinySpeech(TestBuilder):
    """Shaped like TFDS's speech_commands: variable-length int16 clips and a 12-way
    ``label``. Stored as a ``Tensor(shape=(None,))``: TFDS's own ``Audio`` feature cannot be
    built or read without TensorFlow."""


    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, description="Tiny speech for genjax tests.", disable_shuffling=True,
            features=tfds.features.FeaturesDict({
                "audio": tfds.features.Tensor(shape=(None,), dtype=np.int16),
                "label": tfds.features.ClassLabel(num_classes=12)}))

    def _split_generators(self, dl_manager):
        del dl_manager
        n = len(SPEECH_LENGTHS)
        return {"train": self._generate_examples(range(SPEECH_TRAIN)),
                "test": self._generate_examples(range(SPEECH_TRAIN, n))}

    def _generate_examples(self, rows):
        for i in rows:
            yield i, {"audio": speech_clip(i), "label": i % 12}


class GenjaxTinyAudioFeature(GenjaxTinySpeech):
    """Declares TFDS's own ``Audio`` feature (speech_commands' declaration), which TFDS
    builds only with TensorFlow installed."""

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, description="Audio feature.", disable_shuffling=True,
            features=tfds.features.FeaturesDict({
                "audio": tfds.features.Audio(file_format="wav", sample_rate=16000,
                                             dtype=np.int16),
                "label": tfds.features.ClassLabel(num_classes=12)}))
