"""CINIC-10 (Darlow, Crowley, Antoniou & Storkey, 2018) as a tensorflow-datasets builder.

tensorflow-datasets has no CINIC-10, which Darlow & Storkey use beside CIFAR-10. Importing
`tfib.data` registers this builder as ``cinic10``: 270,000 32×32×3 PNG images (CIFAR-10 and
downsampled ImageNet) in the ten CIFAR-10 classes, split evenly into train, validation and
test. It downloads the archive from the University of Edinburgh DataShare on first use.
"""
import os

import numpy as np
import tensorflow_datasets as tfds

_URL = "https://datashare.ed.ac.uk/bitstream/handle/10283/3192/CINIC-10.tar.gz"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")


class Cinic10(tfds.core.GeneratorBasedBuilder):
  """CINIC-10: 270,000 images, 10 classes, splits train / validation / test."""

  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(32, 32, 3)),
            "label": tfds.features.ClassLabel(names=CLASSES),
        }),
        supervised_keys=("image", "label"),
        homepage="https://github.com/BayesWatch/cinic-10",
    )

  def _split_generators(self, dl_manager):
    root = dl_manager.download_and_extract(_URL)
    return {
        "train": self._generate_examples(os.path.join(root, "train")),
        "validation": self._generate_examples(os.path.join(root, "valid")),
        "test": self._generate_examples(os.path.join(root, "test")),
    }

  def _generate_examples(self, directory):
    for label in CLASSES:
      folder = os.path.join(directory, label)
      for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        image = np.asarray(tfds.core.lazy_imports.PIL_Image.open(path).convert("RGB"))
        yield f"{label}/{name}", {"image": image, "label": label}
