//! What the world sees of the simulated organization's certificates: the resolved [`World`]
//! turned into DNS records and the certificates to serve by SNI, for `crate::net`'s servers.
//!
//! Pure: no sockets here (`server` starts them). Every certificate of every account takes part,
//! suspended or unreachable accounts included, as their names would still be in public DNS.
//!
//! DNS is per name, not per certificate, so where certificates share a name the first one in
//! scenario order decides it: a validation CNAME is the first certificate's value at that name
//! (`missing` adds nothing, so a later certificate's record still appears), and a host name
//! gets the address and the served certificate of the first certificate that gives it an
//! address. Wildcard names are never hosts: they get no A record and no SNI entry.

use crate::ids;
use crate::net::dns::Record;
use crate::net::tls::CertSpec;
use crate::world::{Certificate, Endpoint, ValidationRecord, World};
use std::collections::HashSet;
use std::net::Ipv4Addr;

/// Where endpoints that serve are: the TLS listener's address.
pub const SERVING: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// Where unreachable endpoints are: loopback too, so nothing leaves the host, but nothing
/// listens there (the TLS listener binds 127.0.0.1 only).
pub const UNREACHABLE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// The DNS zone and the TLS listener's certificates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub records: Vec<Record>,
    /// (host name, certificate): one entry per host.
    pub by_sni: Vec<(String, CertSpec)>,
}

/// The zone and the SNI map for `world`: the CAA records of `[network]`, then each
/// certificate's CNAMEs and A records in scenario order (see the module docs for shared names).
pub fn plan(world: &World) -> Plan {
    let mut plan = Plan::default();
    for caa in &world.network.caa {
        plan.records.push(Record::Caa {
            name: caa.name.clone(),
            flags: caa.flags,
            tag: caa.tag.clone(),
            value: caa.value.clone(),
        });
    }
    let mut cnames = HashSet::new();
    let mut hosts = HashSet::new();
    for certificate in world.accounts.iter().flat_map(|a| &a.certificates) {
        validation_records(certificate, &mut cnames, &mut plan.records);
        endpoints(certificate, &mut hosts, &mut plan);
    }
    plan
}

fn validation_records(
    certificate: &Certificate,
    claimed: &mut HashSet<String>,
    records: &mut Vec<Record>,
) {
    if certificate.validation_record == ValidationRecord::Missing {
        return;
    }
    let dns_records = certificate
        .validation
        .iter()
        .chain(certificate.renewal.iter().flat_map(|r| &r.validation))
        .filter_map(|dv| dv.record.as_ref());
    for (name, value) in dns_records {
        if !claimed.insert(key(name)) {
            continue;
        }
        let target = match certificate.validation_record {
            ValidationRecord::Wrong => ids::stale_validation_target(name),
            _ => value.clone(),
        };
        records.push(Record::Cname {
            name: name.clone(),
            target,
        });
    }
}

fn endpoints(certificate: &Certificate, claimed: &mut HashSet<String>, plan: &mut Plan) {
    if !certificate.resolves {
        return;
    }
    let (addr, served) = match &certificate.endpoint {
        Endpoint::None => return,
        Endpoint::Unreachable => (UNREACHABLE, None),
        Endpoint::Current => {
            let (Some(not_before), Some(not_after)) =
                (certificate.not_before, certificate.not_after)
            else {
                // The world refuses `current` without validity dates; nothing to serve.
                return;
            };
            let spec = CertSpec {
                names: certificate.sans.clone(),
                serial: serial_bytes(&certificate.serial),
                not_before,
                not_after,
                self_signed: false,
            };
            (SERVING, Some(spec))
        }
        Endpoint::Stale {
            serial,
            not_before,
            not_after,
        } => {
            let spec = CertSpec {
                names: certificate.sans.clone(),
                serial: serial_bytes(serial),
                not_before: *not_before,
                not_after: *not_after,
                self_signed: false,
            };
            (SERVING, Some(spec))
        }
    };
    for host in certificate.sans.iter().filter(|n| !n.starts_with("*.")) {
        if !claimed.insert(key(host)) {
            continue;
        }
        plan.records.push(Record::A {
            name: host.clone(),
            addr,
        });
        if let Some(spec) = &served {
            plan.by_sni.push((host.clone(), spec.clone()));
        }
    }
}

