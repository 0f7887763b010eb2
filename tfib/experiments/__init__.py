"""What each tfib program runs, built from the library, the run mechanism and the trainers.

Modules are imported on use: ``from tfib.experiments import infoplane``.
"""
