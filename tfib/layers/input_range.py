"""A layer that refuses inputs outside the range a network was built for."""
import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfib")
class InputRange(keras.layers.Layer):
  """Identity on inputs in [``low``, ``high``]; an error naming the range otherwise.

  tfib's ResNets take images scaled to [0, 1] (`tfib.data.to_float`). Fed the uint8
  images `tfib.data.load` returns, a network would compute without complaint on values
  up to 255 and give nonsense; with this layer first it stops with a message that says
  what to do. The check is two reductions per batch (under XLA, which compiles assertions
  away, it costs nothing and checks nothing: tfib's own training pipelines scale first).
  """

  def __init__(self, low: float = 0.0, high: float = 1.0, **kwargs):
    super().__init__(**kwargs)
    self.low = float(low)
    self.high = float(high)

  def call(self, inputs):
    message = (f"{self.name}: the network takes inputs in [{self.low:g}, {self.high:g}]; "
               "got values outside it (uint8 images? scale them with tfib.data.to_float, "
               "i.e. divide by 255).")
    with tf.control_dependencies([
        tf.debugging.assert_greater_equal(tf.reduce_min(inputs), tf.cast(self.low, inputs.dtype),
                                          message=message),
        tf.debugging.assert_less_equal(tf.reduce_max(inputs), tf.cast(self.high, inputs.dtype),
                                       message=message)]):
      return tf.identity(inputs)

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    return dict(super().get_config(), low=self.low, high=self.high)
