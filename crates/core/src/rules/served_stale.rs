//! SERVED_STALE: an endpoint serves, for one of the certificate's names, a certificate that is
//! not ACM's current one and expires before it. An exported certificate was renewed in ACM but
//! the copy installed on the server was not replaced, or an imported certificate was re-imported
//! into ACM but the server still has the old one. The site breaks on the served NotAfter, so
//! that date sets the urgency. Install ACM's current certificate on that server.

use super::Ctx;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let acm_not_after = ctx.cert.not_after?;
    let mut stale = Vec::new();
    for name in &ctx.checks()?.names {
        for endpoint in &name.endpoints {
            let Some(served) = &endpoint.served else {
                continue;
            };
            // Whole seconds: X.509 has no fraction, ACM's NotAfter may.
            if served.covers(&name.name)
                && !served.matches_acm
                && served.not_after.timestamp() < acm_not_after.timestamp()
            {
                stale.push((name, endpoint, served));
            }
        }
    }
    let earliest = stale.iter().map(|(_, _, s)| s.not_after).min()?;
    let places: Vec<String> = stale
        .iter()
        .map(|(name, e, s)| {
            format!(
                "{} at {}:{} serves serial {} (NotAfter {})",
                name.name,
                e.address,
                e.port,
                s.serial,
                super::date(s.not_after)
            )
        })
        .collect();
    let what = if ctx.cert.cert_type == crate::CertType::Imported {
        "re-imported into ACM, but the server still has the old copy"
    } else {
        "renewed in ACM, but the copy installed on the server was not replaced"
    };
    let mut finding = ctx.finding(
        Code::ServedStale,
        Urgency::Upcoming,
        format!(
            "{}: an endpoint serves an older copy that expires {} ({} days before ACM's): {what}",
            ctx.name(),
            super::date(earliest),
            (acm_not_after - earliest).num_days()
        ),
        format!(
            "{}. Install ACM's current certificate (NotAfter {}{}) there {}.",
            places.join("; "),
            super::date(acm_not_after),
            ctx.cert
                .serial
                .as_deref()
                .map(|s| format!(", serial {s}"))
                .unwrap_or_default(),
            format_args!("before {}", super::date(earliest))
        ),
    );
    finding.urgency = ctx.urgency_at(earliest);
    Some(finding)
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{CertType, Code, Urgency};
    use chrono::Duration;

    #[test]
    fn urgency_comes_from_the_served_copy() {
        let mut c = checked(healthy());
        c.exported = true;
        let served = c.checks.as_mut().unwrap().names[0].endpoints[0]
            .served
            .as_mut()
            .unwrap();
        served.matches_acm = false;
        served.serial = "0b:0b".into();
        served.not_after = now() + Duration::days(5) + Duration::hours(2);
        let f = check(&c, &[(Code::ServedStale, Urgency::Urgent)]);
        assert!(f[0]
            .remedy
            .contains("shop.example.com at 192.0.2.10:443 serves serial 0b:0b"));
        assert!(f[0].summary.contains("renewed in ACM"));
        let mut imported = c.clone();
        imported.cert_type = CertType::Imported;
        let f = check(
            &imported,
            &[
                (Code::ServedStale, Urgency::Urgent),
                (Code::Imported, Urgency::Upcoming),
            ],
        );
        assert!(f[0].summary.contains("re-imported"));
    }

    #[test]
    fn a_newer_or_unrelated_certificate_is_not_stale() {
        let mut c = checked(healthy());
        let served = c.checks.as_mut().unwrap().names[0].endpoints[0]
            .served
            .as_mut()
            .unwrap();
        served.matches_acm = false;
        served.not_after = now() + Duration::days(300);
        check(&c, &[]);
        let served = c.checks.as_mut().unwrap().names[0].endpoints[0]
            .served
            .as_mut()
            .unwrap();
        served.not_after = now() + Duration::days(3);
        served.names = vec!["other.example.org".into()];
        check(&c, &[]);
    }
}
