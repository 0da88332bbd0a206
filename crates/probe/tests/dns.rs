//! DNS checks against the simulator's zone on 127.0.0.1: validation records, names, a silent
//! nameserver, the fallback to a second one, and one lookup per name and type per scan.

mod support;

use certwatch_core::{Answer, Code, Stage};
use certwatch_probe::ProbeConfig;
use certwatch_sim::net::dns::{Record, SilentDns};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};
use support::*;

#[tokio::test]
async fn validation_records_present_missing_and_wrong() {
    let mut records = healthy("ok.example.test");
    records.push(Record::A {
        name: "missing.example.test".into(),
        addr: Ipv4Addr::LOCALHOST,
    });
    records.push(Record::A {
        name: "wrong.example.test".into(),
        addr: Ipv4Addr::LOCALHOST,
    });
    records.push(validation(
        "wrong.example.test",
        "_old.acm-validations.aws.",
    ));
    let server = dns(records).await;
    let prober = prober(&dns_config(vec![server.addr()]));
    let mut facts = cert(
        "v",
        &[
            "ok.example.test",
            "missing.example.test",
            "wrong.example.test",
        ],
    );
    let checked = check(&prober, &mut facts).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let found: Vec<_> = facts
        .checks
        .as_ref()
        .unwrap()
        .validation_records
        .iter()
        .map(|r| {
            (
                r.domain.as_str(),
                r.name.clone(),
                r.answer,
                r.found.clone(),
                r.matches(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "ok.example.test",
                validation_name("ok.example.test"),
                Answer::Records,
                vec![VALIDATION_TARGET.to_owned()],
                true
            ),
            (
                "missing.example.test",
                validation_name("missing.example.test"),
                Answer::NxDomain,
                vec![],
                false
            ),
            (
                "wrong.example.test",
                validation_name("wrong.example.test"),
                Answer::Records,
                vec!["_old.acm-validations.aws.".to_owned()],
                false
            ),
        ]
    );
    assert_eq!(
        network_codes(&facts),
        [Code::ValidationRecordMissing, Code::ValidationRecordWrong]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn names_resolve_through_cnames_and_nxdomain_differs_from_nodata() {
    let records = vec![
        Record::A {
            name: "www.example.test".into(),
            addr: Ipv4Addr::new(127, 0, 0, 1),
        },
        Record::Aaaa {
            name: "www.example.test".into(),
            addr: Ipv6Addr::LOCALHOST,
        },
        Record::Cname {
            name: "alias.example.test".into(),
            target: "lb.example.test".into(),
        },
        Record::Cname {
            name: "lb.example.test".into(),
            target: "www.example.test".into(),
        },
        Record::Txt {
            name: "txt.example.test".into(),
            value: "exists, without addresses".into(),
        },
        Record::Cname {
            name: "dangling.example.test".into(),
            target: "nowhere.example.test".into(),
        },
    ];
    let server = dns(records).await;
    let prober = prober(&dns_config(vec![server.addr()]));
    let names = [
        "www.example.test",
        "alias.example.test",
        "gone.example.test",
        "txt.example.test",
        "dangling.example.test",
    ];
    let mut facts = cert("n", &names);
    let checked = check(&prober, &mut facts).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let seen: Vec<_> = facts
        .checks
        .as_ref()
        .unwrap()
        .names
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.answer,
                n.cnames.clone(),
                n.addresses.clone(),
            )
        })
        .collect();
    let both = vec!["127.0.0.1".to_owned(), "::1".to_owned()];
    assert_eq!(
        seen,
        [
            ("www.example.test", Answer::Records, vec![], both.clone()),
            (
                "alias.example.test",
                Answer::Records,
                vec!["lb.example.test".to_owned(), "www.example.test".to_owned()],
                both
            ),
            ("gone.example.test", Answer::NxDomain, vec![], vec![]),
            ("txt.example.test", Answer::NoData, vec![], vec![]),
            (
                "dangling.example.test",
                Answer::NxDomain,
                vec!["nowhere.example.test".to_owned()],
                vec![]
            ),
        ]
    );
    assert!(network_codes(&facts).contains(&Code::NameUnresolvable));
    server.shutdown().await;
}

#[tokio::test]
async fn a_silent_nameserver_fails_within_the_timeout_and_is_no_finding() {
    let silent = SilentDns::start().await.unwrap();
    let config = dns_config(vec![silent.addr()]);
    let prober = prober(&config);
    let mut facts = cert("s", &["shop.example.test"]);
    let started = Instant::now();
    let checked = check(&prober, &mut facts).await;
    let took = started.elapsed();
    // The lookups run at once: the whole check takes about one timeout.
    assert!(
        took >= config.timeout - Duration::from_millis(100) && took < config.timeout * 3,
        "{took:?}"
    );
    let checks = facts.checks.as_ref().unwrap();
    assert_eq!(checks.validation_records[0].answer, Answer::Failed);
    assert_eq!(checks.caa[0].answer, Answer::Failed);
    assert_eq!(checks.names[0].answer, Answer::Failed);
    assert!(!checks.complete());
    // validation CNAME, the first CAA level, A, AAAA
    assert_eq!(checked.failures.len(), 4, "{:#?}", checked.failures);
    for (stage, text) in &checked.failures {
        assert_eq!(*stage, Stage::Dns);
        assert!(text.contains(&silent.addr().to_string()), "{text}");
        assert!(text.contains("timed out after 1 s"), "{text}");
    }
    assert!(checked
        .failures
        .iter()
        .any(|(_, t)| t.starts_with("CAA lookup of shop.example.test:")));
    assert_eq!(network_codes(&facts), []);
    let stats = prober.stats();
    assert_eq!(
        (stats.lookups, stats.failures, stats.certificates),
        (4, 4, 1)
    );
    silent.shutdown().await;
}

