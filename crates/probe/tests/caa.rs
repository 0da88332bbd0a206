//! The CAA climb (RFC 8659 §3) against the simulator's zone on 127.0.0.1.

mod support;

use certwatch_core::{Answer, CaaCheck, CaaRecord, Code};
use certwatch_sim::net::dns::Record;
use support::*;

fn record(flags: u8, tag: &str, value: &str) -> CaaRecord {
    CaaRecord {
        flags,
        tag: tag.to_owned(),
        value: value.to_owned(),
    }
}

fn relevant(facts: &certwatch_core::CertificateFacts) -> Vec<CaaCheck> {
    facts.checks.as_ref().expect("checked").caa.clone()
}

#[tokio::test]
async fn an_empty_name_takes_its_parents_set_and_wildcards_start_at_their_base() {
    let mut records = healthy("shop.example.test");
    records.push(caa("example.test", 0, "issue", "amazon.com"));
    records.push(caa(
        "example.test",
        0,
        "iodef",
        "mailto:security@example.test",
    ));
    let server = dns(records).await;
    let prober = prober(&dns_config(vec![server.addr()]));
    let mut facts = cert("p", &["shop.example.test", "*.shop.example.test"]);
    let checked = check(&prober, &mut facts).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let set = vec![
        record(0, "issue", "amazon.com"),
        record(0, "iodef", "mailto:security@example.test"),
    ];
    for (check, domain) in relevant(&facts)
        .iter()
        .zip(["shop.example.test", "*.shop.example.test"])
    {
        assert_eq!(check.domain, domain);
        assert_eq!(check.answer, Answer::Records);
        assert_eq!(check.found_at.as_deref(), Some("example.test"));
        let mut records = check.records.clone();
        records.sort_by(|a, b| b.tag.cmp(&a.tag));
        assert_eq!(records, set);
    }
    assert_eq!(network_codes(&facts), []);
    // validation CNAME (the wildcard's is the same name), CAA at shop.example.test and
    // example.test (the wildcard's climb is served from the cache), A, AAAA
    assert_eq!(prober.stats().lookups, 5);
    server.shutdown().await;
}

#[tokio::test]
async fn a_cname_targets_set_counts_and_its_parents_are_never_climbed() {
    // CNAMEs at the names themselves (so no A record there).
    let records = vec![
        validation("cdn.example.test", VALIDATION_TARGET),
        validation("alias.example.test", VALIDATION_TARGET),
        Record::Cname {
            name: "cdn.example.test".into(),
            target: "edge.provider.test".into(),
        },
        caa("edge.provider.test", 0, "issue", "letsencrypt.org"),
        Record::A {
            name: "edge.provider.test".into(),
            addr: std::net::Ipv4Addr::LOCALHOST,
        },
        // A target without a set: the climb goes on at the alias's parent, not the target's.
        Record::Cname {
            name: "alias.example.test".into(),
            target: "bare.other.test".into(),
        },
        Record::A {
            name: "bare.other.test".into(),
            addr: std::net::Ipv4Addr::LOCALHOST,
        },
        caa("other.test", 0, "issue", "sectigo.com"),
        caa("example.test", 0, "issue", "amazon.com"),
    ];
    let server = dns(records).await;
    let prober = prober(&dns_config(vec![server.addr()]));
    let mut facts = cert("c", &["cdn.example.test", "alias.example.test"]);
    let checked = check(&prober, &mut facts).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let caa = relevant(&facts);
    assert_eq!(caa[0].found_at.as_deref(), Some("edge.provider.test"));
    assert_eq!(caa[0].records, [record(0, "issue", "letsencrypt.org")]);
    assert_eq!(caa[1].found_at.as_deref(), Some("example.test"));
    assert_eq!(caa[1].records, [record(0, "issue", "amazon.com")]);
    assert_eq!(network_codes(&facts), [Code::CaaForbidsAmazon]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_climb_to_the_top_level_domain_without_a_set_is_nodata() {
    let server = dns(healthy("deep.none.test")).await;
    let prober = prober(&dns_config(vec![server.addr()]));
    let mut facts = cert("t", &["deep.none.test"]);
    let checked = check(&prober, &mut facts).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let caa = relevant(&facts);
    assert_eq!(
        caa,
        [CaaCheck {
            domain: "deep.none.test".into(),
            answer: Answer::NoData,
            found_at: None,
            records: vec![],
        }]
    );
    assert_eq!(network_codes(&facts), []);
    // validation CNAME, CAA at deep.none.test, none.test and test (not the root), A, AAAA
    assert_eq!(prober.stats().lookups, 6);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_critical_tags_semicolons_and_parameters_are_kept_verbatim() {
    let names = ["strict.test", "closed.test", "bound.test"];
    let mut records: Vec<Record> = names.iter().flat_map(|n| healthy(n)).collect();
    records.extend([
        caa("strict.test", 128, "tbs", "Unknown value, kept as written"),
        caa("strict.test", 0, "issue", "amazon.com"),
        caa("closed.test", 0, "issue", ";"),
        caa(
            "bound.test",
            0,
            "issue",
            "amazon.com; accounturi=https://acm.amazonaws.test/111122223333",
        ),
    ]);
    let server = dns(records).await;
    let prober = prober(&dns_config(vec![server.addr()]));
    let mut facts = cert("u", &names);
    let checked = check(&prober, &mut facts).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let caa = relevant(&facts);
    let mut strict = caa[0].records.clone();
    strict.sort_by(|a, b| a.tag.cmp(&b.tag));
    assert_eq!(
        strict,
        [
            record(0, "issue", "amazon.com"),
            record(128, "tbs", "Unknown value, kept as written"),
        ]
    );
    assert_eq!(caa[0].found_at.as_deref(), Some("strict.test"));
    assert_eq!(caa[1].records, [record(0, "issue", ";")]);
    assert_eq!(
        caa[2].records,
        [record(
            0,
            "issue",
            "amazon.com; accounturi=https://acm.amazonaws.test/111122223333"
        )]
    );
    assert!(network_codes(&facts).contains(&Code::CaaForbidsAmazon));
    server.shutdown().await;
}
