"""Image data for `tfib-train`: train/eval splits and the tf.data pipelines that feed them.

Splits. tensorflow-datasets names use their "train" and "test" splits. Built-in ``mnist5k``
has one class-ordered split: it is shuffled with a fixed seed (the same for every run, so runs
with different ``--seed`` see the same split) and its last ``BUILTIN_EVAL_FRACTION`` held out.
``max_train_examples``/``max_eval_examples`` take a fixed random subset.

Order and augmentation are pure functions of (seed, epoch): epoch e visits the training
images in the permutation of `tfib.data.epoch_order.permutation` (seed, e), and each image's
augmentation uses stateless random ops seeded by ``numpy.random.default_rng([seed, e, 1])``. A resumed run therefore
sees exactly the batches the uninterrupted run would have seen, with no RNG state to save.

Pipeline. Images stay uint8 in memory; each epoch maps the permuted indices to images
(gather), converts them to float32 in [0, 1], augments them in parallel (pad by H/8 and crop
back at random; mirror left-right only for natural images, never for digits), batches with a
fixed batch size (a partial last batch is dropped, so every step has the same shape) and
prefetches, so the CPU prepares the next batches while the step runs. Evaluation batches are
converted once and cached.
"""
import dataclasses
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from tfib import data as tfib_data
from tfib.data import epoch_order as run_order

__all__ = ["ImageData", "IncompatibleDatasetError", "eval_dataset", "load_image_data",
           "train_dataset"]

BUILTIN_EVAL_FRACTION = 0.2
SPLIT_SEED = 20200101  # Fixed: the split of built-in data is the same for every run.
MIRRORED_DATASETS = ("cifar10", "cinic10")  # Natural images: left-right flips keep the label.


class IncompatibleDatasetError(ValueError):
  """The dataset's inputs are not images the ResNet takes."""


@dataclasses.dataclass
class ImageData:
  name: str
  train_images: np.ndarray  # uint8 [N, H, W, C]
  train_labels: np.ndarray  # int32 [N]
  eval_images: np.ndarray
  eval_labels: np.ndarray
  eval_split: str
  num_classes: int

  @property
  def image_shape(self) -> Tuple[int, int, int]:
    return tuple(int(d) for d in self.train_images.shape[1:])

  def facts(self):
    """What the manifest records about the data."""
    return {"name": self.name, "image_shape": list(self.image_shape),
            "num_classes": self.num_classes, "train_examples": len(self.train_images),
            "eval_examples": len(self.eval_images), "eval_split": self.eval_split}


def _as_images(name, images):
  images = np.asarray(images)
  if images.ndim == 3:
    images = images[..., np.newaxis]
  if images.ndim != 4 or images.dtype != np.uint8:
    raise IncompatibleDatasetError(
        f"Dataset {name!r} has inputs of shape {images.shape[1:]} ({images.dtype}); the ResNet "
        "of tfib-train takes uint8 images [H, W, C], e.g. mnist5k, mnist, fashion_mnist, "
        "cifar10 or cinic10.")
  return images


def _subset(images, labels, limit, tag):
  if limit and limit < len(images):
    keep = np.sort(np.random.default_rng([SPLIT_SEED, tag]).permutation(len(images))[:limit])
    return images[keep], labels[keep]
  return images, labels


