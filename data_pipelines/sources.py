"""Deterministic training and validation input pipelines (paper Sec. 4).

The paper trains on 512×512 images with batch 8: "For DIV2K and CelebA-HQ, images are down-sampled
to 512×512. For Places2, images are randomly cropped to 512×512." Colours are scaled to [-1, 1] and
masks use 1 for holes (Sec. 3.5.3); masks are generated on the fly (Sec. 3.5.2, `masks.py`).

Determinism and resuming. The example at global index i = 0, 1, 2, … of the infinite stream is a
pure function of (`DataConfig.seed`, split, i), computed with stateless random ops only:

* which image: epoch e = i // N and position p = i % N select file
  `index_shuffle(p, seed=(seed, e), max_index=N - 1)` (a fresh permutation every epoch) for the
  folder sources;
* which crop, which flip and which mask: seeds split from `stateless_fold_in((seed, split), i)`.

So a run never checkpoints the iterator (a `tf.data` checkpoint stores the shuffle buffer, hundreds
of MiB of 512² images, and fails outright on a pipeline holding a `py_function`);
`make_dataset(config, start_example=k)` starts the same stream at example k by index arithmetic, for
free. TFDS sources are read sequentially (file-level shuffling with a fixed seed, then a seeded
shuffle buffer), so resuming there costs `skip(k)`: the skipped records are read but not decoded
(images stay encoded until after the skip).

Sources (`DataConfig.dataset`):

* "folder": every .jpg/.jpeg/.png/.webp under `data_dir` (recursive, case-insensitive, sorted), with
  multi-scale random crops (a square of 25–100% of the short side, or with `crop_max_aspect` > 1
  a rectangle of the same area, resized to `image_size`²: area averaging when down-sampling,
  antialiased bilinear when up-sampling) and random horizontal flips.
  Every file is decoded once when the pipeline is created; unreadable files are skipped with an
  absl warning that names them and counts them, so a corrupt file never stops training mid-epoch.
* "places2": the high-resolution Places365-Standard release as a folder (`data_dir`, or its
  `data_large/` (train) and `val_large/` (validation) sub-folders when present), with plain random
  `image_size` crops as in the paper. TFDS only builds the 256×256 Places365 images
  (`places365_small`), which cannot give 512×512 crops, so `data_dir` is required.
* "celeba_hq": TFDS `celeb_a_hq/512` (a manual download), the whole image resized to `image_size`;
  TFDS has one split of 30,000 images: "train" = the first 28,000, "validation" = the last 2,000.
* "div2k": TFDS `div2k` high-resolution images ("hr"), multi-scale random crops resized to
  `image_size` (the mock data used in tests has images as small as 43×33, so resizing is needed).

The TFDS shuffles are seeded op-level, so their order also depends on TensorFlow's global seed:
keep `tf.random.set_seed`/`keras.utils.set_random_seed` the same when resuming (the folder sources
do not depend on it).

Every stage runs in `tf.data` with `num_parallel_calls`, `options.deterministic = True` and a final
`prefetch(tf.data.AUTOTUNE)`.
"""

from __future__ import annotations

import dataclasses
import math
import os

import tensorflow as tf
import tensorflow_datasets as tfds
from absl import logging

from crainpaint.image_header import TENSORFLOW_IMAGE_EXTENSIONS
from crainpaint.pixels import to_network_range
from data_pipelines.masks import MaskConfig, random_mask

DATASETS = ("celeba_hq", "div2k", "places2", "folder")
SPLITS = ("train", "validation")
CROP_MODES = ("auto", "multiscale", "native", "resize")

# Mixed into the example seeds so the train and validation streams never share crops or masks.
_SPLIT_SALT = {"train": 0, "validation": 1}
_DEFAULT_CROP_MODE = {
    "celeba_hq": "resize",
    "div2k": "multiscale",
    "places2": "native",
    "folder": "multiscale",
}
# The sub-folders of the high-resolution Places365-Standard archives (train_large_places365standard.tar
# unpacks to data_large/, val_large.tar to val_large/).
_PLACES2_SUBFOLDERS = {"train": "data_large", "validation": "val_large"}


