"""Datasets: the SZT task (generated exactly), mnist5k (bundled) and tensorflow-datasets."""
from tfib.data.catalog import BUILTIN, DatasetUnavailableError, TFDS, load, names, to_float
from tfib.data.gaussian_tasks import correlated_gaussians, gaussian_mi, rho_for_mi, staircase_mi
from tfib.data.mnist5k import mnist5k
from tfib.data.szt import icosahedron_vertices, szt

__all__ = ["BUILTIN", "DatasetUnavailableError", "TFDS", "correlated_gaussians", "gaussian_mi",
           "icosahedron_vertices", "load", "mnist5k", "names", "rho_for_mi", "staircase_mi",
           "szt", "to_float"]
