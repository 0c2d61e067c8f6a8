"""The KMS adapter signs with the region's algorithm (SM2DSA in China, where moto cannot sign) and
verifies with the algorithm a certificate records; the function's setting is checked at cold start."""

from collections.abc import Iterator
from typing import Any

import pytest
from zerovisit import config
from zerovisit.adapters import aws
from zerovisit.errors import ConfigurationError

from infra.local.template import load_template
from tests.template_conditions import evaluate

REQUIRED = {
    "CASES_TABLE": "cases",
    "CATALOG_TABLE": "catalog",
    "CERTIFICATES_TABLE": "certificates",
    "EVENT_BUS_NAME": "bus",
    "CERTIFICATE_KEY_ID": "key-1",
    "PARTNER_SECRET_PREFIX": "zv/partners/",
}


class RecordingKms:
    class exceptions:  # botocore names it so
        class KMSInvalidSignatureException(Exception):
            pass

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def sign(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("sign", params))
        return {
            "KeyId": "arn:key-1",
            "Signature": b"sm2-signature",
            "SigningAlgorithm": params["SigningAlgorithm"],
        }

    def verify(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("verify", params))
        return {"SignatureValid": True}


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingKms]:
    recording = RecordingKms()
    monkeypatch.setattr(aws, "_client", lambda service: recording)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    config.settings.cache_clear()
    yield recording
    config.settings.cache_clear()


def test_a_china_region_signs_with_sm2_and_the_record_says_so(
    kms: RecordingKms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CERTIFICATE_SIGNING_ALGORITHM", "SM2DSA")
    config.settings.cache_clear()

    key_id, signature, algorithm = aws.sign(b"content")

    assert (key_id, signature, algorithm) == ("arn:key-1", b"sm2-signature", "SM2DSA")
    assert kms.calls[0][1]["SigningAlgorithm"] == "SM2DSA"


def test_without_the_setting_the_key_signs_ecdsa(kms: RecordingKms) -> None:
    assert aws.sign(b"content")[2] == "ECDSA_SHA_256"


@pytest.mark.parametrize("algorithm", ["SM2DSA", "ECDSA_SHA_256"])
def test_verification_asks_kms_for_the_recorded_algorithm(kms: RecordingKms, algorithm: str) -> None:
    assert aws.verify_signature("arn:key-1", b"content", b"sig", algorithm) is True
    assert kms.calls == [
        (
            "verify",
            {
                "KeyId": "arn:key-1",
                "Message": b"content",
                "MessageType": "RAW",
                "Signature": b"sig",
                "SigningAlgorithm": algorithm,
            },
        )
    ]


def test_an_unknown_algorithm_is_refused_at_cold_start(
    kms: RecordingKms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CERTIFICATE_SIGNING_ALGORITHM", "RSASSA_PSS_SHA_256")
    config.settings.cache_clear()

    with pytest.raises(ConfigurationError, match="SM2DSA"):
        config.settings()


@pytest.mark.parametrize(
    ("region", "key_spec", "algorithm"),
    [
        ("cn-north-1", "SM2", "SM2DSA"),
        ("cn-northwest-1", "SM2", "SM2DSA"),
        ("us-east-1", "ECC_NIST_P256", "ECDSA_SHA_256"),
        ("ap-east-1", "ECC_NIST_P256", "ECDSA_SHA_256"),
    ],
)
def test_the_template_gives_china_regions_an_sm2_key_and_the_function_its_algorithm(
    region: str, key_spec: str, algorithm: str
) -> None:
    template = load_template()
    conditions = template["Conditions"]
    key = template["Resources"]["CertificateSigningKey"]["Properties"]
    variables = template["Resources"]["CertificateFunction"]["Properties"]["Environment"]["Variables"]

    assert (key["KeyUsage"], evaluate(key["KeySpec"], {"AWS::Region": region}, conditions)) == (
        "SIGN_VERIFY",
        key_spec,
    )
    assert (
        evaluate(variables["CERTIFICATE_SIGNING_ALGORITHM"], {"AWS::Region": region}, conditions) == algorithm
    )