@dataclasses.dataclass(frozen=True)
class _TfdsSource:
    name: str
    image_feature: str
    splits: dict


_TFDS_SOURCES = {
    "celeba_hq": _TfdsSource(
        "celeb_a_hq/512", "image", {"train": "train[:28000]", "validation": "train[28000:]"}
    ),
    "div2k": _TfdsSource("div2k/bicubic_x2", "hr", {"train": "train", "validation": "validation"}),
}
CELEBA_HQ_ARCHIVE = "data512x512.tar"


class ManualDownloadRequiredError(RuntimeError):
    """A TFDS data set needs files that must be downloaded by hand first."""


@dataclasses.dataclass
class DataConfig:
    """Which images to read and how to turn them into training examples (paper Sec. 4).

    Attributes:
        dataset: "celeba_hq", "div2k", "places2" or "folder" (see the module docstring).
        data_dir: for "folder" and "places2", the image folder (required); for the TFDS sources the
            TFDS data_dir (None = TFDS's default, ~/tensorflow_datasets).
        image_size: side of the square training images (the paper uses 512).
        global_batch_size: examples per batch, over all replicas (the paper uses 8).
        seed: the seed every random choice is derived from.
        split: "train" or "validation".
        mask: how the masks are generated (a MaskConfig, or a dict of its fields).
        crop_min_fraction: smallest crop side, as a fraction of the image's short side ("multiscale").
        crop_max_fraction: largest crop side, as a fraction of the image's short side ("multiscale").
        crop_max_aspect: "multiscale" crops are rectangles of the same area as that square with a
            width/height ratio drawn log-uniformly in [1 / crop_max_aspect, crop_max_aspect]
            (clipped to the image), then resized to the square: the network sees content
            squeezed by up to that factor along either axis, as the CRA's default "tile"
            geometry shows it a non-square photo. 1 = squares only (the paper).
        crop_mode: "multiscale" (random square of crop_min..max_fraction of the short side, resized),
            "native" (random image_size crop without resampling; images whose short side is smaller
            are cropped to their short side and resized up), "resize" (the centred square of the
            short side resized) or "auto" (celeba_hq: resize, places2: native, others: multiscale).
        shuffle: shuffle the images (per-epoch permutations; TFDS: file shuffling and a buffer).
        shuffle_buffer_size: shuffle buffer of the TFDS sources (encoded images held in memory).
        num_parallel_calls: parallelism of the per-example map.
        validate_files: decode every folder image once at creation and skip the unreadable ones
            (about as costly as one epoch of decoding; with False a corrupt file stops the run
            when it is reached).
    """

    dataset: str = "folder"
    data_dir: str | None = None
    image_size: int = 512
    global_batch_size: int = 8
    seed: int = 0
    split: str = "train"
    mask: MaskConfig = dataclasses.field(default_factory=MaskConfig)
    crop_min_fraction: float = 0.25
    crop_max_fraction: float = 1.0
    crop_max_aspect: float = 1.0
    crop_mode: str = "auto"
    shuffle: bool = True
    shuffle_buffer_size: int = 256
    num_parallel_calls: int = tf.data.AUTOTUNE
    validate_files: bool = True

    def __post_init__(self):
        if isinstance(self.mask, dict):
            self.mask = MaskConfig(**self.mask)
        if not isinstance(self.mask, MaskConfig):
            raise TypeError(
                f"DataConfig.mask must be a MaskConfig or a dict of its fields, got {type(self.mask)}."
            )
        if self.dataset not in DATASETS:
            raise ValueError(f"DataConfig.dataset must be one of {DATASETS}, got {self.dataset!r}.")
        if self.split not in SPLITS:
            raise ValueError(f"DataConfig.split must be one of {SPLITS}, got {self.split!r}.")
        for name in ("image_size", "global_batch_size", "shuffle_buffer_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"DataConfig.{name} must be a positive integer, got {value!r}.")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"DataConfig.seed must be an integer, got {self.seed!r}.")
        if not 0.0 < self.crop_min_fraction <= self.crop_max_fraction <= 1.0:
            raise ValueError(
                "DataConfig needs 0 < crop_min_fraction <= crop_max_fraction <= 1, got "
                f"{self.crop_min_fraction!r} and {self.crop_max_fraction!r}."
            )
        if not self.crop_max_aspect >= 1.0:
            raise ValueError(
                f"DataConfig.crop_max_aspect must be >= 1 (1 = square crops), got "
                f"{self.crop_max_aspect!r}."
            )
        if self.crop_mode not in CROP_MODES:
            raise ValueError(
                f"DataConfig.crop_mode must be one of {CROP_MODES}, got {self.crop_mode!r}."
            )
        if self.num_parallel_calls != tf.data.AUTOTUNE and not (
            isinstance(self.num_parallel_calls, int) and self.num_parallel_calls >= 1
        ):
            raise ValueError(
                "DataConfig.num_parallel_calls must be tf.data.AUTOTUNE or >= 1, "
                f"got {self.num_parallel_calls!r}."
            )

    @property
    def resolved_crop_mode(self) -> str:
        """The crop mode after resolving "auto" for the configured data set."""
        return _DEFAULT_CROP_MODE[self.dataset] if self.crop_mode == "auto" else self.crop_mode


# ----------------------------------------------------------------------------------------------
# Files.


def list_image_files(directory: str) -> list[str]:
    """All .jpg/.jpeg/.png/.webp files under `directory`, recursively, sorted by relative path.

    Raises:
        FileNotFoundError: `directory` is not an existing folder.
        ValueError: it holds no image file.
    """
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"Image folder {directory!r} does not exist or is not a folder; set DATA_DIR "
            "(DataConfig.data_dir) to a folder of .jpg/.jpeg/.png/.webp images."
        )
    relative_paths = []
    for root, folders, names in os.walk(directory, followlinks=True):
        folders.sort()
        for name in names:
            if name.lower().endswith(TENSORFLOW_IMAGE_EXTENSIONS):
                relative_paths.append(os.path.relpath(os.path.join(root, name), directory))
    if not relative_paths:
        raise ValueError(
            f"Image folder {directory!r} contains no "
            f"{'/'.join(TENSORFLOW_IMAGE_EXTENSIONS)} files (searched recursively)."
        )
    return [os.path.join(directory, path) for path in sorted(relative_paths)]


