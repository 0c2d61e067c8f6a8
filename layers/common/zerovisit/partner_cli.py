"""`zerovisit partner add|rotate|remove`: onboard a partner system, rotate its signing secret, remove it.

zerovisit partner add dept-new --stack zerovisit-prod      prints the new partner's secret, once
zerovisit partner rotate dept-new --overlap-hours 72 --stack zerovisit-prod
zerovisit partner remove dept-new --stack zerovisit-prod

Secrets live in Secrets Manager under the stack's PartnerSecretPrefix output (--stack NAME; the
local runtime's stack is zerovisit-local) or else PARTNER_SECRET_PREFIX, + partner id, as the JSON of
``zerovisit.domain.signature.PartnerKeys``. A rotation makes a new current secret and keeps the
previous one valid for the overlap, so the partner can switch without a refused request. New
partners sign with version 2 only; ``--v1-until`` lets one sign with version 1 until a date. The API
caches a secret for five minutes: a change reaches every function within that time.
"""

import argparse
import os
import secrets
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3

from zerovisit.adapters.secrets import PARTNER_ID
from zerovisit.domain.signature import PartnerKey, PartnerKeys, partner_keys
from zerovisit.errors import Conflict, InvalidInput
from zerovisit.operator_cli import add_stack_option

SECRET_BYTES = 32
PREFIX_VARIABLE = "PARTNER_SECRET_PREFIX"
NO_PREFIX = (
    "zerovisit partner: error: no partner secret prefix: give --stack NAME (its PartnerSecretPrefix"
    f" output) or set {PREFIX_VARIABLE}"
)


def register(commands: Any) -> None:
    partner = commands.add_parser("partner", help="add a partner system, rotate its secret, or remove it")
    partner.add_argument("action", choices=["add", "rotate", "remove"])
    partner.add_argument("partner_id", help="lower-case letters, digits and '-', e.g. dept-scjg")
    partner.add_argument("--overlap-hours", type=float, default=72, help="rotate: the old secret's validity")
    partner.add_argument("--v1-until", type=date.fromisoformat, help="add: accept signature version 1 until")
    add_stack_option(partner)


def run(args: argparse.Namespace) -> int:
    """Exit 2, as for a usage error, when neither the stack nor the environment names the secrets."""
    prefix = os.environ.get(PREFIX_VARIABLE)
    if not prefix:
        print(NO_PREFIX, file=sys.stderr)
        return 2
    if not PARTNER_ID.fullmatch(args.partner_id):
        raise InvalidInput([f"partner_id: {args.partner_id!r} is not lower-case letters, digits and '-'"])
    if args.overlap_hours < 0:
        raise InvalidInput(["--overlap-hours: must not be negative"])
    name = f"{prefix}{args.partner_id}"
    client = boto3.client("secretsmanager")
    now = datetime.now(UTC)  # the real time, as the signature check uses
    if args.action == "add":
        keys = PartnerKeys(keys=[PartnerKey(new_secret())], v1_until=args.v1_until)
        try:
            client.create_secret(Name=name, SecretString=keys.to_json())
        except client.exceptions.ResourceExistsException as e:
            raise Conflict(f"partner {args.partner_id} already exists: rotate its secret instead") from e
        print(keys.keys[0].secret)
        return 0
    try:
        stored = client.get_secret_value(SecretId=name)["SecretString"]
    except client.exceptions.ResourceNotFoundException as e:
        raise InvalidInput([f"partner_id: no partner {args.partner_id}"]) from e
    if args.action == "remove":
        client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        print(f"removed {args.partner_id}")
        return 0
    current = partner_keys(stored)
    if current is None:
        raise InvalidInput([f"{name}: the stored secret is not readable partner keys"])
    rotated = rotate(current, new_secret(), now, timedelta(hours=args.overlap_hours))
    client.put_secret_value(SecretId=name, SecretString=rotated.to_json())
    print(rotated.keys[0].secret)
    return 0


def new_secret() -> str:
    return secrets.token_hex(SECRET_BYTES)


def rotate(keys: PartnerKeys, secret: str, now: datetime, overlap: timedelta) -> PartnerKeys:
    """The new secret current; the secrets still valid now stay valid until the overlap ends at most."""
    until = now + overlap
    kept = [
        PartnerKey(k.secret, until if k.valid_until is None else min(k.valid_until, until))
        for k in keys.keys
        if k.valid_until is None or k.valid_until > now
    ]
    return PartnerKeys(keys=[PartnerKey(secret), *kept], v1_until=keys.v1_until)
