"""TensorFlow Probability distributions: the conditional PixelCNN++ decoder.

`PixelCNN` is the distribution (log_prob, sample, bits_per_dim); `PixelCNNNetwork` and its
layers are Keras 3 layers registered under the package "tfib";
`discretized_logistic_mixture` holds the likelihood.
"""
from tfib.distributions import discretized_logistic_mixture
from tfib.distributions.conditioning import ConditioningNetwork
from tfib.distributions.gated_resnet import GatedResidualBlock
from tfib.distributions.pixel_cnn import PixelCNN
from tfib.distributions.pixelcnn_network import PixelCNNNetwork
from tfib.distributions.sampling import BandSampler
from tfib.distributions.shifted_convolutions import (
    DownRightShiftedConv2D, DownRightShiftedConv2DTranspose, DownShiftedConv2D,
    DownShiftedConv2DTranspose, NetworkInNetwork)

__all__ = [
    "BandSampler", "ConditioningNetwork", "DownRightShiftedConv2D",
    "DownRightShiftedConv2DTranspose", "DownShiftedConv2D", "DownShiftedConv2DTranspose",
    "GatedResidualBlock", "NetworkInNetwork", "PixelCNN", "PixelCNNNetwork",
    "discretized_logistic_mixture",
]
