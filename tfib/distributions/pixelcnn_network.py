"""The PixelCNN++ network: two causal streams in a U-Net over a downsampling hierarchy.

Mathematical details
--------------------
Salimans et al. (2017, Fig. 2). With x in [-1, 1] and a constant channel of ones appended
(so the network can tell the image from the zero padding):

    u  = down_shift(conv_ds[2,3](x))                                 rows above
    ul = down_shift(conv_ds[1,3](x)) + right_shift(conv_drs[2,1](x)) above and to the left

Down pass: at each of L levels, ``num_resnet`` gated residual blocks
(u = block(u); ul = block(ul, aux=u)), then (but at the last level) stride-2 shifted
convolutions halve the resolution. Every intermediate u, ul is kept. Up pass, from the
coarsest level: blocks u = block(u, aux=u_kept), ul = block(ul, aux=[u, ul_kept]) (the
U-Net shortcuts, ``num_resnet`` blocks at the coarsest level and ``num_resnet + 1`` at the
others, so every kept tensor is used once), then stride-2 shifted transposed convolutions.
Output: nin(elu(ul)), the discretized logistic mixture parameters of every pixel. Every
gated block adds its conditioning term (see `conditioning.py`).

The output at pixel (r, c) depends only on pixels before it in raster order; at row r it
depends on input rows <= r only, which makes band evaluation (`forward(..., tops=...)`)
exact. Height and width must be multiples of 2^(L-1) (L = ``num_hierarchies``): 28x28 works
with L <= 3, 32x32 with L <= 6.

Mixed precision (Micikevicius et al. 2018; Keras' dtype policies): with
``dtype="mixed_bfloat16"`` the weights stay float32 and the streams are computed in
bfloat16 (each layer casts its kernel to its input's dtype); the conditioning network runs
in float32 and its maps are cast, and the mixture parameters are returned in float32, so the
likelihood is evaluated in float32. bfloat16 keeps float32's exponent range, so no loss
scaling is needed; float16 would need it, and is refused.
"""
import keras
import tensorflow as tf

from tfib.distributions import discretized_logistic_mixture as dlm
from tfib.distributions import shifted_convolutions as sc
from tfib.distributions.conditioning import ConditioningNetwork
from tfib.distributions.gated_resnet import GatedResidualBlock
from tfib.distributions.row_cache import RowCache

__all__ = ["PixelCNNNetwork", "check_image_shape"]


def check_image_shape(image_shape, num_hierarchies):
  """Raises ValueError unless [H, W, C] can be halved num_hierarchies - 1 times."""
  image_shape = tuple(image_shape)
  if len(image_shape) != 3 or any(int(d) < 1 for d in image_shape):
    raise ValueError(f"image_shape must be [height, width, channels] with positive sizes, got "
                     f"{image_shape}.")
  if num_hierarchies < 1:
    raise ValueError(f"num_hierarchies must be >= 1, got {num_hierarchies}.")
  factor = 2 ** (num_hierarchies - 1)
  height, width, _ = image_shape
  if height % factor or width % factor:
    works = [l for l in range(1, 8) if height % 2 ** (l - 1) == 0 and width % 2 ** (l - 1) == 0]
    raise ValueError(
        f"a {height}x{width} image cannot be halved {num_hierarchies - 1} times: with "
        f"num_hierarchies={num_hierarchies} height and width must be multiples of {factor}. "
        f"For {height}x{width} use num_hierarchies <= {max(works)}, or pad the image.")


