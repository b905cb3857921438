"""Images: type by magic bytes, verification, thumbnails, perceptual hashes, visual search."""

from crownsafe.visual.processing import (
    ImageRejectedError,
    VerifiedImage,
    make_thumbnail,
    perceptual_hash,
    verify_image,
)
from crownsafe.visual.search import (
    SearchMatch,
    _is_azure_blob_url,
    _is_s3_url,
    hamming_distance,
    nearest_images,
    resolve_image_url,
)
from crownsafe.visual.sniff import SNIFF_BYTES, ImageKind, sniff_image_type

__all__ = [
    "SNIFF_BYTES",
    "ImageKind",
    "ImageRejectedError",
    "SearchMatch",
    "VerifiedImage",
    "_is_azure_blob_url",
    "_is_s3_url",
    "hamming_distance",
    "make_thumbnail",
    "nearest_images",
    "perceptual_hash",
    "resolve_image_url",
    "sniff_image_type",
    "verify_image",
]