/// A DNS name compared as DNS compares them: without case and the final dot.
fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// ACM's colon-separated hex (`0a:1b:…`) as big-endian bytes.
fn serial_bytes(serial: &str) -> Vec<u8> {
    serial
        .split(':')
        .filter_map(|part| u8::from_str_radix(part, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use chrono::{Duration, TimeZone, Utc};

    fn world(text: &str) -> World {
        let scenario = Scenario::from_toml(text).expect("scenario");
        World::resolve(
            &scenario,
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
        )
        .expect("world")
    }

    const HEAD: &str = "[organization]\nmanagement_account_id = \"111122223333\"\n\
        regions = [\"us-east-1\"]\n[network]\nenabled = true\n\
        caa = { \"example.com\" = ['0 issue \"amazon.com\"', '128 tbs \"x; y\"'] }\n\
        [[accounts]]\nid = \"111122223333\"\nname = \"m\"\n";

    const USE: &str = "in_use_by = [\"arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/a/1\"]";

    /// A certificate in us-east-1, expiring in 100 days unless `body` says otherwise.
    fn cert(body: &str) -> String {
        let expiry = if body.contains("expires_in_days") {
            ""
        } else {
            "expires_in_days = 100\n"
        };
        format!("[[accounts.certificates]]\nregion = \"us-east-1\"\n{expiry}{body}\n")
    }

    fn cnames(plan: &Plan) -> Vec<(&str, &str)> {
        plan.records
            .iter()
            .filter_map(|r| match r {
                Record::Cname { name, target } => Some((name.as_str(), target.as_str())),
                _ => None,
            })
            .collect()
    }

    fn a_records(plan: &Plan) -> Vec<(&str, Ipv4Addr)> {
        plan.records
            .iter()
            .filter_map(|r| match r {
                Record::A { name, addr } => Some((name.as_str(), *addr)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn caa_records_are_parsed_as_written() {
        let plan = plan(&world(HEAD));
        assert_eq!(
            plan.records,
            [
                Record::Caa {
                    name: "example.com".into(),
                    flags: 0,
                    tag: "issue".into(),
                    value: "amazon.com".into()
                },
                Record::Caa {
                    name: "example.com".into(),
                    flags: 128,
                    tag: "tbs".into(),
                    value: "x; y".into()
                },
            ]
        );
    }

    #[test]
    fn a_served_certificate_gets_its_records_and_acm_copy() {
        let w = world(&format!(
            "{HEAD}{}",
            cert(&format!(
                "domain = \"www.example.com\"\nsans = [\"*.example.com\"]\n{USE}"
            ))
        ));
        let c = &w.accounts[0].certificates[0];
        let plan = plan(&w);
        let expected: Vec<(String, String)> = c
            .validation
            .iter()
            .map(|dv| dv.record.clone().unwrap())
            .collect();
        let found: Vec<(String, String)> = cnames(&plan)
            .into_iter()
            .map(|(n, t)| (n.to_owned(), t.to_owned()))
            .collect();
        assert_eq!(found, expected, "one CNAME per base domain, ACM's value");
        assert_eq!(a_records(&plan), [("www.example.com", SERVING)]);
        assert_eq!(plan.by_sni.len(), 1, "the wildcard is not a host");
        let (host, spec) = &plan.by_sni[0];
        assert_eq!(host, "www.example.com");
        assert_eq!(spec.names, ["www.example.com", "*.example.com"]);
        assert_eq!(spec.not_after, c.not_after.unwrap());
        assert_eq!(spec.not_before, c.not_before.unwrap());
        assert_eq!(spec.serial.len(), 16);
        assert_eq!(
            spec.serial
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
            c.serial
        );
    }

    #[test]
    fn each_key_changes_what_the_world_sees() {
        let w = world(&format!(
            "{HEAD}{}{}{}{}{}{}",
            cert(&format!("domain = \"missing.example.com\"\nvalidation_record = \"missing\"\n{USE}")),
            cert(&format!("domain = \"wrong.example.com\"\nvalidation_record = \"wrong\"\n{USE}")),
            cert(&format!("domain = \"gone.example.com\"\nresolves = false\n{USE}")),
            cert(&format!("domain = \"closed.example.com\"\nendpoint = \"unreachable\"\n{USE}")),
            cert("domain = \"sftp.example.com\"\nexported = true\nendpoint = \"stale\"\nlifetime_days = 198"),
            cert("domain = \"idle.example.com\""),
        ));
        let certs = &w.accounts[0].certificates;
        let plan = plan(&w);
        let cnames = cnames(&plan);
        let record = |i: usize| certs[i].validation[0].record.clone().unwrap();
        assert!(!cnames.iter().any(|(n, _)| *n == record(0).0), "missing");
        let (wrong_name, acm_value) = record(1);
        let wrong = cnames.iter().find(|(n, _)| *n == wrong_name).unwrap();
        assert_ne!(wrong.1, acm_value);
        assert!(wrong.1.ends_with(".acm-validations.aws."));
        for i in 2..6 {
            assert!(cnames.contains(&(record(i).0.as_str(), record(i).1.as_str())));
        }
        assert_eq!(
            a_records(&plan),
            [
                ("missing.example.com", SERVING),
                ("wrong.example.com", SERVING),
                ("closed.example.com", UNREACHABLE),
                ("sftp.example.com", SERVING),
            ],
            "gone resolves to nothing; idle is not served anywhere"
        );
        let served: Vec<&str> = plan.by_sni.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            served,
            [
                "missing.example.com",
                "wrong.example.com",
                "sftp.example.com"
            ]
        );
        let stale = &plan.by_sni[2].1;
        assert_eq!(stale.not_after, w.now + Duration::days(9));
        assert_eq!(stale.not_after - stale.not_before, Duration::days(198));
        assert_ne!(stale.serial, serial_bytes(&certs[4].serial));
    }

    #[test]
    fn the_first_certificate_decides_a_shared_name() {
        let w = world(&format!(
            "{HEAD}{}{}",
            cert(&format!("domain = \"shop.example.com\"\n{USE}")),
            cert(&format!(
                "domain = \"shop.example.com\"\nexpires_in_days = 50\nendpoint = \"unreachable\"\nvalidation_record = \"wrong\"\n{USE}"
            )),
        ));
        let plan = plan(&w);
        let first = &w.accounts[0].certificates[0];
        let (name, value) = first.validation[0].record.clone().unwrap();
        assert_eq!(cnames(&plan), [(name.as_str(), value.as_str())]);
        assert_eq!(a_records(&plan), [("shop.example.com", SERVING)]);
        assert_eq!(plan.by_sni.len(), 1);
        assert_eq!(plan.by_sni[0].1.not_after, first.not_after.unwrap());
    }

    #[test]
    fn endpoints_default_to_where_a_certificate_is_served() {
        let pending = format!(
            "[[accounts.certificates]]\nregion = \"us-east-1\"\ndomain = \"pending.example.com\"\nstatus = \"PENDING_VALIDATION\"\n{USE}\n"
        );
        let w = world(&format!(
            "{HEAD}{}{}{pending}{}",
            cert("domain = \"imported.example.com\"\ntype = \"IMPORTED\""),
            cert(&format!(
                "domain = \"expired.example.com\"\nexpires_in_days = -1\n{USE}"
            )),
            cert("domain = \"private.example.com\"\ntype = \"PRIVATE\"\nexported = true"),
        ));
        let endpoints: Vec<&Endpoint> = w.accounts[0]
            .certificates
            .iter()
            .map(|c| &c.endpoint)
            .collect();
        assert_eq!(
            endpoints,
            [
                &Endpoint::Current,
                &Endpoint::None,
                &Endpoint::None,
                &Endpoint::Current
            ]
        );
    }
}
