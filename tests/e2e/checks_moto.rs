//! The network checks end to end: `certwatch scan` of the moto organization with a loopback
//! DNS server (the simulator's authoritative zone) and TLS listeners standing in for the
//! internet. Each of the six network codes must land on the certificate set up for it and on
//! no other; a nameserver that never answers gives failure rows and no finding.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use certwatch_core::{serial_value, Code, Report, Stage};
use certwatch_sim::net::dns::{DnsServer, Record, SilentDns};
use certwatch_sim::net::tls::{CertSpec, TlsServer};
use chrono::{Duration, Utc};

use crate::support::moto::{self, Kind, Moto};

/// What the world does wrong for one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Healthy,
    CnameMissing,
    CnameWrong,
    CaaForbids,
    Unresolvable,
    Unreachable,
    StaleCopy,
}

impl Role {
    fn code(self) -> Option<Code> {
        match self {
            Role::Healthy => None,
            Role::CnameMissing => Some(Code::ValidationRecordMissing),
            Role::CnameWrong => Some(Code::ValidationRecordWrong),
            Role::CaaForbids => Some(Code::CaaForbidsAmazon),
            Role::Unresolvable => Some(Code::NameUnresolvable),
            Role::Unreachable => Some(Code::EndpointUnreachable),
            Role::StaleCopy => Some(Code::ServedStale),
        }
    }
}

fn checks_toml(nameserver: std::net::SocketAddr, tls_port: u16) -> String {
    format!(
        "[checks]\nnameservers = [\"{nameserver}\"]\ntls_port = {tls_port}\ntimeout_seconds = 2\n"
    )
}

