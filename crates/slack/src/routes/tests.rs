use super::*;
use certwatch_core::{Account, OrgUnit};

fn ou(id: &str, name: &str) -> OrgUnit {
    OrgUnit {
        id: id.to_owned(),
        name: name.to_owned(),
    }
}

fn root() -> OrgUnit {
    ou("r-ab12", "Root")
}

/// Root/Payments/Cards: `ou-ab12-11111111` then `ou-ab12-22222222`.
fn cards() -> Vec<OrgUnit> {
    vec![
        root(),
        ou("ou-ab12-11111111", "Payments"),
        ou("ou-ab12-22222222", "Cards"),
    ]
}

fn account(id: &str, path: Option<Vec<OrgUnit>>, tags: &[(&str, &str)]) -> Account {
    Account {
        ou_path: path,
        tags: Some(
            tags.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        ..Account::new(id, format!("name-{id}"))
    }
}

fn route(name: &str, channel: &str) -> Route {
    Route {
        name: name.to_owned(),
        channel: channel.to_owned(),
        ..Route::default()
    }
}

fn routes() -> Routes {
    Routes {
        routes: vec![
            Route {
                accounts: vec!["111111111111".to_owned()],
                ..route("pinned", "C0PINNED01")
            },
            Route {
                ous: vec![OuMatcher::parse("Root/Payments").expect("path")],
                account_tag: Some(TagMatcher {
                    key: "env".to_owned(),
                    value: "prod".to_owned(),
                }),
                ..route("payments-prod", "C0PAYPROD1")
            },
            Route {
                ous: vec![OuMatcher::parse("ou-ab12-11111111").expect("id")],
                ..route("payments", "C0PAYMENT1")
            },
        ],
        by_tag: Some("certwatch-channel".to_owned()),
        default_channel: "C0DEFAULT1".to_owned(),
    }
}

fn rule_of(routes: &Routes, account: &Account) -> (String, Rule) {
    let d = routes.route(account);
    (d.channel, d.rule)
}

#[test]
fn the_first_matching_route_wins_and_the_rest_go_to_the_default() {
    let r = routes();
    // Pinned by id even though it is in Payments too.
    let pinned = account("111111111111", Some(cards()), &[("env", "prod")]);
    assert_eq!(
        rule_of(&r, &pinned),
        ("C0PINNED01".to_owned(), Rule::Route(0))
    );
    let prod = account("222222222222", Some(cards()), &[("env", "prod")]);
    assert_eq!(
        rule_of(&r, &prod),
        ("C0PAYPROD1".to_owned(), Rule::Route(1))
    );
    // The OU path matches, the tag does not: kinds are ANDed, so route 1 does not match and
    // route 2 (the OU by id, below it too) does.
    let dev = account("333333333333", Some(cards()), &[("env", "dev")]);
    assert_eq!(rule_of(&r, &dev), ("C0PAYMENT1".to_owned(), Rule::Route(2)));
    let elsewhere = account(
        "444444444444",
        Some(vec![root(), ou("ou-ab12-33333333", "Web")]),
        &[("env", "prod")],
    );
    assert_eq!(
        rule_of(&r, &elsewhere),
        ("C0DEFAULT1".to_owned(), Rule::Default)
    );
}

#[test]
fn the_accounts_own_tag_comes_first_when_it_holds_a_channel_id() {
    let r = routes();
    let tagged = account(
        "111111111111",
        Some(cards()),
        &[("certwatch-channel", "C0OWNTEAM1")],
    );
    assert_eq!(rule_of(&r, &tagged), ("C0OWNTEAM1".to_owned(), Rule::Tag));
    let bad = account(
        "555555555555",
        Some(cards()),
        &[("certwatch-channel", "#payments")],
    );
    assert_eq!(rule_of(&r, &bad), ("C0PAYMENT1".to_owned(), Rule::Route(2)));
    assert_eq!(
        r.explain(&bad),
        vec!["tag certwatch-channel=\"#payments\" ignored: not a channel id like \"C0123ABCD\""]
    );
}

#[test]
fn an_ou_path_matches_whole_names_from_the_root_and_everything_below() {
    let path = |text: &str| OuMatcher::parse(text).expect("path");
    let at = cards();
    assert!(path("Root").matches(&at));
    assert!(path("Root/Payments").matches(&at));
    assert!(path("Root/Payments/Cards").matches(&at));
    assert!(!path("Root/Payments/Cards/Debit").matches(&at));
    assert!(!path("Root/Pay").matches(&at), "names match whole");
    assert!(
        !path("Root/payments").matches(&at),
        "OU names are case-sensitive"
    );
    assert!(
        !path("Root/Cards").matches(&at),
        "a path starts at the root"
    );
    let id = OuMatcher::parse("ou-ab12-22222222").expect("id");
    assert!(id.matches(&at));
    assert!(!id.matches(&at[..2]), "the parent is not below its child");
}

#[test]
fn unknown_metadata_matches_no_ou_or_tag_and_is_explained() {
    let r = routes();
    let unknown = Account::new("666666666666", "x");
    assert_eq!(
        rule_of(&r, &unknown),
        ("C0DEFAULT1".to_owned(), Rule::Default)
    );
    assert_eq!(r.explain(&unknown), vec!["OU path unknown", "tags unknown"]);
    assert!(r.needs_ou_paths() && r.needs_tags());
    let plain = Routes {
        routes: vec![Route {
            accounts: vec!["1".to_owned()],
            ..route("a", "C0PINNED01")
        }],
        ..Routes::default()
    };
    assert!(!plain.needs_ou_paths() && !plain.needs_tags());
    assert!(plain.explain(&unknown).is_empty());
}

#[test]
fn ou_entries_are_ids_or_paths_from_the_root() {
    assert!(is_ou_id("ou-ab12-cdef3456"));
    assert!(is_ou_id("ou-0123456789abcdef0123456789abcdef-abcdefgh"));
    for bad in [
        "ou-ab1-cdef3456",
        "ou-ab12-cdef345",
        "ou-AB12-cdef3456",
        "ou-ab12cdef3456",
        "ou-ab12-cdef_3456",
    ] {
        assert!(!is_ou_id(bad), "{bad}");
        let err = OuMatcher::parse(bad).expect_err(bad);
        assert!(err.contains("is not an OU id"), "{err}");
    }
    let err = OuMatcher::parse("Payments/Cards").expect_err("relative");
    assert!(err.contains("from the root"), "{err}");
    let err = OuMatcher::parse("Root//Cards").expect_err("empty");
    assert!(err.contains("empty OU name"), "{err}");
    assert_eq!(
        OuMatcher::parse("Root/Payments").expect("ok").to_string(),
        "Root/Payments"
    );
}

#[test]
fn channel_ids() {
    for ok in ["C0123ABCD", "G0123ABCD", "C0DEFAULT1"] {
        assert!(is_channel_id(ok), "{ok}");
    }
    for bad in ["#general", "general", "c0123abcd", "U0123ABCD", "C012"] {
        assert!(!is_channel_id(bad), "{bad}");
    }
}

#[test]
fn a_route_without_matchers_matches_nothing() {
    let empty = route("empty", "C0PINNED01");
    assert!(!empty.has_matcher());
    assert!(!empty.matches(&account("111111111111", Some(cards()), &[])));
}

#[test]
fn a_scope_keeps_its_accounts_certificates_failures_and_decisions() {
    let fixture = crate::fixtures::decided();
    let inv = &fixture.inventory;
    let ids: Vec<String> = inv.accounts().keys().map(|k| (*k).to_owned()).collect();
    assert!(ids.len() >= 2, "the fixture spans accounts");
    let kept = &ids[0];
    let part = scope(inv, |id| id == kept);
    assert!(!part.report.certificates.is_empty());
    assert!(part
        .report
        .certificates
        .iter()
        .all(|c| &c.facts.account_id == kept));
    assert!(part.report.failures.iter().all(|f| &f.account_id == kept));
    assert_eq!(
        part.report.certificates.len(),
        inv.report
            .certificates
            .iter()
            .filter(|c| &c.facts.account_id == kept)
            .count()
    );
    assert_eq!(part.report.stats.accounts, 1);
    assert_eq!(part.report.stats.targets, 0);
    assert!(part.decisions.keys().all(|arn| part
        .report
        .certificates
        .iter()
        .any(|c| &c.facts.arn == arn)));
    assert_eq!(part.last_scan, inv.last_scan);
}

/// The org-wide summary: one line per routed channel, most serious first, within Slack's limits
/// however many channels there are.
#[test]
fn the_summary_counts_each_routed_channel_and_fits_slack() {
    let fixture = crate::fixtures::decided();
    let mut inv = fixture.inventory.clone();
    let ids: Vec<String> = inv.accounts().keys().map(|k| (*k).to_owned()).collect();
    inv.report_mut().accounts = ids
        .iter()
        .map(|id| {
            let mut a = Account::new(id.clone(), format!("n-{id}"));
            a.tags = Some(
                [(
                    "certwatch-channel".to_owned(),
                    format!("C0{:0>8}", &id[..8]),
                )]
                .into(),
            );
            a
        })
        .collect();
    let routes = Routes {
        by_tag: Some("certwatch-channel".to_owned()),
        default_channel: "C0DEFAULT1".to_owned(),
        ..Routes::default()
    };
    let counts = summary(&routes, &inv, fixture.now);
    assert_eq!(counts.len(), ids.len(), "one line per routed channel");
    assert!(counts
        .iter()
        .all(|c| c.accounts == 1 && c.rules == ["tag certwatch-channel"]));
    let serious = |c: &ChannelCount| (c.expired, c.urgent, c.action);
    assert!(
        counts.windows(2).all(|w| serious(&w[0]) >= serious(&w[1])),
        "most serious first"
    );
    // What the digest counts as needing action is what the summary counts, per account.
    let entries = crate::inventory::entries(&inv, fixture.now);
    let total: usize = counts
        .iter()
        .map(|c| c.expired + c.urgent + c.action + c.hidden)
        .sum();
    assert_eq!(total, entries.iter().filter(|e| e.needs_action()).count());

    // Many channels: the first MAX_LISTED are listed, the rest counted, within the limits.
    let many: Vec<ChannelCount> = (0..MAX_LISTED + 7)
        .map(|i| ChannelCount {
            channel: format!("C0{i:08}"),
            rules: vec!["a route with a rather long name to fill the section".to_owned()],
            accounts: i,
            action: i,
            ..ChannelCount::default()
        })
        .collect();
    let blocks = summary_blocks(&many);
    crate::check_limits(&blocks).expect("within Slack's limits");
    let text = crate::blocks_to_text(&blocks);
    assert!(
        text.contains("… and 7 more channels: `certwatch routes`"),
        "{text}"
    );
    assert_eq!(text.matches("• ").count(), MAX_LISTED);
}

/// The default channel's digest goes out when a routed channel needs action, even if nothing
/// of its own does and `post_when_clear` is off.
#[test]
fn routed_news_is_posted_even_when_the_default_channel_is_clear() {
    let fixture = crate::fixtures::decided();
    let empty = scope(&fixture.inventory, |_| false);
    let quiet = crate::DigestOptions {
        post_when_clear: false,
        ..Default::default()
    };
    assert!(crate::digest(&empty, false, fixture.now, &quiet).is_none());
    let news = crate::DigestOptions {
        routed: vec![ChannelCount {
            channel: "C0PAYMENT1".to_owned(),
            rules: vec!["payments".to_owned()],
            accounts: 2,
            urgent: 1,
            ..ChannelCount::default()
        }],
        ..quiet.clone()
    };
    let digest = crate::digest(&empty, false, fixture.now, &news).expect("posted");
    let text = crate::blocks_to_text(&digest.parent.blocks);
    assert!(
        text.contains("#C0PAYMENT1 (payments): 1 urgent · 2 accounts"),
        "{text}"
    );
    let calm = crate::DigestOptions {
        routed: vec![ChannelCount {
            channel: "C0PAYMENT1".to_owned(),
            rules: vec!["payments".to_owned()],
            accounts: 2,
            ..ChannelCount::default()
        }],
        ..quiet
    };
    assert!(crate::digest(&empty, false, fixture.now, &calm).is_none());
}
