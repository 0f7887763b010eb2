"""The information-plane dashboard: a TensorBoard plugin over tfib's mi/ scalar summaries.

TensorBoard finds it through the ``tensorboard_plugins`` entry point, which names
`InformationPlaneLoader`. The dashboard's page (static/index.js, an ES module TensorBoard
loads into an iframe) draws the plane from these JSON routes, all under
/data/plugin/tfib_infoplane/:

    estimators                    {"estimators": [{"name": ..., "runs": [...]}, ...]}
    plane?estimator=E[&run=R...]  `planes.plane` of the runs R (default: every run with E),
                                  plus "warnings"

and serves the page's own files (index.js and what it imports): the page loads nothing from
elsewhere.
"""
import os

from werkzeug import wrappers

from tensorboard import errors
from tensorboard import plugin_util
from tensorboard.backend import http_util
from tensorboard.context import RequestContext
from tensorboard.data import provider
from tensorboard.plugins import base_plugin

from tfib.tensorboard_plugin import planes

__all__ = ["InformationPlaneLoader", "InformationPlanePlugin", "PLUGIN_NAME"]

PLUGIN_NAME = "tfib_infoplane"
_SCALARS = "scalars"  # The plugin that owns the summaries read.
_STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
_MIME_TYPES = {".js": "text/javascript", ".css": "text/css"}
_EVERY_POINT = 10**6  # Read with this downsample: more points than any run records.
# TensorBoard keeps this many points of each scalar tag unless --samples_per_plugin says
# otherwise (0: all).
_DEFAULT_SCALARS_KEPT = 1000


def _request_context(request):
  """The data provider's context and experiment id of a request."""
  return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)


class InformationPlanePlugin(base_plugin.TBPlugin):
  """Serves the information-plane dashboard and its data."""

  plugin_name = PLUGIN_NAME

  def __init__(self, context):
    self._data_provider = context.data_provider
    kept = (context.sampling_hints or {}).get(_SCALARS)
    self._scalars_kept = _DEFAULT_SCALARS_KEPT if kept is None else kept

  def get_plugin_apps(self):
    apps = {"/estimators": self._serve_estimators, "/plane": self._serve_plane}
    for name in sorted(os.listdir(_STATIC)):
      if os.path.splitext(name)[1] in _MIME_TYPES:
        apps["/" + name] = self._static_file(name)
    return apps

  def is_active(self):
    """Whether any run holds information-plane scalars."""
    if self._data_provider is None:
      return False
    return bool(planes.estimators(self._tags_by_run(RequestContext(), "")))

  def frontend_metadata(self):
    return base_plugin.FrontendMetadata(es_module_path="/index.js",
                                        tab_name="information plane")

  def _tags_by_run(self, ctx, experiment):
    listing = self._data_provider.list_scalars(ctx, experiment_id=experiment,
                                               plugin_name=_SCALARS)
    return {run: list(tags) for run, tags in listing.items()}

  @staticmethod
  def _static_file(name):
    path = os.path.join(_STATIC, name)
    mime_type = _MIME_TYPES[os.path.splitext(name)[1]]

    @wrappers.Request.application
    def serve(request):
      with open(path, "rb") as stream:
        return http_util.Respond(request, stream.read(), mime_type)

    return serve

  @wrappers.Request.application
  def _serve_estimators(self, request):
    ctx, experiment = _request_context(request)
    found = planes.estimators(self._tags_by_run(ctx, experiment))
    body = {"estimators": [{"name": name, "runs": runs} for name, runs in found.items()]}
    return http_util.Respond(request, body, "application/json")

  @wrappers.Request.application
  def _serve_plane(self, request):
    estimator = request.args.get("estimator")
    if not estimator:
      raise errors.InvalidArgumentError("Give the estimator: plane?estimator=<label>.")
    ctx, experiment = _request_context(request)
    tags_by_run = self._tags_by_run(ctx, experiment)
    found = planes.estimators(tags_by_run)
    if estimator not in found:
      raise errors.NotFoundError(
          f"No information-plane scalars of estimator {estimator!r} in any run; estimators "
          f"found: {', '.join(map(repr, found)) or 'none'}.")
    runs = request.args.getlist("run") or found[estimator]
    missing = [run for run in runs if run not in found[estimator]]
    if missing:
      raise errors.NotFoundError(
          f"No information-plane scalars of estimator {estimator!r} in run(s) "
          f"{', '.join(map(repr, missing))}; runs that have them: "
          f"{', '.join(map(repr, found[estimator]))}.")
    tags = sorted({tag for run in runs for tag in planes.select_tags(tags_by_run[run], estimator)})
    data = self._data_provider.read_scalars(
        ctx, experiment_id=experiment, plugin_name=_SCALARS, downsample=_EVERY_POINT,
        run_tag_filter=provider.RunTagFilter(runs=runs, tags=tags))
    series_by_run = {run: {tag: [(datum.step, datum.value) for datum in series]
                           for tag, series in by_tag.items()}
                     for run, by_tag in data.items()}
    try:
      body = planes.plane(series_by_run, estimator)
    except ValueError as error:
      raise errors.InvalidArgumentError(str(error)) from None
    body["warnings"] = self._warnings(series_by_run, body["dropped"])
    return http_util.Respond(request, body, "application/json")

  def _warnings(self, series_by_run, dropped):
    """What the page should tell: points TensorBoard may have left out, or not drawn."""
    warnings = []
    longest = max((len(series) for by_tag in series_by_run.values()
                   for series in by_tag.values()), default=0)
    if self._scalars_kept and longest >= self._scalars_kept:
      warnings.append(
          f"A series has {longest} points, as many as TensorBoard keeps per tag: some epochs "
          f"may be missing. Start TensorBoard with --samples_per_plugin=scalars=0 to see all.")
    if dropped:
      warnings.append(f"{dropped} point(s) with a value that is not finite are not drawn.")
    return warnings


class InformationPlaneLoader(base_plugin.TBLoader):
  """Loads the dashboard (the ``tensorboard_plugins`` entry point names this class)."""

  def load(self, context):
    return InformationPlanePlugin(context)
