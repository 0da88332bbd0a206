"""Places the accounts seed_org.py made in OUs and tags them, for the routing tests.

Usage: place_org.py MOTO_URL

Creates Root/Workloads and Root/Workloads/Payments, moves payments-prod into Payments and
marketing-web into Workloads (data-staging and the management account stay under the root),
and tags data-staging team=data and marketing-web certwatch-channel=C0MARKET01.
Prints a JSON manifest on stdout:
  {"root_id": ..., "ous": [{"id": ..., "path": "Root/Workloads"}, ...],
   "accounts": [{"id": ..., "name": ..., "ou_path": "Root/...", "tags": {...}}, ...]}
with every account of the organization. What it placed and tagged is read back with
ListParents and ListTagsForResource, so that a moto that ignored a call fails here.
"""

import json
import sys

import boto3

from seed_org import HOME_REGION, STATIC_CREDENTIALS

# OU path (under the root) → the accounts moved into it.
PLACEMENT = {
    ("Workloads",): ["marketing-web"],
    ("Workloads", "Payments"): ["payments-prod"],
}
TAGS = {
    "data-staging": {"team": "data"},
    "marketing-web": {"certwatch-channel": "C0MARKET01"},
}


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} MOTO_URL")
    url = sys.argv[1]
    session = boto3.Session(**STATIC_CREDENTIALS)
    org = session.client("organizations", region_name=HOME_REGION, endpoint_url=url)
    root_id = org.list_roots()["Roots"][0]["Id"]
    accounts = {a["Name"]: a["Id"] for a in org.list_accounts()["Accounts"]}

    # Parents before children: the tuples sort that way.
    ou_ids = {(): root_id}
    for path in sorted(PLACEMENT):
        unit = org.create_organizational_unit(ParentId=ou_ids[path[:-1]], Name=path[-1])
        ou_ids[path] = unit["OrganizationalUnit"]["Id"]
    for path, names in PLACEMENT.items():
        for name in names:
            org.move_account(
                AccountId=accounts[name], SourceParentId=root_id, DestinationParentId=ou_ids[path]
            )
    for name, tags in TAGS.items():
        org.tag_resource(
            ResourceId=accounts[name], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )

    path_of = {ou_id: "/".join(("Root", *path)) for path, ou_id in ou_ids.items()}
    placed = []
    for name, account_id in sorted(accounts.items()):
        parent = org.list_parents(ChildId=account_id)["Parents"][0]["Id"]
        tags = org.list_tags_for_resource(ResourceId=account_id)["Tags"]
        placed.append(
            {
                "id": account_id,
                "name": name,
                "ou_path": path_of[parent],
                "tags": {t["Key"]: t["Value"] for t in tags},
            }
        )
    for row in placed:
        wanted = next(
            ("/".join(("Root", *p)) for p, names in PLACEMENT.items() if row["name"] in names),
            "Root",
        )
        if row["ou_path"] != wanted:
            sys.exit(f"moto has {row['name']} in {row['ou_path']}, not {wanted}")
        if row["tags"] != TAGS.get(row["name"], {}):
            sys.exit(f"moto tags {row['name']} {row['tags']}, not {TAGS.get(row['name'], {})}")
    manifest = {
        "root_id": root_id,
        "ous": [
            {"id": ou_id, "path": path_of[ou_id]} for path, ou_id in ou_ids.items() if path
        ],
        "accounts": placed,
    }
    json.dump(manifest, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
