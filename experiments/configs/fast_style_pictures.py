"""Fast style transfer (Johnson et al. 2016) on crops of the scikit-image pictures.

    genjax train fast_style_pictures --workdir runs/fast_style \
        --config.model.vgg_weights=/path/to/vgg19-dcbe5bb1.pth

Needs torchvision's VGG-19 weights (or $GENJAX_VGG_WEIGHTS) and the `style` extra (the
pictures ship with scikit-image). The transformer network (F = 32, R = 5) learns to paint
64x64 crops of astronaut, chelsea and rocket in the texture of `gravel`; the test pictures
(coffee) above their stylised versions are in runs/fast_style/samples/recon_step_*.png.
Runtime and the look of the result are not measured: the real VGG-19 weights were not
available where this recipe was written (with --config.model.vgg_weights=random it runs,
but random features make no style).
"""

import ml_collections

from genjax.families.fast_style.config import fast_style_base


def get_config() -> ml_collections.ConfigDict:
    config = fast_style_base()
    config.train.update({"steps": 2000, "batch_size": 4, "log_every": 50,
                         "checkpoint_every": 500, "sample_every": 250, "eval_every": 500})
    return config