fn parse(output: &std::process::Output) -> Report {
    assert!(
        output.status.success(),
        "certwatch scan failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not a report ({e}):\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_network_code_lands_on_its_certificate_and_no_other() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let moto = Moto::start();
    let manifest = tokio::task::block_in_place(|| moto::seed(&moto));
    // The validation records and serials moto made, as certwatch reads them (checks off).
    let off = "[checks]\ndns = false\ntls = false\n";
    let cold = parse(&tokio::task::block_in_place(|| {
        moto::scan(&moto, &manifest, off, &[])
    }));

    // Roles: the DNS-validated certificates in use (one per account-region) get one fault each,
    // one imported certificate is served as an old copy; everything else is healthy.
    let mut in_use: Vec<_> = cold
        .certificates
        .iter()
        .filter(|c| manifest_kind(&manifest, &c.facts.arn) == Some(Kind::DnsInUse))
        .collect();
    in_use.sort_by(|a, b| a.facts.arn.cmp(&b.facts.arn));
    assert!(
        in_use.len() >= 6,
        "the seed has {} certificates in use",
        in_use.len()
    );
    let faults = [
        Role::Healthy,
        Role::CnameMissing,
        Role::CnameWrong,
        Role::CaaForbids,
        Role::Unresolvable,
        Role::Unreachable,
    ];
    let mut roles: BTreeMap<String, Role> = cold
        .certificates
        .iter()
        .map(|c| (c.facts.arn.clone(), Role::Healthy))
        .collect();
    for (record, role) in in_use.iter().zip(faults) {
        roles.insert(record.facts.arn.clone(), role);
    }
    let stale = cold
        .certificates
        .iter()
        .find(|c| {
            manifest_kind(&manifest, &c.facts.arn) == Some(Kind::ImportedEc)
                && c.days_to_expiry.is_some_and(|d| d > 60)
        })
        .expect("an imported EC certificate far from expiry");
    roles.insert(stale.facts.arn.clone(), Role::StaleCopy);

    // The world: CAA allows Amazon at the apex; each certificate's records by its role.
    let unreachable = Ipv4Addr::new(127, 0, 0, 2);
    let mut records = vec![Record::Caa {
        name: "example.com".into(),
        flags: 0,
        tag: "issue".into(),
        value: "amazon.com".into(),
    }];
    let mut by_sni = Vec::new();
    for record in &cold.certificates {
        let facts = &record.facts;
        let role = roles[&facts.arn];
        for dv in &facts.domain_validation_options {
            let Some(rr) = &dv.resource_record else {
                continue;
            };
            match role {
                Role::CnameMissing => {}
                Role::CnameWrong => records.push(Record::Cname {
                    name: rr.name.clone(),
                    target: "_0ld0ld0ld.acm-validations.aws.".into(),
                }),
                _ => records.push(Record::Cname {
                    name: rr.name.clone(),
                    target: rr.value.clone(),
                }),
            }
        }
        let name = facts.domain_name.clone().expect("a domain");
        if role == Role::CaaForbids {
            records.push(Record::Caa {
                name: name.clone(),
                flags: 0,
                tag: "issue".into(),
                value: "letsencrypt.org".into(),
            });
        }
        let served = facts.in_use || facts.cert_type.as_str() == "IMPORTED";
        if !served || record.days_to_expiry.is_some_and(|d| d < 0) {
            continue;
        }
        match role {
            Role::Unresolvable => {}
            Role::Unreachable => records.push(Record::A {
                name: name.clone(),
                addr: unreachable,
            }),
            _ => records.push(Record::A {
                name: name.clone(),
                addr: Ipv4Addr::LOCALHOST,
            }),
        }
        let not_after = facts.not_after.expect("issued certificates have NotAfter");
        // Imported certificates listed with ListCertificates are not described, so their
        // serial is unknown and NotAfter alone tells ACM's copy from another.
        let acm_serial = facts
            .serial
            .as_deref()
            .and_then(serial_value)
            .unwrap_or_else(|| vec![0x42, by_sni.len() as u8]);
        let spec = match role {
            Role::StaleCopy => CertSpec {
                names: vec![name.clone()],
                serial: vec![0x0b, 0xad],
                not_before: Utc::now() - Duration::days(300),
                not_after: Utc::now() + Duration::days(10),
                self_signed: false,
            },
            _ => CertSpec {
                names: vec![name.clone()],
                serial: acm_serial,
                not_before: facts
                    .not_before
                    .unwrap_or_else(|| Utc::now() - Duration::days(1)),
                not_after,
                self_signed: false,
            },
        };
        by_sni.push((name, spec));
    }
    let dns = DnsServer::start(records).await.expect("DNS server");
    let tls = TlsServer::start(IpAddr::V4(Ipv4Addr::LOCALHOST), 0, by_sni, None)
        .await
        .expect("TLS listener");
    let toml = checks_toml(dns.addr(), tls.addr().port());
    let report = parse(&tokio::task::block_in_place(|| {
        moto::scan(&moto, &manifest, &toml, &[])
    }));

    assert!(
        report.failures.is_empty(),
        "no check failed: {:#?}",
        report.failures
    );
    assert_eq!(report.certificates.len(), cold.certificates.len());
    let mut problems = Vec::new();
    for record in &report.certificates {
        let role = roles[&record.facts.arn];
        let network: Vec<&Code> = record
            .findings
            .iter()
            .map(|f| &f.code)
            .filter(|c| Code::NETWORK.contains(c))
            .collect();
        let expected: Vec<Code> = role.code().into_iter().collect();
        if network.iter().copied().cloned().collect::<Vec<_>>() != expected {
            problems.push(format!(
                "{} ({role:?}): network findings {network:?}, expected {expected:?}",
                record.facts.display_name()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // What was checked is in the report.
    let find = |role: Role| {
        report
            .certificates
            .iter()
            .find(|c| roles[&c.facts.arn] == role)
            .expect("role assigned")
    };
    let healthy = find(Role::Healthy);
    let checks = healthy.facts.checks.as_ref().expect("checks recorded");
    assert!(checks.validation_records.iter().all(|r| r.matches()));
    let endpoint = &checks.names[0].endpoints[0];
    let served = endpoint.served.as_ref().expect("served");
    assert!(served.matches_acm, "{served:?}");
    assert_eq!(
        served.verdict, "unknown_issuer",
        "the simulator's CA is not trusted"
    );
    let stale_served = find(Role::StaleCopy).facts.checks.as_ref().unwrap().names[0].endpoints[0]
        .served
        .clone()
        .unwrap();
    assert_eq!(stale_served.serial, "0b:ad");
    let stale_finding = find(Role::StaleCopy)
        .findings
        .iter()
        .find(|f| f.code == Code::ServedStale)
        .unwrap();
    assert!(
        stale_finding.remedy.contains("serves serial 0b:ad"),
        "{}",
        stale_finding.remedy
    );
    let caa = find(Role::CaaForbids);
    let caa_finding = caa
        .findings
        .iter()
        .find(|f| f.code == Code::CaaForbidsAmazon)
        .unwrap();
    assert!(caa_finding.remedy.contains("CAA 0 issue \"amazon.com\""));
    let stats = &report.stats.checks;
    assert!(stats.lookups > 0 && stats.probes > 0, "{stats:?}");
    assert_eq!(stats.failures, 0);
    eprintln!(
        "checks on moto: {} certificates checked, {} lookups, {} probes in {} ms",
        stats.certificates, stats.lookups, stats.probes, stats.duration_ms
    );

    // A nameserver that never answers: every lookup is a dns failure row, no finding, and
    // every certificate is still reported.
    let silent = SilentDns::start().await.expect("silent nameserver");
    let toml = checks_toml(silent.addr(), tls.addr().port());
    let report = parse(&tokio::task::block_in_place(|| {
        moto::scan(&moto, &manifest, &toml, &[])
    }));
    assert_eq!(report.certificates.len(), cold.certificates.len());
    assert!(!report.failures.is_empty());
    assert!(
        report
            .failures
            .iter()
            .all(|f| f.stage == Stage::Dns && f.certificate_arn.is_some()),
        "{:#?}",
        report.failures
    );
    assert!(report
        .certificates
        .iter()
        .all(|c| c.findings.iter().all(|f| !Code::NETWORK.contains(&f.code))));
    silent.shutdown().await;
    tls.shutdown().await;
    dns.shutdown().await;
}

fn manifest_kind(manifest: &moto::Manifest, arn: &str) -> Option<Kind> {
    manifest
        .certificates
        .iter()
        .find(|c| c.arn == arn)
        .map(|c| c.kind)
}
