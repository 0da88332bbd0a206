//! TLS probes of the simulator's endpoints on 127.0.0.1: what each served, with the WebPKI
//! verdict recorded (the simulator's CA trusted), ACM's current copy recognised by serial and
//! NotAfter, and endpoints that do not answer.

mod support;

use certwatch_core::{Answer, CertificateFacts, Code, EndpointProbe};
use certwatch_probe::{ProbeConfig, Prober};
use certwatch_sim::net::tls::{sim_ca_pem, CertSpec, TlsServer};
use chrono::Duration;
use std::net::{IpAddr, Ipv4Addr};
use support::*;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn spec(names: &[&str], serial: &[u8], days_left: i64) -> CertSpec {
    CertSpec {
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        serial: serial.to_vec(),
        not_before: now() - Duration::days(200),
        not_after: now() + Duration::days(days_left),
        self_signed: false,
    }
}

fn tls_config(dns: std::net::SocketAddr, port: u16) -> ProbeConfig {
    ProbeConfig {
        tls: true,
        tls_port: port,
        ..dns_config(vec![dns])
    }
}

/// The one endpoint probed for the certificate's only name.
fn endpoint(facts: &CertificateFacts) -> EndpointProbe {
    let names = &facts.checks.as_ref().expect("checked").names;
    assert_eq!(names[0].answer, Answer::Records);
    assert_eq!(names[0].endpoints.len(), 1, "{names:?}");
    names[0].endpoints[0].clone()
}

