"""The information-plane dashboard for TensorBoard (tab "information plane").

`plugin.InformationPlaneLoader` is the ``tensorboard_plugins`` entry point; `planes` turns
tfib's mi/ scalar summaries into the plane's data, independently of TensorBoard's server.
"""
