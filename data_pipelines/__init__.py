"""Input pipelines of crainpaint: random inpainting masks and deterministic image sources.

Paper Sec. 3.5.2 (on-the-fly free-form and object-shape masks) and Sec. 4 (training data: 512×512
images of Places2, CelebA-HQ and DIV2K scaled to [-1, 1]). See `masks.py`, `templates.py` and
`sources.py`.
"""

from data_pipelines.masks import (
    MASK_KINDS,
    MaskConfig,
    enforce_hole_bounds,
    free_form_mask,
    object_mask,
    random_mask,
    rasterize_segments,
)
from data_pipelines.sources import (
    DATASETS,
    DataConfig,
    ManualDownloadRequiredError,
    celeba_hq_manual_download_message,
    crop_and_resize,
    example_seed,
    file_index,
    find_unreadable_images,
    list_image_files,
    make_dataset,
    make_example,
)
from data_pipelines.templates import load_shape_templates, place_template

__all__ = [
    "DATASETS",
    "DataConfig",
    "MASK_KINDS",
    "ManualDownloadRequiredError",
    "MaskConfig",
    "celeba_hq_manual_download_message",
    "crop_and_resize",
    "enforce_hole_bounds",
    "example_seed",
    "file_index",
    "find_unreadable_images",
    "free_form_mask",
    "list_image_files",
    "load_shape_templates",
    "make_dataset",
    "make_example",
    "object_mask",
    "place_template",
    "random_mask",
    "rasterize_segments",
]
