"""Partner ids that could never name a secret are refused before Secrets Manager is asked."""

import pytest
from zerovisit.adapters.secrets import partner_secret


@pytest.mark.parametrize("partner", ["é", "dept scjg", "Dept-SCJG", "-dept", "x" * 65, "../other", ""])
def test_an_impossible_partner_id_has_no_secret(partner: str) -> None:
    assert partner_secret(partner) is None
