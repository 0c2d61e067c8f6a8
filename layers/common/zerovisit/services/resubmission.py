"""An application resubmitted under an application_id that is already a case: the same body is an
idempotent retry; a different one is refused, naming what differs, never the stored values."""

from zerovisit.domain.model import Application
from zerovisit.errors import Conflict
from zerovisit.storage import cases


def changed_fields(stored: Application, submitted: Application) -> list[str]:
    before, after = stored.model_dump(mode="json"), submitted.model_dump(mode="json")
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def refuse_if_changed(submitted: Application) -> None:
    stored = cases.get_case(submitted.application_id).application
    changed = changed_fields(stored, submitted)
    if changed:
        raise Conflict(
            f"application_id {submitted.application_id} was already submitted with a different body "
            f"(differs in: {', '.join(changed)}); a changed application needs a new application_id"
        )
