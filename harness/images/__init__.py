"""Image sets (built-in photos, Imagenette, folders) and per-model preprocessing."""

from .builtin import builtin_images, foolbox_images
from .folders import (
    ClassMismatch,
    MaskMismatch,
    check_classes,
    class_folder,
    folder_classes,
    image_folder,
    imagenette,
    mask_for,
    parallel_masks,
    synset_to_index,
)
from .preprocess import denormalize, normalize, preprocess, resize_crop, to_unit
from .records import ImageLoadError, ImageRecord, ImageSet, image_digest, read_image, read_mask

__all__ = [
    "ClassMismatch",
    "MaskMismatch",
    "check_classes",
    "class_folder",
    "folder_classes",
    "ImageLoadError",
    "ImageRecord",
    "ImageSet",
    "builtin_images",
    "denormalize",
    "foolbox_images",
    "image_digest",
    "image_folder",
    "imagenette",
    "mask_for",
    "parallel_masks",
    "normalize",
    "preprocess",
    "read_image",
    "read_mask",
    "resize_crop",
    "synset_to_index",
    "to_unit",
]
