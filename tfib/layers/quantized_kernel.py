"""Dense and Conv2D layers whose weights are fake-quantized in the forward pass.

The float kernel is kept and trained; the forward pass uses it rounded onto 2^bits levels
spanning its current minimum and maximum (TF-MOT's "last value" weight quantizer, as in
Lorenzen, Igel & Nielsen), with a straight-through gradient (`tfib.layers.fake_quant`).
Biases stay in float, as in their networks. The activation is applied here; quantize it
with a following `FakeQuant` layer.
"""
import keras

from tfib.layers.fake_quant import check_bits, fake_quantize


def _quantized(kernel, bits):
  return fake_quantize(kernel, keras.ops.min(kernel), keras.ops.max(kernel), bits)


@keras.saving.register_keras_serializable(package="tfib")
class QuantizedDense(keras.layers.Dense):
  """`keras.layers.Dense` computing with its kernel quantized to 2^bits levels (4, 8, 32)."""

  def __init__(self, units, bits: int = 8, **kwargs):
    super().__init__(units, **kwargs)
    self.bits = check_bits(int(bits))

  def call(self, inputs):
    outputs = keras.ops.matmul(inputs, _quantized(self.kernel, self.bits))
    if self.use_bias:
      outputs = outputs + self.bias
    return self.activation(outputs)

  def get_config(self):
    return dict(super().get_config(), bits=self.bits)


@keras.saving.register_keras_serializable(package="tfib")
class QuantizedConv2D(keras.layers.Conv2D):
  """`keras.layers.Conv2D` computing with its kernel quantized to 2^bits levels (4, 8, 32)."""

  def __init__(self, filters, kernel_size, bits: int = 8, **kwargs):
    super().__init__(filters, kernel_size, **kwargs)
    self.bits = check_bits(int(bits))

  def convolution_op(self, inputs, kernel):
    return super().convolution_op(inputs, _quantized(kernel, self.bits))

  def get_config(self):
    return dict(super().get_config(), bits=self.bits)
