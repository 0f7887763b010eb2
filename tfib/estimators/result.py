"""The one result type every tfib estimator returns."""
import dataclasses
import math
from typing import Any, Mapping, Optional


@dataclasses.dataclass(frozen=True)
class MIEstimate:
  """Mutual information of one representation T with the input X and the label Y.

  All information quantities are in bits (``unit``). Next to the two estimates the record
  carries what a reader needs to judge them:

  * ``num_samples`` N and the ceiling ``log2_n`` = log2 N: an estimate of I(X;T) from N
    samples can never exceed log2 N, so a layer at that ceiling is saturated, not "keeping
    all information about X".
  * ``h_y``: the label entropy H(Y), the ceiling of I(T;Y).
  * ``distinct_fraction`` (counting estimators): distinct codes of T / N. A value of 1
    means every input got its own code, hence I(X;T) = log2 N regardless of the network.
  * ``estimator`` and ``params``: the name in the registry and its settings, enough to
    recreate it with ``tfib.estimators.get(estimator, **params)``.

  * ``flags``: {name: reason} of what makes a number doubtful — a bound below zero, a
    neural estimate that did not converge or is not above its noise. An estimate with a
    flag is reported, with the reason, not passed off as a plain number; ``failed`` is
    True when a flag says the number should not be used at all.

  Estimators that bound rather than estimate (KDE) or that report a spread (MINE) put
  those numbers in ``extras``; estimators that read a layer through a noisy channel state
  it there (``extras["channel"]``).
  """

  estimator: str
  params: Mapping[str, Any]
  i_xt: float
  i_ty: Optional[float]
  num_samples: int
  h_y: Optional[float]
  distinct_fraction: Optional[float] = None
  unit: str = "bits"
  extras: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  flags: Mapping[str, str] = dataclasses.field(default_factory=dict)
  failed: bool = False

  @property
  def log2_n(self) -> float:
    return math.log2(self.num_samples)

  def as_dict(self) -> dict:
    """A JSON-serialisable dict, ceilings included."""
    record = dataclasses.asdict(self)
    record["params"] = dict(self.params)
    record["extras"] = dict(self.extras)
    record["flags"] = dict(self.flags)
    record["log2_n"] = self.log2_n
    return record
