"""The information plane: the callback, its schedules, the mean over seeds, plots and
TensorBoard tags.

    from tfib.infoplane import InformationPlane, log_spaced_epochs
"""
from tfib.infoplane.callback import RESULTS, InformationPlane, estimator_labels
from tfib.infoplane.schedules import every_k_epochs, log_spaced_epochs

__all__ = ["RESULTS", "InformationPlane", "estimator_labels", "every_k_epochs",
           "log_spaced_epochs"]
