//! Shared by the probe's integration tests: certificates to check, the simulator's DNS zone and
//! TLS endpoints on 127.0.0.1, and the prober pointed at them. Nothing leaves loopback.

#![allow(dead_code)] // each test binary uses its own part of this module

use certwatch_core::{
    classify, CertificateFacts, Code, DomainValidation, Policy, RenewalEligibility, ResourceRecord,
    ValidationMethod, ValidationStatus,
};
use certwatch_probe::{Checked, ProbeConfig, Prober};
use certwatch_sim::net::dns::{DnsServer, Record};
use chrono::{DateTime, Duration, DurationRound, Utc};
use std::net::{Ipv4Addr, SocketAddr};

/// What ACM expects at every validation name of [`cert`].
pub const VALIDATION_TARGET: &str = "_ok.acm-validations.aws.";

/// Now, to the second (certificates carry whole seconds).
pub fn now() -> DateTime<Utc> {
    Utc::now().duration_trunc(Duration::seconds(1)).unwrap()
}

/// The validation name ACM gives for `domain` (a wildcard shares its base name's).
pub fn validation_name(domain: &str) -> String {
    format!("_v.{}.", domain.strip_prefix("*.").unwrap_or(domain))
}

/// An Amazon-issued certificate in use, mid-life, whose names are DNS-validated at
/// [`validation_name`] with [`VALIDATION_TARGET`].
pub fn cert(arn_suffix: &str, names: &[&str]) -> CertificateFacts {
    let mut c = CertificateFacts::new(
        "111122223333",
        "eu-west-1",
        &format!("arn:aws:acm:eu-west-1:111122223333:certificate/{arn_suffix}"),
    );
    c.domain_name = names.first().map(|n| (*n).to_owned());
    c.subject_alternative_names = names.iter().map(|n| (*n).to_owned()).collect();
    c.not_before = Some(now() - Duration::days(30));
    c.not_after = Some(now() + Duration::days(150));
    c.serial = Some("0a:0b".into());
    c.in_use = true;
    c.in_use_by =
        vec!["arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/x/1".into()];
    c.renewal_eligibility = Some(RenewalEligibility::Eligible);
    c.described = true;
    c.domain_validation_options = names
        .iter()
        .map(|d| DomainValidation {
            domain_name: (*d).to_owned(),
            validation_domain: Some((*d).to_owned()),
            validation_method: Some(ValidationMethod::Dns),
            validation_status: Some(ValidationStatus::Success),
            resource_record: Some(ResourceRecord {
                name: validation_name(d),
                record_type: "CNAME".into(),
                value: VALIDATION_TARGET.into(),
            }),
            ..DomainValidation::default()
        })
        .collect();
    c
}

/// An A record at `name` pointing at 127.0.0.1 and its validation CNAME as ACM expects it.
pub fn healthy(name: &str) -> Vec<Record> {
    vec![
        Record::A {
            name: name.to_owned(),
            addr: Ipv4Addr::LOCALHOST,
        },
        validation(name, VALIDATION_TARGET),
    ]
}

pub fn validation(name: &str, target: &str) -> Record {
    Record::Cname {
        name: validation_name(name),
        target: target.to_owned(),
    }
}

pub fn caa(name: &str, flags: u8, tag: &str, value: &str) -> Record {
    Record::Caa {
        name: name.to_owned(),
        flags,
        tag: tag.to_owned(),
        value: value.to_owned(),
    }
}

pub async fn dns(records: Vec<Record>) -> DnsServer {
    DnsServer::start(records)
        .await
        .expect("the DNS server starts")
}

/// DNS checks only, against `nameservers`, with a short timeout.
pub fn dns_config(nameservers: Vec<SocketAddr>) -> ProbeConfig {
    ProbeConfig {
        tls: false,
        nameservers,
        timeout: std::time::Duration::from_secs(1),
        ..ProbeConfig::default()
    }
}

pub fn prober(config: &ProbeConfig) -> Prober {
    Prober::new(config).expect("the prober starts")
}

/// Checks `facts` and keeps what the checks saw in them.
pub async fn check(prober: &Prober, facts: &mut CertificateFacts) -> Checked {
    let checked = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        prober.check(facts, now()),
    )
    .await
    .expect("a check ends");
    facts.checks = checked.checks.clone();
    checked
}

/// The network codes core finds in `facts` (with its checks).
pub fn network_codes(facts: &CertificateFacts) -> Vec<Code> {
    classify(facts, now(), &Policy::default())
        .into_iter()
        .map(|f| f.code)
        .filter(|code| Code::NETWORK.contains(code))
        .collect()
}

/// A nameserver on 127.0.0.1 (UDP) that answers every query with SERVFAIL, as a broken
/// resolver does. Stops when dropped.
pub struct ServfailDns {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl ServfailDns {
    pub async fn start() -> ServfailDns {
        let socket = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok((len, from)) = socket.recv_from(&mut buf).await {
                if let Some(reply) = servfail(&buf[..len]) {
                    let _ = socket.send_to(&reply, from).await;
                }
            }
        });
        ServfailDns { addr, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ServfailDns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The query's header and question, turned into a SERVFAIL response with no other section.
fn servfail(query: &[u8]) -> Option<Vec<u8>> {
    let mut end = 12;
    while *query.get(end)? != 0 {
        end += 1 + usize::from(query[end]);
    }
    end += 1 + 4; // the root label, QTYPE, QCLASS
    let mut reply = query.get(..end)?.to_vec();
    reply[2] |= 0x80; // QR: a response
    reply[3] = 0x80 | 2; // RA, RCODE 2 = SERVFAIL
    reply[6..12].fill(0); // no answer, authority or additional records
    Some(reply)
}
