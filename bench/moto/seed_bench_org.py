#!/usr/bin/env python3
"""Seed a moto server with the benchmark organization: 20 members x 3 regions x 5 certificates.

Usage: seed_bench_org.py MOTO_URL [--members N]

The management account creates the organization and N member accounts (default 20). In each
member, in each of REGIONS, five certificates (300 in all at 20 members):

  api      requested, DNS-validated, ISSUED, served by an ALB HTTPS listener on 443
  www      requested, DNS-validated, ISSUED, served by a second listener (8443) of that ALB
  unused   requested, DNS-validated, ISSUED, used by nothing (NOT_IN_USE)
  rsa30d   imported RSA-2048, expires in about 30 days (IMPORTED, action)
  ec200d   imported EC P-256, expires in about 200 days (IMPORTED, upcoming)

The management account holds no certificate; it is scanned all the same (certwatch scans the
account it runs in by default, and the c7n-org accounts file lists it), so a scan covers
(N + 1) x 3 account-regions. Every certificate is read back (ListCertificates per target,
DescribeCertificate for InUseBy) so a moto change that breaks the mix fails here.

Prints a JSON manifest on stdout: the management account, the members, the regions and the
number of certificates. Reuses the helpers of tests/moto/seed_org.py (the role, self-signed
certificates, assumed sessions). The server must run with MOTO_ACM_VALIDATION_WAIT=0.
"""

import argparse
import datetime as dt
import json
import os
import sys

import boto3
from cryptography.hazmat.primitives.asymmetric import ec

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # leave no __pycache__ in tests/moto
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "moto"))

import seed_org  # noqa: E402  (tests/moto/seed_org.py)
from seed_org import (  # noqa: E402
    DAY_MARGIN,
    HOME_REGION,
    MEMBER_ROLE,
    STATIC_CREDENTIALS,
    Target,
    assumed_session,
    rsa_key,
    utcnow,
)

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
CERTIFICATES_PER_TARGET = 5


def create_members(org, count):
    names = [f"bench-{i:02d}" for i in range(1, count + 1)]
    for name in names:
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")
        if status["CreateAccountStatus"]["State"] != "SUCCEEDED":
            sys.exit(f"create_account({name}) did not succeed at once: {status}")
    accounts = []
    for page in org.get_paginator("list_accounts").paginate():
        accounts += page["Accounts"]
    return [a for a in accounts if a["Name"] in names]


def seed_target(target):
    in_use = []
    for what in ["api", "www"]:
        arn, domain = target.request_dns(what)
        # Moves the request to ISSUED (MOTO_ACM_VALIDATION_WAIT=0) before a listener serves it.
        target.acm.describe_certificate(CertificateArn=arn)
        in_use.append((arn, domain))
    listeners = target.serve([arn for arn, _ in in_use])
    for (arn, domain), listener in zip(in_use, listeners):
        target.record("dns-in-use", arn, domain, listener)
    arn, domain = target.request_dns("unused")
    target.acm.describe_certificate(CertificateArn=arn)
    target.record("dns-unused", arn, domain)
    now = utcnow()
    target.import_self_signed(
        "imported-rsa", "rsa30d", rsa_key(), now + dt.timedelta(days=30) + DAY_MARGIN
    )
    target.import_self_signed(
        "imported-ec",
        "ec200d",
        ec.generate_private_key(ec.SECP256R1()),
        now + dt.timedelta(days=200) + DAY_MARGIN,
    )


def check_target(target):
    """Reads the target back: exactly its five certificates, the right ones in use, ISSUED."""
    listed = []
    for page in target.acm.get_paginator("list_certificates").paginate():
        listed += page["CertificateSummaryList"]
    arns = sorted(c["CertificateArn"] for c in listed)
    want = sorted(s.arn for s in target.seeded)
    if arns != want or len(arns) != CERTIFICATES_PER_TARGET:
        sys.exit(f"{target.account_name} {target.region}: ListCertificates gave {arns}, want {want}")
    for seeded in target.seeded:
        detail = target.acm.describe_certificate(CertificateArn=seeded.arn)["Certificate"]
        in_use_by = [seeded.listener] if seeded.listener else []
        if detail["InUseBy"] != in_use_by or detail["Status"] != "ISSUED":
            sys.exit(
                f"moto broke an assumption for {seeded.arn} ({seeded.kind}): "
                f"Status {detail['Status']}, InUseBy {detail['InUseBy']}, want {in_use_by}"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--members", type=int, default=20)
    args = parser.parse_args()

    management = boto3.Session(**STATIC_CREDENTIALS)
    sts = management.client("sts", region_name=HOME_REGION, endpoint_url=args.url)
    management_id = sts.get_caller_identity()["Account"]
    org = management.client("organizations", region_name=HOME_REGION, endpoint_url=args.url)
    org.create_organization(FeatureSet="ALL")
    members = create_members(org, args.members)

    targets = []
    for account in members:
        session = assumed_session(sts, account["Id"])
        for region in REGIONS:
            target = Target(args.url, session, account["Id"], account["Name"], region)
            seed_target(target)
            targets.append(target)
    for target in targets:
        check_target(target)

    kinds = {}
    for target in targets:
        for seeded in target.seeded:
            kinds[seeded.kind] = kinds.get(seeded.kind, 0) + 1
    manifest = {
        "management_account": management_id,
        "member_role": MEMBER_ROLE,
        "members": [{"id": a["Id"], "name": a["Name"]} for a in members],
        "regions": REGIONS,
        "certificates": sum(len(t.seeded) for t in targets),
        "certificates_by_kind": kinds,
        "seed_org": os.path.relpath(seed_org.__file__, HERE),
    }
    json.dump(manifest, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