def find_unreadable_images(paths: list[str]) -> list[str]:
    """The paths that `tf.io.decode_image` cannot decode into a non-empty RGB image.

    Decodes every file once with exactly the decoder of the training pipeline, in parallel inside
    `tf.data` (errors are dropped with `ignore_errors`, and the survivors are compared with the
    input), so a file that passes here cannot fail later.

    Args:
        paths: image file paths.

    Returns:
        The unreadable paths, in input order.
    """
    if not paths:
        return []

    def decoded_path(path):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        tf.debugging.assert_positive(tf.size(image), message="empty image")
        return path

    checked = tf.data.Dataset.from_tensor_slices(paths).map(
        decoded_path, num_parallel_calls=tf.data.AUTOTUNE
    )
    checked = checked.ignore_errors()
    options = tf.data.Options()
    options.deterministic = False  # Only the set of survivors matters.
    readable = {path.decode() for path in checked.with_options(options).as_numpy_iterator()}
    return [path for path in paths if path not in readable]


def _readable_images(directory: str, validate: bool) -> list[str]:
    paths = list_image_files(directory)
    if validate:
        unreadable = find_unreadable_images(paths)
        if unreadable:
            shown = unreadable[:100]
            more = f" (and {len(unreadable) - len(shown)} more)" if len(unreadable) > len(shown) else ""
            logging.warning(
                "Skipping %d unreadable image file(s) of %d in %s: %s%s",
                len(unreadable),
                len(paths),
                directory,
                ", ".join(shown),
                more,
            )
            unreadable_set = set(unreadable)
            paths = [path for path in paths if path not in unreadable_set]
        if not paths:
            raise ValueError(
                f"Image folder {directory!r} has no readable image: all {len(unreadable)} "
                "failed to decode."
            )
    return paths


