"""The built-in set: real labelled photos that ship inside installed packages.

* 20 ImageNet validation-style samples from the ``foolbox`` wheel; the class
  index is part of the file name (``imagenet_00_243.jpg`` is a bull mastiff).
* 6 photos from scikit-image, scikit-learn and matplotlib, labelled by hand
  with ImageNet classes.  Where several classes are right, the extra ones are
  listed in ``also``; top-1 counts any of them.

Files are found with ``importlib.util.find_spec`` so nothing is imported.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from .records import ImageRecord, ImageSet

FOOLBOX_LICENCE = (
    "ImageNet sample shipped in the foolbox wheel (package MIT); image terms: ImageNet, "
    "non-commercial research and education"
)

# (id, package, relative path, label, also, source, licence)
_HAND_LABELLED = (
    (
        "skimage/chelsea",
        "skimage",
        "data/chelsea.png",
        281,
        (282, 285),
        "scikit-image data.chelsea (photo: Stefan van der Walt)",
        "CC0",
    ),
    (
        "skimage/coffee",
        "skimage",
        "data/coffee.png",
        967,
        (968, 504),
        "scikit-image data.coffee (photo: Rachel Michetti, Pikolo Espresso Bar)",
        "CC0",
    ),
    (
        "skimage/rocket",
        "skimage",
        "data/rocket.jpg",
        657,
        (744, 812),
        "scikit-image data.rocket (SpaceX, DSCOVR launch on Falcon 9)",
        "public domain (SpaceX)",
    ),
    (
        "skimage/motorcycle",
        "skimage",
        "data/motorcycle_left.png",
        665,
        (670,),
        "scikit-image data.stereo_motorcycle, left view (Middlebury 2014 stereo benchmark)",
        "Middlebury stereo data, research use with citation of Scharstein et al. 2014",
    ),
    (
        "sklearn/china",
        "sklearn",
        "datasets/images/china.jpg",
        698,
        (832,),
        "scikit-learn china.jpg (photo: danielbuechele, Flickr)",
        "CC BY 2.0",
    ),
    (
        "matplotlib/grace_hopper",
        "matplotlib",
        "mpl-data/sample_data/grace_hopper.jpg",
        652,
        (457,),
        "matplotlib sample_data grace_hopper.jpg (US Navy portrait)",
        "public domain (US Navy)",
    ),
)

_FOOLBOX_NAME = re.compile(r"imagenet_(\d+)_(\d+)\.jpg$")


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def foolbox_records() -> tuple[ImageRecord, ...]:
    folder = _package_dir("foolbox")
    if folder is None:
        return ()
    out = []
    for path in sorted((folder / "data").glob("imagenet_*.jpg")):
        m = _FOOLBOX_NAME.search(path.name)
        if m:
            out.append(
                ImageRecord(
                    id=f"foolbox/{path.stem}",
                    path=path,
                    label=int(m.group(2)),
                    source="foolbox 3.3.4 wheel, foolbox/data",
                    licence=FOOLBOX_LICENCE,
                )
            )
    return tuple(out)


def hand_labelled_records() -> tuple[ImageRecord, ...]:
    out = []
    for id_, package, rel, label, also, source, licence in _HAND_LABELLED:
        folder = _package_dir(package)
        if folder is not None and (folder / rel).is_file():
            out.append(ImageRecord(id=id_, path=folder / rel, label=label, also=also, source=source, licence=licence))
    return tuple(out)


def builtin_images() -> ImageSet:
    """The built-in labelled photo set (26 images when all packages are installed)."""
    return ImageSet("builtin", foolbox_records() + hand_labelled_records())


def foolbox_images() -> ImageSet:
    """Only the 20 foolbox ImageNet samples (strict, one label each)."""
    return ImageSet("foolbox", foolbox_records())
