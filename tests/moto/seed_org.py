#!/usr/bin/env python3
"""Seed a moto server with an AWS Organization whose accounts hold ACM certificates.

Usage: seed_org.py MOTO_URL

Prints a JSON manifest on stdout: the accounts, and for every certificate its
account, region, ARN, kind and the findings certwatch must report for it
(`expected`). The moto facts those expectations rest on (status, InUseBy,
NotAfter, key algorithm) are read back with DescribeCertificate and checked,
so a moto upgrade that changes them fails here with a clear message instead of
as a confusing difference in the end-to-end test.

The server must run with MOTO_ACM_VALIDATION_WAIT=0, or requested
certificates stay PENDING_VALIDATION for a minute.
"""

import datetime as dt
import json
import math
import sys
import time
from typing import NamedTuple

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

REGIONS = ["us-east-1", "eu-west-1"]
HOME_REGION = "us-east-1"
MEMBER_ROLE = "OrganizationAccountAccessRole"
MEMBERS = ["payments-prod", "marketing-web", "data-staging"]
# Seeded with a certificate, then closed: certwatch must never scan it.
CLOSED_MEMBER = "legacy-sandbox"
STATIC_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# The policy of the end-to-end test's config (tests/e2e/scan_moto.rs).
URGENT_DAYS = 7
ACTION_DAYS = 45

# Imported RSA certificates that expire soon, by (account name, region): days
# left. Not every target has one, so empty and non-empty targets both occur.
# "master" is the name moto gives the management account.
EXPIRING_RSA = {
    ("master", "us-east-1"): 5,
    ("payments-prod", "eu-west-1"): 30,
    ("marketing-web", "eu-west-1"): 5,
    ("data-staging", "us-east-1"): 30,
}
EC_DAYS = 200
# Half a day on top of the whole days above, so that floor((NotAfter - now) / 1 day)
# is still the intended number when the scan runs a few minutes later.
DAY_MARGIN = dt.timedelta(hours=12)
# moto refuses to import an expired certificate, so the "expired" ones are
# imported first with this lifetime, and have expired once the rest is seeded.
SHORT_LIFETIME = dt.timedelta(seconds=3)


def utcnow():
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def rfc3339(moment):
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class Seeded(NamedTuple):
    kind: str
    arn: str
    domain: str
    listener: str | None = None  # the HTTPS listener that serves it