def celeba_hq_manual_download_message(manual_dir: str, data_dir: str | None) -> str:
    """What to do when the CelebA-HQ archive TFDS needs is missing."""
    shown_data_dir = data_dir or "~/tensorflow_datasets (the TFDS default)"
    return (
        "CelebA-HQ must be downloaded by hand: TFDS 'celeb_a_hq/512' cannot download it. Create the "
        f"archive {CELEBA_HQ_ARCHIVE} (the 512x512 CelebA-HQ images as PNG files in one tar; see "
        "https://github.com/tkarras/progressive_growing_of_gans#preparing-datasets-for-training) "
        f"and put it at {os.path.join(manual_dir, CELEBA_HQ_ARCHIVE)} (the TFDS manual_dir is "
        f"{manual_dir}, i.e. <DATA_DIR>/downloads/manual). Then run again with "
        "DATASET=celeba_hq DATA_DIR=<that TFDS data dir> "
        f"(DataConfig.data_dir; now {shown_data_dir}); TFDS prepares the data set there on first use."
    )


# ----------------------------------------------------------------------------------------------
# Per-example operations (pure TF, stateless).


@tf.autograph.experimental.do_not_convert
def example_seed(seed, split: str, example_index) -> tf.Tensor:
    """The int64 [2] seed of example `example_index`: fold_in((seed, split salt), example_index)."""
    base = tf.stack([tf.cast(seed, tf.int64), tf.constant(_SPLIT_SALT[split], tf.int64)])
    return tf.random.experimental.stateless_fold_in(base, tf.cast(example_index, tf.int64))


@tf.autograph.experimental.do_not_convert
def file_index(example_index, num_files: int, seed, shuffle: bool) -> tf.Tensor:
    """Which of `num_files` files example `example_index` reads: a new permutation per epoch.

    Args:
        example_index: int64 scalar, the global example index.
        num_files: number of files N (Python int).
        seed: the data seed (scalar).
        shuffle: if False, example i reads file i mod N.

    Returns:
        int64 scalar in [0, N).
    """
    example_index = tf.cast(example_index, tf.int64)
    position = example_index % num_files
    if not shuffle or num_files == 1:
        return position
    epoch = example_index // num_files
    permutation_seed = tf.stack([tf.cast(seed, tf.int64), epoch])
    return tf.random.experimental.index_shuffle(
        position, seed=permutation_seed, max_index=tf.constant(num_files - 1, tf.int64)
    )


