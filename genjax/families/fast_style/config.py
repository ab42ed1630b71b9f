"""The ``fast_style`` family's config schema and its smallest config."""

import ml_collections

from genjax.config import base_config


def fast_style_base() -> ml_collections.ConfigDict:
    """Johnson et al.'s network (F = 32, R = 5) and loss on the ``style_pictures`` crops.

    ``model.style_image`` is a demo picture name (``gravel``, ``brick``, ``grass``,
    ``astronaut``, ...) or an image path, resized so its longer side is ``model.style_size``;
    ``model.vgg_weights`` is torchvision's ``vgg19-dcbe5bb1.pth`` (or its converted ``.npz``;
    "" reads ``$GENJAX_VGG_WEIGHTS``; ``random``: meaningless features, for tests only).
    """
    config = base_config()
    config.family = "fast_style"
    config.data.name = "style_pictures"
    config.model = ml_collections.ConfigDict({
        "features": 32,  # F: the first layer's width
        "residual_blocks": 5,  # R
        "style_image": "gravel",
        "style_size": 256,
        "vgg_weights": "",  # "" -> $GENJAX_VGG_WEIGHTS
        "vgg_input": "torchvision",  # or "caffe" for the Caffe-normalised weights
        "content_layers": "relu2_2",  # Johnson et al.'s content layer
        "style_layers": "relu1_2,relu2_2,relu3_3,relu4_3",  # and their style layers
        "content_weight": 1.0,
        "style_weight": 1e6,
        "tv_weight": 10.0,
    })
    config.optim = ml_collections.ConfigDict({"lr": 1e-3, "b1": 0.9, "b2": 0.999})
    config.train.update({"batch_size": 4, "num_samples": 0})
    return config


def smallest_config(runs=None) -> ml_collections.ConfigDict:
    """The registry's contract test config: a narrow network, random VGG-19 weights (the
    features mean nothing: the loop, the loss and the files are what is tested), shallow
    layers, a 32-pixel style picture."""
    config = fast_style_base()
    config.model.update({"features": 4, "residual_blocks": 1, "style_size": 32,
                         "vgg_weights": "random", "content_layers": "relu1_2",
                         "style_layers": "relu1_1,relu1_2"})
    config.train.update({"batch_size": 2, "sample_every": 0})
    return config
