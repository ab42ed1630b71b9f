"""Single pictures: image files and the scikit-image demo pictures, read as RGB uint8.

:func:`read_picture` takes a ``.png`` / ``.jpg`` path or the name of a picture that ships
inside the scikit-image wheel (:data:`DEMO_PICTURES`: ``astronaut``, ``chelsea``, ``coffee``,
``rocket`` and the grayscale textures ``brick``, ``grass``, ``gravel``, repeated to RGB), so
style transfer has inputs offline (``pip install genjax-models[style]``).
:func:`resize_longer_side` and :func:`fit` resize them with PIL's Lanczos filter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genjax.data.tfds import DatasetError

DEMO_PICTURES = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass", "gravel")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class PictureError(DatasetError):
    """A picture that cannot be read; the message says the fix."""


def read_picture(spec: str) -> np.ndarray:
    """An RGB uint8 (H, W, 3) picture from a file path or a scikit-image demo name.

    Raises:
      PictureError: a missing or unreadable file, an unknown name, scikit-image absent.
    """
    from PIL import Image

    path = Path(spec).expanduser()
    if path.is_file():
        try:
            with Image.open(path) as img:
                return np.asarray(img.convert("RGB"))
        except Image.DecompressionBombError as err:
            raise PictureError(f"{path} is too large to read ({err}); resize it first") from err
        except (OSError, ValueError, SyntaxError) as err:
            raise PictureError(f"{path} is not a readable image ({err}); give a PNG or JPEG "
                               "file") from err
    if spec in DEMO_PICTURES:
        try:
            from skimage import data
        except ImportError as err:
            raise PictureError(
                f"the demo picture {spec!r} comes with scikit-image, which is not installed: "
                "pip install 'genjax-models[style]' (or scikit-image), or give an image "
                "file") from err
        image = np.asarray(getattr(data, spec)())
        if image.ndim == 2:  # the textures are grayscale
            image = np.repeat(image[..., None], 3, axis=-1)
        return np.ascontiguousarray(image[..., :3]).astype(np.uint8)
    if path.suffix.lower() in IMAGE_SUFFIXES or path.parent != Path("."):
        raise PictureError(f"image {path} not found; give an existing PNG/JPEG file or a "
                           f"demo name ({', '.join(DEMO_PICTURES)})")
    raise PictureError(f"{spec!r} is neither an image file nor a demo picture; give a "
                       f"PNG/JPEG path or one of {', '.join(DEMO_PICTURES)}")


def resize_longer_side(image: np.ndarray, size: int) -> np.ndarray:
    """Resized (Lanczos) so that the longer side is ``size``, the aspect ratio kept."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = size / max(h, w)
    shape = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(shape, Image.Resampling.LANCZOS))


def fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scaled to cover (height, width) and centre-cropped (PIL's ``ImageOps.fit``)."""
    from PIL import Image, ImageOps

    fitted = ImageOps.fit(Image.fromarray(image), (width, height), Image.Resampling.LANCZOS)
    return np.asarray(fitted)
