use super::*;
use crate::rules::test_support::{described_combinations, expires_in, healthy, now, searched};
use crate::{classify, Policy};

const DAY: Duration = Duration::hours(24);

/// A change of the listing, named.
type Change = (&'static str, fn(&mut CertificateFacts));

/// `d` as DescribeCertificate returned it `hours` before [`now`].
fn described(mut d: CertificateFacts, hours: i64) -> CertificateFacts {
    d.described = true;
    d.described_at = Some(now() - Duration::hours(hours));
    d
}

/// What ListCertificates returns for `d`: the summary fields only.
fn listed(d: &CertificateFacts) -> CertificateFacts {
    let mut l = searched(d);
    l.search = None;
    l
}

/// The invariant behind the detail cache: over every combination of type, status, validation
/// method, renewal state, use and date, a certificate whose earlier detail is reused (listed by
/// either API, described 1 to 23 hours before) gets exactly the findings a describe now gives,
/// when nothing changed in between; and what moves with time is always described again.
#[test]
fn reused_detail_gets_the_verdict_a_fresh_describe_gives() {
    let policy = Policy::default();
    let (mut reused, mut described_again) = (0, 0);
    for d in described_combinations() {
        for hours in [1, 23] {
            let cached = described(d.clone(), hours);
            for listing in [listed(&d), searched(&d)] {
                let Some(from_cache) = reusable_detail(&listing, &cached, now(), DAY) else {
                    described_again += 1;
                    continue;
                };
                reused += 1;
                assert_eq!(
                    classify(&from_cache, now(), &policy),
                    classify(&d, now(), &policy),
                    "the cached detail judged differently from a fresh describe: {d:#?}"
                );
                assert_eq!(from_cache.search, listing.search, "today's listing kept");
                let unsettled = d.status == CertStatus::PendingValidation
                    || d.renewal_summary
                        .as_ref()
                        .is_some_and(|r| r.renewal_status != RenewalStatus::Success);
                assert!(!unsettled, "moves with time, yet reused: {d:#?}");
            }
        }
    }
    assert!(
        reused >= 500,
        "only {reused} reused ({described_again} described)"
    );
    assert!(described_again >= 500, "{described_again}");
}

/// A change the listing shows is described again: re-imported or renewed (new dates), attached
/// or detached (InUse), revoked or expired (Status), re-keyed, exported, a renewal that started;
/// so is a detail a day old, one never described or without its time, another certificate's.
#[test]
fn a_marked_change_or_an_old_detail_is_described_again() {
    let d = expires_in(healthy(), 150);
    let cached = described(d.clone(), 2);
    assert!(reusable_detail(&listed(&d), &cached, now(), DAY).is_some());
    assert!(reusable_detail(&searched(&d), &cached, now(), DAY).is_some());

    let changes: Vec<Change> = vec![
        ("renewed or re-imported", |l| {
            l.not_after = l.not_after.map(|t| t + DAY * 395);
            l.not_before = l.not_before.map(|t| t + DAY * 395);
        }),
        ("detached", |l| l.in_use = false),
        ("revoked", |l| l.status = CertStatus::Revoked),
        ("re-keyed", |l| {
            l.key_algorithm = Some("EC_prime256v1".into())
        }),
        ("exported", |l| l.exported = true),
        ("another type", |l| l.cert_type = CertType::Private),
        ("a renewal started", |l| {
            if let Some(s) = &mut l.search {
                s.renewal_status = Some(RenewalStatus::PendingAutoRenewal);
            }
        }),
    ];
    for (what, change) in changes {
        let mut listing = searched(&d);
        change(&mut listing);
        assert!(
            reusable_detail(&listing, &cached, now(), DAY).is_none(),
            "{what}: reused"
        );
    }
    let attached = {
        let mut unused = d.clone();
        unused.in_use = false;
        unused.in_use_by.clear();
        unused
    };
    assert!(
        reusable_detail(&listed(&d), &described(attached, 2), now(), DAY).is_none(),
        "attached to a listener since"
    );
    assert!(reusable_detail(&listed(&d), &described(d.clone(), 24), now(), DAY).is_none());
    assert!(
        reusable_detail(&listed(&d), &d, now(), DAY).is_none(),
        "never described"
    );
    let mut undated = cached.clone();
    undated.described_at = None;
    assert!(reusable_detail(&listed(&d), &undated, now(), DAY).is_none());
    let mut future = cached.clone();
    future.described_at = Some(now() + Duration::hours(1));
    assert!(reusable_detail(&listed(&d), &future, now(), DAY).is_none());
    let mut other = listed(&d);
    other.arn.push('x');
    assert!(reusable_detail(&other, &cached, now(), DAY).is_none());
    let mut unknown = cached.clone();
    unknown.status = CertStatus::parse("QUANTUM_SAFE_PENDING");
    let mut listing = listed(&d);
    listing.status = unknown.status.clone();
    assert!(reusable_detail(&listing, &unknown, now(), DAY).is_none());
}

#[test]
fn the_reused_detail_drops_old_checks_and_keeps_todays_listing() {
    let d = expires_in(healthy(), 150);
    let mut cached = described(d.clone(), 2);
    cached.checks = Some(crate::Checks::default());
    let mut listing = searched(&d);
    listing.renewal_eligibility = Some(crate::RenewalEligibility::Ineligible);
    let reused = reusable_detail(&listing, &cached, now(), DAY).expect("reused");
    assert_eq!(reused.checks, None);
    assert_eq!(reused.renewal_eligibility, listing.renewal_eligibility);
    assert_eq!(
        reused.domain_validation_options,
        d.domain_validation_options
    );
    assert_eq!(reused.in_use_by, d.in_use_by);
    assert_eq!(reused.described_at, cached.described_at);
}
