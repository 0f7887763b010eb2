"""Ground-truth mutual-information tasks: distributions of (X, Y) with known I(X; Y).

Every family is a module with its formula; `suite` collects about forty standard tasks
(after Czyż et al. 2023, "Beyond normal: on the evaluation of mutual information
estimators", and Poole et al. 2019), and `get` finds one by name. Values are in nats
(`Task.mi_bits` converts). Only numpy and the standard library are used.
"""
from tfib.data.ground_truth.additive_uniform import additive_uniform, additive_uniform_mi
from tfib.data.ground_truth.discrete_continuous import discrete_continuous
from tfib.data.ground_truth.noisy_channel import noisy_channel
from tfib.data.ground_truth.normal import (MAX_MI_PER_PAIR, dense_covariance, gaussian_mi,
                                           normal, normal_dense, normal_sparse,
                                           sparse_covariance)
from tfib.data.ground_truth.special import digamma, standard_normal_cdf
from tfib.data.ground_truth.student_t import student_t, student_t_correction
from tfib.data.ground_truth.suite import get, names, suite
from tfib.data.ground_truth.task import Sampler, Task
from tfib.data.ground_truth.transforms import asinh, half_cube, normal_cdf, spiral, wiggly

__all__ = [
    "MAX_MI_PER_PAIR", "Sampler", "Task", "additive_uniform", "additive_uniform_mi", "asinh",
    "dense_covariance", "digamma", "discrete_continuous", "gaussian_mi", "get", "half_cube",
    "names", "noisy_channel", "normal", "normal_cdf", "normal_dense", "normal_sparse",
    "sparse_covariance", "spiral", "standard_normal_cdf", "student_t", "student_t_correction",
    "suite", "wiggly",
]