#[tokio::test]
async fn served_certificates_are_recorded_with_their_verdicts() {
    let names = [
        "current.example.test",
        "expired.example.test",
        "self.example.test",
        "wrong.example.test",
    ];
    let server = dns(names.iter().flat_map(|n| healthy(n)).collect()).await;
    // ACM's current copy: a serial whose first bit is set (DER adds a 00 sign byte), and a
    // NotAfter that ACM reports with a fraction of a second.
    let current = spec(&["current.example.test"], &[0x9f, 0x01, 0x02], 150);
    let mut self_signed = spec(&["self.example.test"], &[0x05], 150);
    self_signed.self_signed = true;
    let endpoints = TlsServer::start(
        LOOPBACK,
        0,
        vec![
            ("current.example.test".into(), current.clone()),
            (
                "expired.example.test".into(),
                spec(&["expired.example.test"], &[0x0e], -1),
            ),
            ("self.example.test".into(), self_signed),
            (
                "wrong.example.test".into(),
                spec(&["other.example.test"], &[0x0f], 150),
            ),
        ],
        None,
    )
    .await
    .unwrap();
    let config = tls_config(server.addr(), endpoints.addr().port());
    let prober = Prober::with_trust_anchors(&config, &sim_ca_pem()).unwrap();

    let mut acm = cert("cur", &["current.example.test"]);
    acm.serial = Some((0x9f0102u32).to_string()); // decimal, as moto gives it
    acm.not_after = Some(current.not_after + Duration::milliseconds(250));
    let checked = check(&prober, &mut acm).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let probe = endpoint(&acm);
    assert_eq!(
        (probe.address.as_str(), probe.port, probe.error.as_deref()),
        ("127.0.0.1", endpoints.addr().port(), None)
    );
    let served = probe.served.expect("a handshake");
    assert_eq!(served.serial, "9f:01:02");
    assert_eq!(served.not_after, current.not_after);
    assert_eq!(served.not_before, current.not_before);
    assert_eq!(served.names, ["current.example.test"]);
    assert_eq!(served.subject, "CN=current.example.test");
    assert!(
        served.issuer.contains("certwatch simulator CA"),
        "{}",
        served.issuer
    );
    assert_eq!((served.verdict.as_str(), served.chain_length), ("valid", 2));
    assert!(served.matches_acm);
    assert_eq!(network_codes(&acm), []);

    // Another serial than ACM's with the same name: not ACM's copy.
    let mut renewed = cert("ren", &["current.example.test"]);
    renewed.serial = Some("01:02".into());
    renewed.not_after = Some(current.not_after + Duration::days(30));
    check(&prober, &mut renewed).await;
    assert!(!endpoint(&renewed).served.unwrap().matches_acm);
    assert_eq!(network_codes(&renewed), [Code::ServedStale]);

    let verdict = |name: &str| {
        let prober = &prober;
        let name = name.to_owned();
        async move {
            let mut facts = cert(&name, &[&name]);
            let checked = check(prober, &mut facts).await;
            assert!(checked.failures.is_empty(), "{:?}", checked.failures);
            let served = endpoint(&facts).served.expect("a handshake");
            (
                served.verdict,
                served.chain_length,
                served.matches_acm,
                served.names,
            )
        }
    };
    assert_eq!(
        verdict("expired.example.test").await,
        (
            "expired".into(),
            2,
            false,
            vec!["expired.example.test".into()]
        )
    );
    assert_eq!(
        verdict("self.example.test").await,
        (
            "unknown_issuer".into(),
            1,
            false,
            vec!["self.example.test".into()]
        )
    );
    assert_eq!(
        verdict("wrong.example.test").await,
        (
            "name_mismatch".into(),
            2,
            false,
            vec!["other.example.test".into()]
        )
    );
    // current.example.test was probed once for both certificates.
    assert_eq!(prober.stats().probes, 4);

    // Without the simulator's CA, its chains have an unknown issuer.
    let untrusting = Prober::new(&config).unwrap();
    let mut facts = cert("u", &["current.example.test"]);
    check(&untrusting, &mut facts).await;
    assert_eq!(endpoint(&facts).served.unwrap().verdict, "unknown_issuer");

    endpoints.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn endpoints_that_do_not_answer_are_recorded_not_failed() {
    let names = ["closed.example.test", "nocert.example.test"];
    let server = dns(names.iter().flat_map(|n| healthy(n)).collect()).await;

    // A port where nothing listens: bound, then released.
    let closed = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let refused = prober(&tls_config(server.addr(), closed_port));
    let mut facts = cert("c", &["closed.example.test"]);
    let checked = check(&refused, &mut facts).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let probe = endpoint(&facts);
    assert_eq!(probe.served, None);
    assert_eq!(probe.error.as_deref(), Some("connection refused"));
    assert!(!probe.local_failure);
    assert_eq!(network_codes(&facts), [Code::EndpointUnreachable]);
    assert_eq!(refused.stats().probes, 1);

    // An endpoint with no certificate for the name answers with an alert.
    let endpoints = TlsServer::start(LOOPBACK, 0, vec![], None).await.unwrap();
    let alerting = prober(&tls_config(server.addr(), endpoints.addr().port()));
    let mut facts = cert("n", &["nocert.example.test"]);
    let checked = check(&alerting, &mut facts).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let probe = endpoint(&facts);
    assert_eq!(probe.served, None);
    let error = probe.error.unwrap();
    assert!(error.starts_with("TLS alert: "), "{error}");
    assert_eq!(network_codes(&facts), [Code::EndpointUnreachable]);
    endpoints.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_wildcard_default_certificate_serves_every_name() {
    let names: Vec<String> = (0..20).map(|i| format!("h{i}.example.test")).collect();
    let server = dns(names.iter().flat_map(|n| healthy(n)).collect()).await;
    let endpoints = TlsServer::start(
        LOOPBACK,
        0,
        vec![],
        Some(spec(&["*.example.test"], &[0x42], 150)),
    )
    .await
    .unwrap();
    let config = ProbeConfig {
        max_concurrency: 4,
        ..tls_config(server.addr(), endpoints.addr().port())
    };
    let prober = Prober::with_trust_anchors(&config, &sim_ca_pem()).unwrap();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut facts = cert("w", &refs);
    let checked = check(&prober, &mut facts).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let checks = facts.checks.as_ref().unwrap();
    for name in &checks.names {
        let served = name.endpoints[0].served.as_ref().expect("served");
        assert_eq!(served.verdict, "valid", "{}", name.name);
        assert!(served.covers(&name.name));
    }
    assert_eq!(prober.stats().probes, 20);
    endpoints.shutdown().await;
    server.shutdown().await;
}
