"""A CIFAR-style pre-activation ResNet with its four stages marked as `Capture` points.

Architecture
------------
He, Zhang, Ren & Sun, "Identity Mappings in Deep Residual Networks" (ECCV 2016): every
residual block normalises and rectifies *before* each convolution, and the skip path carries
the residual stream untouched,

    a = ReLU(BN(x)),      y = x' + Conv3x3(ReLU(BN(Conv3x3_s(a)))),

where x' = x, or x' = Conv1x1_s(a) when the block changes the width or strides by s = 2.

The network is a 3x3 stem convolution of ``width`` channels followed by four stages of
``blocks_per_stage`` blocks each, of widths w, 2w, 4w, 8w and strides 1, 2, 2, 2 (for 32x32
inputs: 32x32, 16x16, 8x8 and 4x4 maps; for 28x28: 28, 14, 7, 4). The output of stage k
(the residual stream, before the next normalisation) passes through a `Capture` layer named
``h<k>``: these are the representations T_1..T_4 whose information Darlow & Storkey ("What
information does a ResNet compress?", 2020) track during training, and
`tfib.layers.activation_model(model)` returns all four in one forward pass.

Depth counts the weighted layers on the main path, as ResNet-18 does: depth = 2 + 2 * (total
number of blocks); ``DEPTHS`` maps 10, 18 and 34 to their blocks per stage.

Inputs are float images in [0, 1] of shape [H, W, C] (H, W >= 8): `tfib.data.to_float` of
the uint8 images `tfib.data.load` gives; anything else is refused by the first layer,
`tfib.layers.InputRange`. The classifier returns
logits (no softmax). Every layer is a built-in Keras 3 layer or `Capture`, so models save and
load as ``.keras`` files with no custom objects beyond tfib's registered ones.
"""
from typing import Optional, Sequence, Tuple, Union

import keras

from tfib.layers.capture import Capture
from tfib.layers.input_range import InputRange

NUM_STAGES = 4
CAPTURE_NAMES = tuple(f"h{stage}" for stage in range(1, NUM_STAGES + 1))
DEPTHS = {10: (1, 1, 1, 1), 18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
MIN_SPATIAL = 2 ** (NUM_STAGES - 1)
# Moving averages of the batch statistics forget with weight 0.1 per step (PyTorch's default,
# which CIFAR ResNets are usually trained with): Keras's 0.99 lags too far behind the weights
# early in training, when the networks saved at the first epochs are evaluated.
BATCH_NORM_MOMENTUM = 0.9


def stage_blocks(depth: int = 18, blocks_per_stage: Union[None, int, Sequence[int]] = None
                 ) -> Tuple[int, ...]:
  """Blocks in each of the four stages, from ``depth`` or an explicit ``blocks_per_stage``."""
  if blocks_per_stage is None:
    if depth not in DEPTHS:
      raise ValueError(f"Unknown ResNet depth {depth}; choose one of {sorted(DEPTHS)} or "
                       "give blocks_per_stage.")
    return DEPTHS[depth]
  if isinstance(blocks_per_stage, int):
    blocks_per_stage = (blocks_per_stage,) * NUM_STAGES
  blocks = tuple(int(b) for b in blocks_per_stage)
  if len(blocks) != NUM_STAGES or min(blocks) < 1:
    raise ValueError(f"blocks_per_stage must be a positive int or {NUM_STAGES} positive ints, "
                     f"got {blocks_per_stage!r}.")
  return blocks


def check_input_shape(input_shape) -> Tuple[int, int, int]:
  """``input_shape`` as (H, W, C), or a ValueError saying what the ResNet accepts."""
  shape = tuple(input_shape)
  if len(shape) != 3 or any(d is None or int(d) < 1 for d in shape):
    raise ValueError(f"The ResNet takes images [H, W, C]; got input shape {shape}.")
  if min(shape[:2]) < MIN_SPATIAL:
    raise ValueError(f"The ResNet's {NUM_STAGES - 1} stride-2 stages need images of at least "
                     f"{MIN_SPATIAL}x{MIN_SPATIAL}; got {shape[0]}x{shape[1]}.")
  return tuple(int(d) for d in shape)


class _Builder:
  """Creates uniquely named, separately seeded layers for one model."""

  def __init__(self, seed: int, sync_batch_norm: bool, prefix: str = ""):
    self.seed = int(seed)
    self.sync_batch_norm = bool(sync_batch_norm)
    self.prefix = prefix
    self.count = 0

  def _initializer(self):
    self.count += 1
    return keras.initializers.HeNormal(seed=self.seed * 100_003 + self.count)

  def conv(self, x, filters, kernel_size, strides, name):
    return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                               use_bias=False, kernel_initializer=self._initializer(),
                               name=self.prefix + name)(x)

  def preactivate(self, x, name):
    x = keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM,
                                        synchronized=self.sync_batch_norm,
                                        name=self.prefix + name + "_bn")(x)
    return keras.layers.ReLU(name=self.prefix + name + "_relu")(x)

  def dense(self, x, units, name):
    return keras.layers.Dense(units, kernel_initializer=keras.initializers.GlorotUniform(
        seed=self.seed * 100_003 + 99_999), name=name)(x)