@tf.autograph.experimental.do_not_convert
def crop_and_resize(
    image: tf.Tensor,
    seed,
    image_size: int,
    crop_mode: str = "multiscale",
    crop_min_fraction: float = 0.25,
    crop_max_fraction: float = 1.0,
    crop_max_aspect: float = 1.0,
) -> tf.Tensor:
    """Cuts a square (or, with crop_max_aspect > 1, a rectangle of the same area) out of `image`
    and resizes it to image_size² (paper Sec. 4).

    Down-sampling uses area averaging (the paper's choice of "Averaging" down-sampling, Sec. 4.1),
    up-sampling antialiased bilinear.

    Args:
        image: [height, width, 3] image of any real dtype.
        seed: int32/int64 [2] seed of the crop position and size.
        image_size: output side (Python int).
        crop_mode: "multiscale", "native" or "resize" (see DataConfig).
        crop_min_fraction: smallest crop side / short side ("multiscale").
        crop_max_fraction: largest crop side / short side ("multiscale").
        crop_max_aspect: largest width/height (or height/width) ratio of a "multiscale" crop.

    Returns:
        float32 [image_size, image_size, 3], same value range as the input.
    """
    image = tf.convert_to_tensor(image)
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    short_side = tf.minimum(height, width)
    size_seed, row_seed, column_seed = tf.unstack(
        tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    )
    crop_height = crop_width = None
    if crop_mode == "multiscale":
        fraction = tf.random.stateless_uniform([], size_seed, crop_min_fraction, crop_max_fraction)
        side = tf.cast(tf.math.floor(fraction * tf.cast(short_side, tf.float32)), tf.int32)
        side = tf.clip_by_value(side, 1, short_side)
        if crop_max_aspect > 1.0:
            # A seed derived from size_seed, so square crops (the default) keep their stream.
            log_limit = math.log(crop_max_aspect)
            log_aspect = tf.random.stateless_uniform(
                [], tf.random.experimental.stateless_fold_in(size_seed, 1), -log_limit, log_limit
            )
            root = tf.exp(0.5 * log_aspect)
            crop_width = tf.clip_by_value(
                tf.cast(tf.math.round(tf.cast(side, tf.float32) * root), tf.int32), 1, width
            )
            crop_height = tf.clip_by_value(
                tf.cast(tf.math.round(tf.cast(side, tf.float32) / root), tf.int32), 1, height
            )
    elif crop_mode == "native":
        side = tf.minimum(image_size, short_side)
    elif crop_mode == "resize":
        side = short_side
    else:
        raise ValueError(f"crop_mode must be 'multiscale', 'native' or 'resize', got {crop_mode!r}.")
    if crop_height is None:
        crop_height = crop_width = side
    if crop_mode == "resize":
        top, left = (height - side) // 2, (width - side) // 2
    else:
        top = tf.random.stateless_uniform(
            [], row_seed, minval=0, maxval=height - crop_height + 1, dtype=tf.int32
        )
        left = tf.random.stateless_uniform(
            [], column_seed, minval=0, maxval=width - crop_width + 1, dtype=tf.int32
        )
    crop = tf.cast(image[top : top + crop_height, left : left + crop_width], tf.float32)
    resized = tf.cond(
        tf.minimum(crop_height, crop_width) >= image_size,
        lambda: tf.image.resize(crop, [image_size, image_size], method="area"),
        lambda: tf.image.resize(crop, [image_size, image_size], method="bilinear", antialias=True),
    )
    return tf.ensure_shape(resized, [image_size, image_size, 3])


@tf.autograph.experimental.do_not_convert
def make_example(encoded_image: tf.Tensor, example_index: tf.Tensor, config: DataConfig) -> dict:
    """Decodes one image and turns it into the training example number `example_index`.

    Args:
        encoded_image: scalar string, a JPEG/PNG/WebP/... file's bytes.
        example_index: int64 scalar, the global example index (its seeds derive from it).
        config: the DataConfig.

    Returns:
        {"image": float32 [S, S, 3] in [-1, 1], "mask": float32 [S, S, 1], 1 = hole}.
    """
    seed = example_seed(config.seed, config.split, example_index)
    crop_seed, flip_seed, mask_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    image = tf.io.decode_image(encoded_image, channels=3, expand_animations=False)
    image = tf.ensure_shape(image, [None, None, 3])
    image = crop_and_resize(
        image,
        crop_seed,
        config.image_size,
        config.resolved_crop_mode,
        config.crop_min_fraction,
        config.crop_max_fraction,
        config.crop_max_aspect,
    )
    image = tf.cond(
        tf.random.stateless_uniform([], flip_seed) < 0.5,
        lambda: tf.reverse(image, axis=[1]),
        lambda: image,
    )
    image = tf.clip_by_value(to_network_range(image), -1.0, 1.0)
    mask = random_mask(mask_seed, config.image_size, config.image_size, config.mask)
    return {"image": image, "mask": mask}


# ----------------------------------------------------------------------------------------------
# Sources.


def _image_folder(config: DataConfig) -> str:
    if config.data_dir is None:
        if config.dataset == "places2":
            raise ValueError(
                "DATASET=places2 needs DATA_DIR (DataConfig.data_dir) pointing at a folder of the "
                "high-resolution Places365-Standard images (train_large_places365standard.tar "
                "unpacked to data_large/, val_large.tar to val_large/). TFDS only provides the "
                "256x256 Places365 images (places365_small), which cannot give the paper's random "
                "512x512 crops."
            )
        raise ValueError(
            "DATASET=folder needs DATA_DIR (DataConfig.data_dir): a folder of "
            ".jpg/.jpeg/.png/.webp images."
        )
    if config.dataset == "places2":
        subfolder = os.path.join(config.data_dir, _PLACES2_SUBFOLDERS[config.split])
        if os.path.isdir(subfolder):
            return subfolder
    return config.data_dir


