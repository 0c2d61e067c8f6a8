"""Partner ids that could never name a secret are refused before Secrets Manager is asked; the
regions supervision oversees are division codes, each with the divisions in it."""

import pytest
from zerovisit.adapters.secrets import partner_secret
from zerovisit.config import settings
from zerovisit.domain.partners import supervised_regions, supervises
from zerovisit.errors import ConfigurationError


@pytest.mark.parametrize("partner", ["é", "dept scjg", "Dept-SCJG", "-dept", "x" * 65, "../other", ""])
def test_an_impossible_partner_id_has_no_secret(partner: str) -> None:
    assert partner_secret(partner) is None


def test_a_supervised_region_covers_the_divisions_in_it_and_nothing_else() -> None:
    supervised = supervised_regions(" 320100 , 321000")

    assert supervised == ("320100", "321000")
    assert supervises(supervised, "320102")  # a district of Nanjing
    assert supervises(supervised, "320100")
    assert not supervises(supervised, "320000")  # the province is more than its cities
    assert not supervises(supervised, "320500")
    assert not supervises(supervised_regions(""), "320102")  # unset: no region, never every region


def test_supervised_regions_that_are_not_division_codes_are_refused_at_cold_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("CASES_TABLE", "CATALOG_TABLE", "CERTIFICATES_TABLE", "EVENT_BUS_NAME"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("CERTIFICATE_KEY_ID", "x")
    monkeypatch.setenv("PARTNER_SECRET_PREFIX", "x/")
    monkeypatch.setenv("SUPERVISION_REGIONS", "32,320100,苏州")
    settings.cache_clear()
    try:
        with pytest.raises(
            ConfigurationError, match="SUPERVISION_REGIONS: not six-digit division codes: 32, 苏州"
        ):
            settings()
    finally:
        settings.cache_clear()
