"""Public certificate verification cannot be used to list holders (issue 9)."""

from pathlib import Path

from zerovisit.domain.certificate import SERIAL_DIGITS, verification_code
from zerovisit.domain.identity import certificate_identifier_problems
from zerovisit.storage import cases, certificates

from infra.local.partners import PartnerSimulator
from infra.local.runtime import LocalRuntime
from infra.local.template import ROOT, load_template
from tests.support import application

VERIFY_ROUTE = "GET /certificates/{identifier}/verify"


def issued(runtime: LocalRuntime) -> str:
    detail = application()
    runtime.signed_http("service-network", "POST", "/applications", detail)
    PartnerSimulator(runtime).run_until_closed(detail["application_id"])
    identifier = cases.get_case(detail["application_id"]).certificate_id
    assert identifier is not None
    return identifier


def serial(identifier: str) -> str:
    return identifier.split(".")[-3]


def test_identifiers_carry_random_serials_and_valid_check_characters(runtime: LocalRuntime) -> None:
    first, second = issued(runtime), issued(runtime)

    assert certificate_identifier_problems(first) == []
    assert certificate_identifier_problems(second) == []
    assert first.split(".")[:-3] == second.split(".")[:-3]  # same type and issuer
    assert len(serial(first)) == len(serial(second)) == SERIAL_DIGITS
    assert abs(int(serial(first)) - int(serial(second))) > 1_000  # not a counter


def test_the_holders_name_is_masked_unless_the_printed_code_is_given(runtime: LocalRuntime) -> None:
    identifier = issued(runtime)
    certificate = certificates.get_certificate(identifier)
    assert certificate is not None
    code = verification_code(certificate.signature)

    anonymous = runtime.http("GET", f"/certificates/{identifier}/verify")
    with_code = runtime.http("GET", f"/certificates/{identifier}/verify", query=f"code={code.lower()}")
    wrong = runtime.http("GET", f"/certificates/{identifier}/verify", query="code=AAAA-AAAA")

    assert anonymous.status == 200
    assert anonymous.body["valid"] is True
    assert anonymous.body["holder_name"] != certificate.holder_name
    assert anonymous.body["holder_name"] == certificate.holder_name[0] + "*" * (
        len(certificate.holder_name) - 1
    )
    assert anonymous.body["holder_name_masked"] is True
    assert with_code.status == 200
    assert with_code.body["holder_name"] == certificate.holder_name
    assert certificate.holder_id not in str(with_code.body)
    assert wrong.status == 422
    assert certificate.holder_name not in str(wrong.body)


def test_the_code_is_short_and_unambiguous() -> None:
    code = verification_code("MEUCIQDexample")

    assert len(code) == 9
    assert code[4] == "-"
    assert not set(code) & set("ILOU")
    assert verification_code("MEUCIQDexample") == code
    assert verification_code("MEUCIQDother") != code


def test_the_public_route_is_throttled_in_the_template() -> None:
    template = Path(ROOT / "template.yaml").read_text(encoding="utf-8")
    settings = load_template()["Resources"]["HttpApi"]["Properties"]["RouteSettings"][VERIFY_ROUTE]

    assert VERIFY_ROUTE in template
    assert settings["ThrottlingRateLimit"] <= 10
    assert settings["ThrottlingBurstLimit"] <= 20