def _folder_examples(config: DataConfig, start_example: int) -> tf.data.Dataset:
    paths = _readable_images(_image_folder(config), config.validate_files)
    logging.info("%s %s: %d images.", config.dataset, config.split, len(paths))
    path_table = tf.constant(paths)
    num_files = len(paths)

    def load(example_index):
        index = file_index(example_index, num_files, config.seed, config.shuffle)
        return make_example(tf.io.read_file(path_table[index]), example_index, config)

    indices = tf.data.Dataset.counter(start=start_example, dtype=tf.int64)
    return indices.map(load, num_parallel_calls=config.num_parallel_calls)


def _prepare_tfds_builder(config: DataConfig):
    source = _TFDS_SOURCES[config.dataset]
    builder = tfds.builder(source.name, data_dir=config.data_dir)
    manual_dir = os.path.join(os.fspath(builder.data_dir_root), "downloads", "manual")
    try:
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
    except Exception as error:
        if config.dataset == "celeba_hq" and not os.path.exists(
            os.path.join(manual_dir, CELEBA_HQ_ARCHIVE)
        ):
            raise ManualDownloadRequiredError(
                celeba_hq_manual_download_message(manual_dir, config.data_dir)
            ) from error
        raise RuntimeError(
            f"TFDS could not prepare {source.name!r} in {os.fspath(builder.data_dir_root)!r} "
            f"({error}). Check DATA_DIR (DataConfig.data_dir) and network access, or use "
            "DATASET=folder with local images."
        ) from error
    return builder


def _tfds_examples(config: DataConfig, start_example: int) -> tf.data.Dataset:
    source = _TFDS_SOURCES[config.dataset]
    builder = _prepare_tfds_builder(config)
    # Keep every image encoded: skipping (on resume) and shuffling then move bytes, not pixels.
    decoders = {
        name: tfds.decode.SkipDecoding()
        for name, feature in builder.info.features.items()
        if isinstance(feature, tfds.features.Image)
    }
    read_config = tfds.ReadConfig(shuffle_seed=config.seed, shuffle_reshuffle_each_iteration=True)
    records = builder.as_dataset(
        split=source.splits[config.split],
        shuffle_files=config.shuffle,
        read_config=read_config,
        decoders=decoders,
    )
    images = records.map(
        lambda record: record[source.image_feature], num_parallel_calls=tf.data.AUTOTUNE
    ).repeat()
    if config.shuffle:
        images = images.shuffle(config.shuffle_buffer_size, seed=config.seed)
    if start_example:
        images = images.skip(start_example)  # Reads (does not decode) start_example records.
    indexed = images.enumerate(start=start_example)
    return indexed.map(
        lambda index, encoded: make_example(encoded, index, config),
        num_parallel_calls=config.num_parallel_calls,
    )


def make_dataset(config: DataConfig, start_example: int = 0) -> tf.data.Dataset:
    """The infinite stream of training batches (paper Sec. 4), deterministic and resumable.

    Args:
        config: the DataConfig.
        start_example: global index of the first example (examples seen so far by a resumed run,
            e.g. step * global_batch_size). The stream equals a fresh stream after start_example
            examples.

    Returns:
        A `tf.data.Dataset` of {"image": float32 [B, S, S, 3] in [-1, 1], "mask": float32 [B, S, S, 1]}
        with B = config.global_batch_size and S = config.image_size.

    Raises:
        ValueError: bad arguments, places2/folder without data_dir, or a folder without readable images.
        FileNotFoundError: data_dir does not exist.
        ManualDownloadRequiredError: CelebA-HQ's archive has not been downloaded by hand.
    """
    if not isinstance(start_example, int) or isinstance(start_example, bool) or start_example < 0:
        raise ValueError(f"start_example must be a non-negative integer, got {start_example!r}.")
    if config.dataset in _TFDS_SOURCES:
        examples = _tfds_examples(config, start_example)
    else:
        examples = _folder_examples(config, start_example)
    batches = examples.batch(config.global_batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return batches.with_options(options)