def _residual_block(build: _Builder, x, filters: int, strides: int, name: str,
                    upsample: int = 1, crop_to: Optional[Tuple[int, int]] = None):
  """One pre-activation block; ``upsample``>1 makes it the decoder's mirror of a stride."""
  in_filters = x.shape[-1]
  activated = build.preactivate(x, name + "_pre")
  if upsample > 1:
    activated = keras.layers.UpSampling2D(upsample, name=build.prefix + name + "_up")(activated)
    if crop_to is not None and tuple(activated.shape[1:3]) != tuple(crop_to):
      extra = (activated.shape[1] - crop_to[0], activated.shape[2] - crop_to[1])
      activated = keras.layers.Cropping2D(((0, extra[0]), (0, extra[1])),
                                          name=build.prefix + name + "_crop")(activated)
  if strides == 1 and upsample == 1 and in_filters == filters:
    shortcut = x
  else:
    shortcut = build.conv(activated, filters, 1, strides, name + "_shortcut")
  y = build.conv(activated, filters, 3, strides, name + "_conv1")
  y = build.preactivate(y, name + "_mid")
  y = build.conv(y, filters, 3, 1, name + "_conv2")
  return keras.layers.Add(name=build.prefix + name + "_add")([shortcut, y])


def resnet_encoder_features(inputs, width: int, blocks: Sequence[int], build: _Builder):
  """Stem and four stages on ``inputs`` (images in [0, 1], checked by `InputRange`);
  returns the captured stage outputs h1..h4."""
  x = InputRange(0.0, 1.0, name=f"{build.prefix}image_range")(inputs)
  x = build.conv(x, width, 3, 1, "stem_conv")
  captured = []
  for stage, num_blocks in enumerate(blocks, start=1):
    filters = width * 2 ** (stage - 1)
    for block in range(num_blocks):
      strides = 2 if (stage > 1 and block == 0) else 1
      x = _residual_block(build, x, filters, strides, f"stage{stage}_block{block + 1}")
    x = Capture(name=CAPTURE_NAMES[stage - 1])(x)
    captured.append(x)
  return captured


def resnet_classifier(input_shape=(32, 32, 3), num_classes: int = 10, width: int = 64,
                      depth: int = 18, blocks_per_stage=None, sync_batch_norm: bool = False,
                      seed: int = 0, name: Optional[str] = None) -> keras.Model:
  """The pre-activation ResNet with a classifier head: BN, ReLU, global average, logits.

  Args:
    input_shape: [H, W, C] of the float images in [0, 1], e.g. (32, 32, 3) or (28, 28, 1).
    num_classes: units of the final Dense layer ``logits`` (the model outputs logits).
    width: channels of the stem and the first stage; stages have w, 2w, 4w, 8w.
    depth: 10, 18 or 34 (see ``DEPTHS``), unless ``blocks_per_stage`` is given.
    blocks_per_stage: an int or four ints, overriding ``depth``.
    sync_batch_norm: batch statistics over all replicas of a tf.distribute strategy, so the
      training maths does not depend on the number of devices (TensorFlow backend).
    seed: seed of the initialisation (each layer draws from its own derived seed).
  """
  shape = check_input_shape(input_shape)
  if width < 1 or num_classes < 2:
    raise ValueError(f"width must be >= 1 and num_classes >= 2; got {width}, {num_classes}.")
  blocks = stage_blocks(depth, blocks_per_stage)
  build = _Builder(seed, sync_batch_norm)
  inputs = keras.Input(shape, name="image")
  h4 = resnet_encoder_features(inputs, width, blocks, build)[-1]
  x = build.preactivate(h4, "head")
  x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
  logits = build.dense(x, num_classes, "logits")
  depth_label = 2 + 2 * sum(blocks)
  return keras.Model(inputs, logits, name=name or f"resnet{depth_label}_w{width}_classifier")
