"""A ResNet autoencoder: the classifier's encoder, and a decoder that mirrors it to pixels.

Architecture
------------
The encoder is `tfib.models.resnet`'s stem and four pre-activation stages, with the same
`Capture` points ``h1``..``h4`` (so the same analysis runs on a classifier and on an
autoencoder, as Darlow & Storkey compare them). The decoder walks the stages back: decoder
stage k (k = 4, 3, 2, 1) has the width w 2^(k-1) and the spatial size of encoder stage k, and
its first block upsamples by 2 (nearest neighbour, then the block's convolutions) where the
encoder strided, cropping back to the encoder's size when that was odd (28 -> 14 -> 7 -> 4 is
undone as 4 -> 8 -> 7 -> 14 -> 28). A final BN, ReLU, 3x3 convolution to C channels and a
sigmoid give the reconstruction x_hat in [0, 1], named ``reconstruction``.

Training minimises the reconstruction error on pixels, the mean squared error

    L = 1/(N H W C) sum_i || x_i - x_hat_i ||^2,     pixels scaled to [0, 1].

There is no narrower bottleneck than h4 (8w channels at H/8 x W/8): what the encoder keeps is
whatever the training pressure makes it keep, which is the point of the study.
"""
from typing import Optional

import keras

from tfib.models import resnet


def resnet_autoencoder(input_shape=(32, 32, 3), width: int = 64, depth: int = 18,
                       blocks_per_stage=None, sync_batch_norm: bool = False, seed: int = 0,
                       name: Optional[str] = None) -> keras.Model:
  """The ResNet encoder with a mirrored decoder; the output has the input's shape.

  Arguments are those of `tfib.models.resnet_classifier` (without the classes).
  """
  shape = resnet.check_input_shape(input_shape)
  if width < 1:
    raise ValueError(f"width must be >= 1; got {width}.")
  blocks = resnet.stage_blocks(depth, blocks_per_stage)
  build = resnet._Builder(seed, sync_batch_norm)  # pylint: disable=protected-access
  inputs = keras.Input(shape, name="image")
  captured = resnet.resnet_encoder_features(inputs, width, blocks, build)
  stage_sizes = [tuple(h.shape[1:3]) for h in captured]
  x = captured[-1]
  for stage in range(resnet.NUM_STAGES, 0, -1):
    filters = width * 2 ** (stage - 1)
    for block in range(blocks[stage - 1]):
      upsample = 2 if (stage < resnet.NUM_STAGES and block == 0) else 1
      x = resnet._residual_block(  # pylint: disable=protected-access
          build, x, filters, 1, f"decoder{stage}_block{block + 1}", upsample=upsample,
          crop_to=stage_sizes[stage - 1])
  x = build.preactivate(x, "decoder_out")
  x = build.conv(x, shape[-1], 3, 1, "decoder_out_conv")
  outputs = keras.layers.Activation("sigmoid", name="reconstruction")(x)
  depth_label = 2 + 2 * sum(blocks)
  return keras.Model(inputs, outputs, name=name or f"resnet{depth_label}_w{width}_autoencoder")
