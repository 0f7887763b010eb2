"""The manifest of a run directory: which program wrote it, and the configuration it holds.

``manifest.json`` (JSON)::

    format          "tfib-run/1"
    program         the program that owns the directory ("tfib-train", "tfib-infoplane", ...)
    created         UTC time of creation
    config          {section: {key: value}}: what defines the run (model, data, estimators,
                    schedule, training settings). A run resumed with a different
                    configuration is refused with the list of differences.
    config_changes  [{after_step, previous}]: configurations replaced by a forced resume
    journals        {file name: step key} of the JSON-lines files the run appends to, so that
                    a resume can roll them back

The manifest never holds progress: what is done is the resume state and the journals.
"""
import datetime
import json
from typing import Any, Dict, Mapping

__all__ = ["FORMAT", "MANIFEST", "differences", "flatten", "new_manifest", "normalise"]

FORMAT = "tfib-run/1"
MANIFEST = "manifest.json"


def normalise(value):
  """A JSON round trip, so tuples equal lists and numpy scalars equal Python numbers."""
  return json.loads(json.dumps(value, default=_jsonable))


def _jsonable(value):
  if hasattr(value, "tolist"):  # numpy arrays and scalars.
    return value.tolist()
  raise TypeError(f"{type(value).__name__} {value!r} cannot be part of a run configuration.")


def flatten(config: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
  """{"section.key": value} of nested dicts (lists stay values)."""
  flat = {}
  for key, value in config.items():
    name = f"{prefix}{key}"
    if isinstance(value, Mapping) and value:
      flat.update(flatten(value, f"{name}."))
    else:
      flat[name] = value
  return flat


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> Dict[str, Any]:
  """{setting: (old value, new value)} for every setting that differs."""
  old, new = flatten(normalise(dict(old))), flatten(normalise(dict(new)))
  return {key: (old.get(key), new.get(key)) for key in sorted(set(old) | set(new))
          if old.get(key) != new.get(key)}


def new_manifest(program: str, config: Mapping[str, Any]) -> Dict[str, Any]:
  return {
      "format": FORMAT,
      "program": program,
      "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
      "config": normalise(dict(config)),
      "config_changes": [],
      "journals": {},
  }
