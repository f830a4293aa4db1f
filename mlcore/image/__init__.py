"""Product images: a CLIP encoder loaded offline (:mod:`mlcore.image.encoder`)."""
from mlcore.image.encoder import MAX_PIXELS, ImageEncoder, ImageError, build_tiny_clip, open_image

__all__ = ["MAX_PIXELS", "ImageEncoder", "ImageError", "build_tiny_clip", "open_image"]