#[tokio::test]
async fn a_second_nameserver_answers_when_the_first_is_silent() {
    let silent = SilentDns::start().await.unwrap();
    let names = [
        "a.example.test",
        "b.example.test",
        "c.example.test",
        "d.example.test",
    ];
    let server = dns(names.iter().flat_map(|n| healthy(n)).collect()).await;
    // Both orders: names whose nameserver is the silent one fall back to the other.
    for nameservers in [
        vec![silent.addr(), server.addr()],
        vec![server.addr(), silent.addr()],
    ] {
        let prober = prober(&dns_config(nameservers));
        let mut facts = cert("f", &names);
        let checked = check(&prober, &mut facts).await;
        assert!(checked.failures.is_empty(), "{:?}", checked.failures);
        let checks = facts.checks.as_ref().unwrap();
        assert!(checks.complete());
        assert!(checks.names.iter().all(|n| n.answer == Answer::Records));
        assert!(checks.validation_records.iter().all(|r| r.matches()));
        assert_eq!(network_codes(&facts), []);
        // 4 validation CNAMEs, CAA at the 4 names + example.test + test, 4 × (A, AAAA) = 18
        // questions; each that went to the silent nameserver first was sent twice.
        let lookups = prober.stats().lookups;
        assert!(lookups > 18 && lookups < 36, "{lookups}");
    }
    server.shutdown().await;
    silent.shutdown().await;
}

#[tokio::test]
async fn servfail_is_no_answer_and_the_next_nameserver_is_asked() {
    let broken = ServfailDns::start().await;
    let names = ["a.example.test", "b.example.test", "c.example.test"];
    let server = dns(names.iter().flat_map(|n| healthy(n)).collect()).await;

    let alone = prober(&dns_config(vec![broken.addr()]));
    let mut facts = cert("sf", &names);
    let checked = check(&alone, &mut facts).await;
    let checks = facts.checks.as_ref().unwrap();
    assert!(checks.names.iter().all(|n| n.answer == Answer::Failed));
    assert!(checks.caa.iter().all(|c| c.answer == Answer::Failed));
    assert!(!checked.failures.is_empty());
    for (stage, text) in &checked.failures {
        assert_eq!(*stage, Stage::Dns);
        assert!(
            text.ends_with(&format!("no answer from {} (SERVFAIL)", broken.addr())),
            "{text}"
        );
    }
    assert_eq!(network_codes(&facts), []);

    let with_fallback = prober(&dns_config(vec![broken.addr(), server.addr()]));
    let mut facts = cert("sf2", &names);
    let checked = check(&with_fallback, &mut facts).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    assert!(facts.checks.as_ref().unwrap().complete());
    assert_eq!(network_codes(&facts), []);
    server.shutdown().await;
}

#[tokio::test]
async fn each_nameserver_is_paced_at_its_own_rate() {
    let names: Vec<String> = (0..10).map(|i| format!("p{i}.example.test")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let records: Vec<Record> = names.iter().flat_map(|n| healthy(n)).collect();
    let (one, two) = (dns(records.clone()).await, dns(records).await);
    let qps = 20.0;
    let timed = |nameservers| async {
        let prober = prober(&ProbeConfig {
            queries_per_second: qps,
            ..dns_config(nameservers)
        });
        let mut facts = cert("q", &refs);
        let started = Instant::now();
        let checked = check(&prober, &mut facts).await;
        assert!(checked.failures.is_empty(), "{:?}", checked.failures);
        (started.elapsed(), prober.stats().lookups)
    };
    // 10 validation CNAMEs, CAA at 10 names + example.test + test, 10 × (A, AAAA)
    let (alone, lookups) = timed(vec![one.addr()]).await;
    assert_eq!(lookups, 42);
    // A burst of one at 20 per second: the first query goes at once.
    let floor = Duration::from_secs_f64((lookups - 1) as f64 / qps);
    assert!(alone >= floor, "{alone:?} < {floor:?}");
    // Two nameservers share the questions, each at 20 per second.
    let (shared, lookups) = timed(vec![one.addr(), two.addr()]).await;
    assert_eq!(lookups, 42);
    assert!(shared < alone.mul_f64(0.8), "{shared:?} vs {alone:?}");
    one.shutdown().await;
    two.shutdown().await;
}

#[tokio::test]
async fn certificates_sharing_names_are_looked_up_once() {
    let server = dns([
        healthy("solo.example.test"),
        healthy("www.solo.example.test"),
    ]
    .concat())
    .await;
    let config = dns_config(vec![server.addr()]);

    let alone = prober(&config);
    let mut first = cert("1", &["solo.example.test"]);
    check(&alone, &mut first).await;
    // validation CNAME, CAA at solo.example.test, example.test and test, A, AAAA
    assert_eq!(alone.stats().lookups, 6);

    let shared = prober(&config);
    let mut copies: Vec<_> = (0..5)
        .map(|i| cert(&format!("c{i}"), &["solo.example.test"]))
        .collect();
    let checks = copies
        .iter_mut()
        .map(|c| async { shared.check(c, now()).await });
    let results = futures::future::join_all(checks).await;
    assert!(results
        .iter()
        .all(|r| r.failures.is_empty() && r.checks.is_some()));
    let stats = shared.stats();
    assert_eq!(
        (stats.lookups, stats.certificates),
        (6, 5),
        "five certificates, one set of lookups"
    );

    // A name below it shares the CAA parents: its own CNAME, CAA, A and AAAA only.
    let mut below = cert("b", &["www.solo.example.test"]);
    check(&shared, &mut below).await;
    assert_eq!(shared.stats().lookups, 6 + 4);
    server.shutdown().await;
}