def load_image_data(name: str, data_dir: Optional[str] = None, max_train_examples: int = 0,
                    max_eval_examples: int = 0) -> ImageData:
  """Train and eval images of ``name`` through `tfib.data.load` (see the module docstring).

  Raises ValueError for an unknown name, IncompatibleDatasetError for data that are not
  images and `tfib.data.DatasetUnavailableError` when tensorflow-datasets cannot get them.
  """
  if name in tfib_data.BUILTIN:
    images, labels = tfib_data.load(name, "all")
    images = _as_images(name, images)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    num_eval = int(round(BUILTIN_EVAL_FRACTION * len(images)))
    train, held_out = order[num_eval:], order[:num_eval]
    train_images, train_labels = images[train], labels[train]
    eval_images, eval_labels = images[held_out], labels[held_out]
    eval_split = f"held-out {BUILTIN_EVAL_FRACTION:.0%} of 'all'"
  else:
    train_images, train_labels = tfib_data.load(name, "train", data_dir)
    eval_images, eval_labels = tfib_data.load(name, "test", data_dir)
    train_images, eval_images = _as_images(name, train_images), _as_images(name, eval_images)
    eval_split = "test"
  train_images, train_labels = _subset(train_images, train_labels, max_train_examples, 1)
  eval_images, eval_labels = _subset(eval_images, eval_labels, max_eval_examples, 2)
  num_classes = int(max(train_labels.max(), eval_labels.max())) + 1
  return ImageData(name, train_images, train_labels.astype(np.int32), eval_images,
                   eval_labels.astype(np.int32), eval_split, max(num_classes, 2))


def steps_per_epoch(num_examples: int, global_batch_size: int) -> int:
  return num_examples // global_batch_size


def epoch_order(num_examples: int, seed: int, epoch: int):
  """(permutation [N], augmentation seeds [N, 2] int32) of the 1-based ``epoch``."""
  order = run_order.permutation(num_examples, seed, epoch)
  seeds = np.random.default_rng([int(seed), int(epoch), 1]).integers(
      0, 2 ** 31 - 1, size=(num_examples, 2), dtype=np.int64)
  return order.astype(np.int64), seeds.astype(np.int32)


def _to_float(images):
  """`tfib.data.to_float` inside the tf.data pipeline."""
  return tf.cast(images, tf.float32) / 255.0


def _augment(image, seed, mirror: bool):
  height, width = image.shape[0], image.shape[1]
  pad_h, pad_w = max(1, height // 8), max(1, width // 8)
  padded = tf.pad(image, [[pad_h, pad_h], [pad_w, pad_w], [0, 0]])
  image = tf.image.stateless_random_crop(padded, image.shape, seed=seed)
  if mirror:
    image = tf.image.stateless_random_flip_left_right(
        image, seed=tf.stack([seed[1], seed[0]]))
  return image


def train_dataset(images: tf.Tensor, labels: tf.Tensor, epoch: int, seed: int,
                  batch_size: int, augment: bool, mirror: bool,
                  input_context: Optional[tf.distribute.InputContext] = None):
  """Batches of epoch ``epoch`` (1-based) for one input pipeline: ([B, H, W, C], [B]).

  ``images``/``labels`` are the whole training set as tensors. ``batch_size`` is the batch
  of one replica when an ``input_context`` is given (tf.distribute), else the global batch.
  With several input pipelines (workers) each takes every n-th example of the epoch's order.
  """
  num_examples = int(images.shape[0])
  global_batch = (batch_size * input_context.num_replicas_in_sync if input_context
                  else batch_size)
  used = steps_per_epoch(num_examples, global_batch) * global_batch
  order, seeds = epoch_order(num_examples, seed, epoch)
  order, seeds = order[:used], seeds[:used]
  if input_context and input_context.num_input_pipelines > 1:
    shard = slice(input_context.input_pipeline_id, None, input_context.num_input_pipelines)
    order, seeds = order[shard], seeds[shard]

  def example(index, example_seed):
    image = _to_float(tf.gather(images, index))
    if augment:
      image = _augment(image, example_seed, mirror)
    return image, tf.gather(labels, index)

  dataset = tf.data.Dataset.from_tensor_slices((order, seeds))
  dataset = dataset.map(example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def eval_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int):
  """Evaluation batches in a fixed order, converted once and cached; the last may be short."""
  dataset = tf.data.Dataset.from_tensor_slices((images, labels))
  dataset = dataset.batch(batch_size).map(lambda x, y: (_to_float(x), y),
                                          num_parallel_calls=tf.data.AUTOTUNE)
  options = tf.data.Options()
  options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
  return dataset.cache().prefetch(tf.data.AUTOTUNE).with_options(options)
