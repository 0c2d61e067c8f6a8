"""Pre-review (网上预审): every missing material named at once, held e-certificates reused."""

import re

from zerovisit.domain.catalog import Matter
from zerovisit.domain.model import Application, Deficiency, SubmittedMaterial

MAX_CORRECTION_ROUNDS = 2
# A submitted document is named by the SHA-256 digest the service network stored it under.
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def review_materials(
    application: Application, matter: Matter, held_certificates: dict[str, str]
) -> tuple[list[Deficiency], dict[str, str]]:
    """Deficiencies of the submission, and the materials satisfied by the applicant's
    existing e-certificates (material code -> certificate identifier)."""
    submitted = {m.code: m for m in application.materials}
    deficiencies: list[Deficiency] = []
    reused: dict[str, str] = {}
    for required in matter.materials:
        material = submitted.get(required.code)
        if material is not None:
            if not DIGEST.fullmatch(material.document_ref):
                deficiencies.append(
                    Deficiency(
                        material=required.code, problem=f"{required.name}: document cannot be verified"
                    )
                )
            continue
        held = held_certificates.get(required.satisfied_by_certificate or "")
        if held:
            reused[required.code] = held
        else:
            deficiencies.append(Deficiency(material=required.code, problem=f"{required.name}: not submitted"))
    return deficiencies, reused


def apply_correction(application: Application, corrected: list[SubmittedMaterial]) -> Application:
    """The corrected materials replace earlier ones with the same code."""
    by_code = {m.code: m for m in application.materials}
    by_code.update({m.code: m for m in corrected})
    return application.model_copy(update={"materials": list(by_code.values())})


def may_ask_for_correction(rounds_so_far: int) -> bool:
    return rounds_so_far < MAX_CORRECTION_ROUNDS
