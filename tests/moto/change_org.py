"""Changes the organization seed_org.py made, between two scans of an end-to-end test.

Usage: change_org.py MOTO_URL PLAN_JSON, where PLAN_JSON is
  {"account_id": "...", "region": "...",
   "delete": ARN,                  # deleted (optional)
   "new_domain": NAME,             # a certificate imported that expires in 3 days (optional)
   "reimport": ARN, "reimport_domain": NAME,  # re-imported (optional) with a NotAfter
   "reimport_days": N,             # N days away (default 300)
   "attach": ARN}                  # served from a new ALB HTTPS listener (optional)
Prints {"new": ARN of the imported certificate, or null} on stdout.
"""

import datetime as dt
import json
import sys

import boto3

from seed_org import (
    DAY_MARGIN,
    STATIC_CREDENTIALS,
    Target,
    assumed_session,
    rsa_key,
    self_signed,
    utcnow,
)


def main():
    url, plan = sys.argv[1], json.loads(sys.argv[2])
    management = boto3.Session(**STATIC_CREDENTIALS)
    sts = management.client("sts", region_name="us-east-1", endpoint_url=url)
    session = assumed_session(sts, plan["account_id"])
    acm = session.client("acm", region_name=plan["region"], endpoint_url=url)

    if "delete" in plan:
        acm.delete_certificate(CertificateArn=plan["delete"])
    now = utcnow()
    new = None
    if "new_domain" in plan:
        certificate, key = self_signed(
            plan["new_domain"], rsa_key(), now + dt.timedelta(days=3) + DAY_MARGIN
        )
        new = acm.import_certificate(Certificate=certificate, PrivateKey=key)["CertificateArn"]
    if "reimport" in plan:
        days = plan.get("reimport_days", 300)
        certificate, key = self_signed(
            plan["reimport_domain"], rsa_key(), now + dt.timedelta(days=days) + DAY_MARGIN
        )
        acm.import_certificate(
            CertificateArn=plan["reimport"], Certificate=certificate, PrivateKey=key
        )
    if "attach" in plan:
        target = Target(url, session, plan["account_id"], "attached", plan["region"])
        target.put_in_use(plan["attach"])
    print(json.dumps({"new": new}))


if __name__ == "__main__":
    main()
