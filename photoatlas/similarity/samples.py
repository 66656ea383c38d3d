"""Real photos that ship inside installed packages (scikit-image, scikit-learn), for the
copy-detection tests, the benchmark and demos. Nothing is downloaded."""

import functools

import numpy as np

# Colour photographs; stereo_motorcycle's right view is left out (it is a near-duplicate of the left).
COLOUR = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "hubble_deep_field",
    "retina",
    "immunohistochemistry",
    "motorcycle",
)
GREY = ("camera", "coins", "clock", "moon", "page", "text", "brick", "grass", "gravel")


@functools.cache
def sample_photos() -> dict[str, np.ndarray]:
    """Name -> RGB uint8 photo (greyscale ones repeated over three channels)."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = {}
    for name in COLOUR:
        img = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
        photos[name] = np.ascontiguousarray(img[:, :, :3])
    samples = load_sample_images()
    for path, img in zip(samples.filenames, samples.images):
        photos[path.rsplit("/", 1)[-1].split(".")[0]] = img
    for name in GREY:
        grey = getattr(skimage.data, name)()
        photos[name] = np.repeat(grey[:, :, None], 3, axis=2)
    return photos
