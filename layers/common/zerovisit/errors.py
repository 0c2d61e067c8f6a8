"""Domain exceptions.

Each class name is an error name of the state machine contract: a handler that
raises one of these fails its Lambda invocation with ``errorType`` equal to the
class name, which ``Retry``/``Catch`` ``ErrorEquals`` in
``statemachines/case_handling.asl.json`` match. Keep them few and stable.
"""

from collections.abc import Sequence


class ZeroVisitError(Exception):
    """Base of every domain error."""


class InvalidInput(ZeroVisitError):
    """Input broke one or more rules; ``problems`` names every one of them."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class NotAuthenticated(ZeroVisitError):
    """The caller is unknown, its signature does not match, or its timestamp is outside the window."""


class NotPermitted(ZeroVisitError):
    """The caller is known but may not act on this resource (another department's task)."""


class CaseNotFound(ZeroVisitError):
    """No case, task or record with that identifier."""


class Conflict(ZeroVisitError):
    """The write lost a race or the record is not in the state the change needs."""


class TaskClosed(Conflict):
    """The task was already answered differently, or no longer waits for an answer."""


class DependencyUnavailable(ZeroVisitError):
    """A storage or partner dependency failed transiently; the state machine retries."""


class DeliveryFailed(ZeroVisitError):
    """EMS reported the parcel refused, damaged or lost."""


class WaitExpired(ZeroVisitError):
    """A wait on a party ran past its limit on the domain clock (sent to the waiting step)."""


class CaseWithdrawn(ZeroVisitError):
    """The applicant withdrew the case while a step waited (sent to the waiting step)."""


class TitleNotValid(ZeroVisitError):
    """At issuance, the title a transfer passes on is no longer the seller's valid title (revoked
    meanwhile, say): nothing is issued, and the case fails (RecordFailure) for an operator."""


class ReviewExpired(ZeroVisitError):
    """A silent department passed its final limit after escalation; the case fails until resumed."""


class ConfigurationError(ZeroVisitError):
    """The function's environment is missing or malformed; raised at cold start."""