class Target:
    """One account in one region: the clients to reach it and what was put there."""

    def __init__(self, url, session, account_id, account_name, region):
        self.url = url
        self.session = session
        self.account_id = account_id
        self.account_name = account_name
        self.region = region
        self.acm = self.client("acm")
        self.seeded = []  # of Seeded, in creation order

    def client(self, service):
        return self.session.client(service, region_name=self.region, endpoint_url=self.url)

    def domain(self, what):
        return f"{self.account_name}-{self.region}-{what}.example.com"

    def record(self, kind, arn, domain, listener=None):
        self.seeded.append(Seeded(kind, arn, domain, listener))

    def request_dns(self, what):
        """Requests a DNS-validated certificate; returns its ARN and domain."""
        domain = self.domain(what)
        response = self.acm.request_certificate(DomainName=domain, ValidationMethod="DNS")
        return response["CertificateArn"], domain

    def import_self_signed(self, kind, what, key, not_after):
        domain = self.domain(what)
        certificate, private_key = self_signed(domain, key, not_after)
        response = self.acm.import_certificate(Certificate=certificate, PrivateKey=private_key)
        self.record(kind, response["CertificateArn"], domain)

    def put_in_use(self, arn):
        """Serve `arn` from an HTTPS listener of a new ALB; returns the listener ARN."""
        return self.serve([arn])[0]

    def serve(self, arns):
        """Serve each of `arns` from its own HTTPS listener (443, 8443, 9443, ...) of one new
        ALB; returns the listener ARNs in that order."""
        ec2 = self.client("ec2")
        elb = self.client("elbv2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=self.region + zone
            )["Subnet"]["SubnetId"]
            for i, zone in enumerate("ab")
        ]
        name = f"{self.account_name}-web"
        lb = elb.create_load_balancer(Name=name, Subnets=subnets, Type="application")[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        group = elb.create_target_group(
            Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        ports = [443] + [8443 + 1000 * i for i in range(len(arns) - 1)]
        return [
            elb.create_listener(
                LoadBalancerArn=lb,
                Protocol="HTTPS",
                Port=port,
                Certificates=[{"CertificateArn": arn}],
                DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
            )["Listeners"][0]["ListenerArn"]
            for port, arn in zip(ports, arns)
        ]

def self_signed(domain, key, not_after):
    """A PEM certificate for `domain` valid from yesterday until `not_after`, and its PEM key."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(utcnow() - dt.timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    private_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), private_key


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def assumed_session(sts, account_id):
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE}", RoleSessionName="certwatch-seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def create_organization(url, management):
    """Creates the organization and its members; returns the ListAccounts result."""
    org = management.client("organizations", region_name=HOME_REGION, endpoint_url=url)
    org.create_organization(FeatureSet="ALL")
    for name in [*MEMBERS, CLOSED_MEMBER]:
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")
        if status["CreateAccountStatus"]["State"] != "SUCCEEDED":
            sys.exit(f"create_account({name}) did not succeed at once: {status}")
    return org, org.list_accounts()["Accounts"]


def seed_target(target):
    """Everything but the expired certificate (see import_short_lived)."""
    arn, domain = target.request_dns("api")
    # DescribeCertificate moves a requested certificate to ISSUED once
    # MOTO_ACM_VALIDATION_WAIT seconds have passed; issue it before serving it.
    target.acm.describe_certificate(CertificateArn=arn)
    target.record("dns-in-use", arn, domain, target.put_in_use(arn))
    target.record("dns-unused", *target.request_dns("unused"))

    now = utcnow()
    days = EXPIRING_RSA.get((target.account_name, target.region))
    if days is not None:
        target.import_self_signed(
            "imported-rsa", f"rsa{days}d", rsa_key(), now + dt.timedelta(days=days) + DAY_MARGIN
        )
    target.import_self_signed(
        "imported-ec",
        "ec",
        ec.generate_private_key(ec.SECP256R1()),
        now + dt.timedelta(days=EC_DAYS) + DAY_MARGIN,
    )


def import_short_lived(targets):
    """Imports a certificate that expires in seconds into every target; returns when."""
    keys = [rsa_key() for _ in targets]
    not_after = utcnow() + SHORT_LIFETIME
    for target, key in zip(targets, keys, strict=True):
        target.import_self_signed("imported-expired", "expired", key, not_after)
    return not_after


def urgency(days):
    """For a certificate that has not expired."""
    if days <= URGENT_DAYS:
        return "urgent"
    if days <= ACTION_DAYS:
        return "action"
    return "upcoming"


def describe(target, seeded, now):
    """Reads a certificate back, checks what its kind relies on, and returns its manifest row."""
    kind, arn, domain, listener = seeded
    detail = target.acm.describe_certificate(CertificateArn=arn)["Certificate"]
    not_after = detail["NotAfter"]
    days = math.floor((not_after - now) / dt.timedelta(days=1))
    expired = not_after < now

    def must(condition, what):
        if not condition:
            sys.exit(
                f"moto broke an assumption of this seed for {arn} "
                f"({target.account_name} {target.region}): {what}\n"
                f"DescribeCertificate: {json.dumps(detail, default=str, indent=2)}"
            )

    must(arn.split(":")[3:5] == [target.region, target.account_id], "ARN names its target")
    must(detail["DomainName"] == domain, f"DomainName is {domain}")
    if kind.startswith("dns-"):
        must(detail["Type"] == "AMAZON_ISSUED", "requested certificates are AMAZON_ISSUED")
        must(
            detail["Status"] == "ISSUED",
            "requested certificates are ISSUED (run moto with MOTO_ACM_VALIDATION_WAIT=0)",
        )
        must(days > ACTION_DAYS, f"requested certificates expire after {ACTION_DAYS} days")
        must("RenewalSummary" not in detail, "no RenewalSummary")
    else:
        must(detail["Type"] == "IMPORTED", "imported certificates are IMPORTED")
        must(
            detail["Status"] == ("EXPIRED" if kind == "imported-expired" else "ISSUED"),
            "status follows NotAfter",
        )
    must(expired == (kind == "imported-expired"), "only the short-lived certificate expired")
    must(detail["InUseBy"] == ([listener] if listener else []), "InUseBy lists the listener")
    must(detail["Options"]["Export"] == "DISABLED", "not exportable")
    key_algorithm = "EC_prime256v1" if kind == "imported-ec" else "RSA_2048"
    must(detail["KeyAlgorithm"] == key_algorithm, f"KeyAlgorithm is {key_algorithm}")

    if expired:
        expected = [{"code": "EXPIRED", "urgency": "expired"}]
    elif kind == "dns-in-use":
        expected = []
    elif kind == "dns-unused":
        expected = [{"code": "NOT_IN_USE", "urgency": urgency(days)}]
    else:
        expected = [{"code": "IMPORTED", "urgency": urgency(days)}]
    return {
        "account_id": target.account_id,
        "region": target.region,
        "arn": arn,
        "domain": detail["DomainName"],
        "kind": kind,
        "not_after": rfc3339(not_after),
        "key_algorithm": detail["KeyAlgorithm"],
        "in_use_by": detail["InUseBy"],
        "expected": expected,
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} MOTO_URL")
    url = sys.argv[1]
    management = boto3.Session(**STATIC_CREDENTIALS)
    sts = management.client("sts", region_name=HOME_REGION, endpoint_url=url)
    management_id = sts.get_caller_identity()["Account"]
    org, accounts = create_organization(url, management)

    closed = next(a for a in accounts if a["Name"] == CLOSED_MEMBER)
    closed_target = Target(
        url, assumed_session(sts, closed["Id"]), closed["Id"], CLOSED_MEMBER, HOME_REGION
    )
    closed_target.request_dns("unused")
    closed_target.import_self_signed(
        "imported-rsa", "rsa5d", rsa_key(), utcnow() + dt.timedelta(days=5) + DAY_MARGIN
    )
    org.close_account(AccountId=closed["Id"])

    targets = []
    for account in accounts:
        if account["Id"] == closed["Id"]:
            continue
        if account["Id"] == management_id:
            session = management
        else:
            session = assumed_session(sts, account["Id"])
        targets += [
            Target(url, session, account["Id"], account["Name"], region) for region in REGIONS
        ]
    missing = set(EXPIRING_RSA) - {(t.account_name, t.region) for t in targets}
    if missing:
        sys.exit(f"EXPIRING_RSA names targets that do not exist: {sorted(missing)}")
    expiry = import_short_lived(targets)
    for target in targets:
        seed_target(target)
    # moto marks a certificate EXPIRED once NotAfter <= now.
    time.sleep(max(0.0, (expiry - dt.datetime.now(dt.UTC)).total_seconds()) + 0.5)

    now = dt.datetime.now(dt.UTC)
    certificates = [describe(target, seeded, now) for target in targets for seeded in target.seeded]
    accounts = org.list_accounts()["Accounts"]
    manifest = {
        "management_account": management_id,
        "management_name": next(a["Name"] for a in accounts if a["Id"] == management_id),
        "members": [
            {"id": a["Id"], "name": a["Name"], "state": a["State"]}
            for a in accounts
            if a["Id"] != management_id
        ],
        "suspended": [a["Id"] for a in accounts if a["State"] == "SUSPENDED"],
        "regions": REGIONS,
        "certificates": certificates,
    }
    json.dump(manifest, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
