"""The algorithms a certificate may be signed with: ECDSA over P-256 outside China, SM2 where the
region's KMS has SM2 keys. Kept apart from the certificate models so that reading the configuration
builds none of them."""

from typing import Literal

SigningAlgorithm = Literal["ECDSA_SHA_256", "SM2DSA"]
SIGNING_ALGORITHMS: tuple[SigningAlgorithm, ...] = ("ECDSA_SHA_256", "SM2DSA")
SIGNING_ALGORITHM: SigningAlgorithm = "ECDSA_SHA_256"