@keras.saving.register_keras_serializable(package="tfib")
class PixelCNNNetwork(keras.layers.Layer):
  """Parameters of a (conditional) PixelCNN++ for images of ``image_shape`` [H, W, C].

  ``call(x)`` or ``call([x, h])`` with x [B, H, W, C] in [-1, 1] returns [B, H, W, P], P the
  mixture parameters per pixel (`discretized_logistic_mixture.num_params`), in float32.
  ``h`` has shape [B, *conditional_shape]: [B, D] (global) or [B, h, w, D] (feature map).
  ``dtype``: a Keras dtype policy, "float32" (default) or "mixed_bfloat16" (see the module
  docstring).
  """

  def __init__(self, image_shape, conditional_shape=None, num_resnet=5, num_hierarchies=3,
               num_filters=160, num_logistic_mix=10, dropout_p=0.5, use_weight_norm=False,
               conditioning_filters=None, **kwargs):
    super().__init__(**kwargs)
    if self.dtype_policy.compute_dtype not in ("float32", "bfloat16"):
      raise ValueError(f"dtype policy {self.dtype_policy.name!r}: PixelCNNNetwork computes in "
                       "float32 or bfloat16 (\"mixed_bfloat16\"); float16 would need loss "
                       "scaling, which PixelCNNTrainer does not do.")
    check_image_shape(image_shape, num_hierarchies)
    self.image_shape = tuple(int(d) for d in image_shape)
    self.conditional_shape = (None if conditional_shape is None
                              else tuple(int(d) for d in conditional_shape))
    self.num_resnet = int(num_resnet)
    self.num_hierarchies = int(num_hierarchies)
    self.num_filters = int(num_filters)
    self.num_logistic_mix = int(num_logistic_mix)
    self.dropout_p = float(dropout_p)
    self.use_weight_norm = bool(use_weight_norm)
    self.conditioning_filters = int(conditioning_filters or num_filters)
    if self.num_resnet < 1:
      raise ValueError(f"num_resnet must be >= 1, got {num_resnet}.")
    height, width, channels = self.image_shape
    self.level_sizes = [(height >> l, width >> l) for l in range(self.num_hierarchies)]
    f, wn = self.num_filters, self.use_weight_norm

    self.conditioning = None
    cond_channels = None
    if self.conditional_shape is not None:
      self.conditioning = ConditioningNetwork(self.conditional_shape, self.level_sizes,
                                              self.conditioning_filters, name="conditioning")
      cond_channels = self.conditioning.output_channels

    def block(stream, aux, level, tag):
      layer = GatedResidualBlock(f, stream, aux, cond_channels, self.dropout_p, wn,
                                 name=f"{tag}_{stream}_{len(self._blocks)}")
      self._blocks.append(layer)
      self._block_levels.append(level)
      return layer

    self._blocks, self._block_levels = [], []
    self.init_u = sc.DownShiftedConv2D(f, (2, 3), use_weight_norm=wn, name="init_u")
    self.init_ul_up = sc.DownShiftedConv2D(f, (1, 3), use_weight_norm=wn, name="init_ul_up")
    self.init_ul_left = sc.DownRightShiftedConv2D(f, (2, 1), use_weight_norm=wn,
                                                  name="init_ul_left")
    self.down, self.downsample = [], []
    for level in range(self.num_hierarchies):
      self.down.append([(block("down", None, level, "dn"), block("down_right", f, level, "dn"))
                        for _ in range(self.num_resnet)])
      if level < self.num_hierarchies - 1:
        self.downsample.append((
            sc.DownShiftedConv2D(f, (2, 3), strides=2, use_weight_norm=wn, name=f"ds_u{level}"),
            sc.DownRightShiftedConv2D(f, (2, 2), strides=2, use_weight_norm=wn,
                                      name=f"ds_ul{level}")))
    self.up, self.upsample = [], []
    for level in reversed(range(self.num_hierarchies)):
      count = self.num_resnet + (level < self.num_hierarchies - 1)
      self.up.append([(block("down", f, level, "up"), block("down_right", 2 * f, level, "up"))
                      for _ in range(count)])
      if level > 0:
        self.upsample.append((
            sc.DownShiftedConv2DTranspose(f, use_weight_norm=wn, name=f"us_u{level}"),
            sc.DownRightShiftedConv2DTranspose(f, use_weight_norm=wn, name=f"us_ul{level}")))
    self.output_nin = sc.NetworkInNetwork(dlm.num_params(channels, self.num_logistic_mix),
                                          use_weight_norm=wn, name="output")

  @property
  def band_height(self) -> int:
    """Rows per band in band evaluation: 2^(L-1), one row at the coarsest level."""
    return 2 ** (self.num_hierarchies - 1)

  @property
  def num_params(self) -> int:
    return dlm.num_params(self.image_shape[-1], self.num_logistic_mix)

  def build(self, input_shape=None):
    f, channels = self.num_filters, self.image_shape[-1]
    self.init_u.build((None, None, None, channels + 1))
    self.init_ul_up.build((None, None, None, channels + 1))
    self.init_ul_left.build((None, None, None, channels + 1))
    for layer in self._blocks:
      layer.build()
    for pair in self.downsample + self.upsample:
      for layer in pair:
        layer.build((None, None, None, f))
    self.output_nin.build((None, None, None, f))
    if self.conditioning is not None:
      self.conditioning.build()
    self.built = True

  def weight_normed_layers(self):
    """Every layer with a weight-normalised kernel, in no particular order."""
    if not self.use_weight_norm:
      return []
    layers = [self.init_u, self.init_ul_up, self.init_ul_left, self.output_nin]
    for pair in self.downsample + self.upsample:
      layers.extend(pair)
    for block in self._blocks:
      layers.extend(layer for layer in (block.conv1, block.conv2, block.aux_nin,
                                        block.condition_nin) if layer is not None)
    return layers

  def condition(self, h):
    """Per-block additive terms from h [B, *conditional_shape] (None when unconditional)."""
    if self.conditioning is None:
      return None
    maps = [tf.cast(m, self.compute_dtype)
            for m in self.conditioning.call(tf.cast(h, tf.float32))]
    return [b.project_condition(maps[l]) for b, l in zip(self._blocks, self._block_levels)]

  def slice_terms(self, terms, row0, height=None):
    """Per-block terms for the rows [row0, row0 + height) (height: band_height by default).

    ``row0`` is a multiple of band_height (a tensor is fine); at level l the rows
    [row0 / 2^l, row0 / 2^l + ceil(height / 2^l)) are taken.
    """
    if terms is None or len(self.conditional_shape) == 1:
      return terms
    height = self.band_height if height is None else int(height)
    out = []
    for term, level in zip(terms, self._block_levels):
      rows = -(-height // 2 ** level)
      out.append(tf.slice(term, tf.stack([0, row0 // (2 ** level), 0, 0]), [-1, rows, -1, -1]))
    return out

  def forward(self, x, terms=None, training=None, tops=None):
    """Parameters [B, h, W, P] for x [B, h, W, C] and the rows to cache for the next band.

    With ``tops=None`` x is the whole image (or the first band); otherwise ``tops`` are the
    rows returned by the forward pass of the band above, and ``terms`` are sliced to the band
    (`slice_terms`). A band may be cut short at the bottom (any height h <= band_height):
    causality makes its rows exact all the same.
    """
    params, recorded, _ = self.forward_parts(x, terms, training, tops)
    return params, recorded

  def forward_parts(self, x, terms=None, training=None, tops=None, u_feed=None):
    """`forward`, also returning the down stream's block outputs, or reusing them.

    The down stream u at row r depends on rows < r only, so while row r is sampled it does
    not change: ``u_feed`` (the third output of an earlier call on the same rows) skips its
    computation, about half of the network. Returns (params, recorded rows, u outputs).
    """
    if not self.built:
      self.build()
    rows = RowCache(tops)  # Sublayers are built by build(); .call skips Keras bookkeeping.
    term = iter(terms) if terms is not None else None
    nxt = (lambda: next(term)) if term is not None else (lambda: None)
    fed, feed, used_u = u_feed is not None, iter(u_feed or ()), []
    x = tf.cast(x, self.compute_dtype)
    xp = tf.concat([x, tf.ones_like(x[..., :1])], axis=-1)
    top_x = rows.top(xp)
    u = None
    if fed:
      rows.skip(1)
    else:
      u = self.init_u.call(xp, top=top_x)
      u = sc.down_shift(u, top=rows.top(u))
    ul_up = self.init_ul_up.call(xp)
    ul = sc.down_shift(ul_up, top=rows.top(ul_up)) + sc.right_shift(
        self.init_ul_left.call(xp, top=top_x))
    kept_u, kept_ul = [u], [ul]
    for level in range(self.num_hierarchies):
      for u_block, ul_block in self.down[level]:
        condition = nxt()
        if fed:
          rows.skip(2)
          u = next(feed)
        else:
          u = u_block.call(u, condition=condition, training=training, rows=rows)
        used_u.append(u)
        ul = ul_block.call(ul, aux=u, condition=nxt(), training=training, rows=rows)
        kept_u.append(u)
        kept_ul.append(ul)
      if level < self.num_hierarchies - 1:
        ds_u, ds_ul = self.downsample[level]
        if fed:
          rows.skip(1)
        else:
          u = ds_u.call(u, top=rows.top(u))
        ul = ds_ul.call(ul, top=rows.top(ul))
        kept_u.append(u)
        kept_ul.append(ul)
    u, ul = kept_u.pop(), kept_ul.pop()
    for index, blocks in enumerate(self.up):
      for u_block, ul_block in blocks:
        condition, shortcut = nxt(), kept_u.pop()
        if fed:
          rows.skip(2)
          u = next(feed)
        else:
          u = u_block.call(u, aux=shortcut, condition=condition, training=training, rows=rows)
        used_u.append(u)
        ul = ul_block.call(ul, aux=tf.concat([u, kept_ul.pop()], axis=-1), condition=nxt(),
                           training=training, rows=rows)
      if index < len(self.upsample):
        us_u, us_ul = self.upsample[index]
        rows_above = kept_ul[-1].shape[1]  # A short band: 2 ceil(h / 2) may exceed h.
        if not fed:
          u = us_u.call(u)[:, :rows_above]
        ul = us_ul.call(ul)[:, :rows_above]
    params = tf.cast(self.output_nin.call(tf.nn.elu(ul)), tf.float32)
    return params, rows.recorded, used_u

  def call(self, inputs, training=None):
    if self.conditional_shape is None:
      if isinstance(inputs, (list, tuple)):
        raise ValueError("this network is unconditional; call it with the image alone.")
      return self.forward(inputs, training=training)[0]
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
      raise ValueError("this network is conditional; call it with [image, conditional_input].")
    x, h = inputs
    return self.forward(x, self.condition(h), training=training)[0]

  def compute_output_shape(self, input_shape):
    shape = input_shape[0] if self.conditional_shape is not None else input_shape
    return (*shape[:-1], self.num_params)

  def get_config(self):
    config = super().get_config()
    config.update(image_shape=self.image_shape, conditional_shape=self.conditional_shape,
                  num_resnet=self.num_resnet, num_hierarchies=self.num_hierarchies,
                  num_filters=self.num_filters, num_logistic_mix=self.num_logistic_mix,
                  dropout_p=self.dropout_p, use_weight_norm=self.use_weight_norm,
                  conditioning_filters=self.conditioning_filters)
    return config
