//! NAME_UNRESOLVABLE: a name of a certificate in use resolves to no address in DNS (NXDOMAIN, or
//! no A/AAAA record after its CNAMEs), so nothing can reach it by that name. Either the record
//! was deleted by mistake (restore it) or the name is no longer served (drop it from the
//! certificate at its next request).

use super::Ctx;
use crate::checks::Answer;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    if !ctx.cert.is_in_use() {
        return None;
    }
    let unresolved: Vec<String> = ctx
        .checks()?
        .names
        .iter()
        .filter(|n| matches!(n.answer, Answer::NxDomain | Answer::NoData))
        .map(|n| {
            let via = if n.cnames.is_empty() {
                String::new()
            } else {
                format!(" via CNAME {}", n.cnames.join(" → "))
            };
            format!("{}{via}: {}", n.name, n.answer.as_str())
        })
        .collect();
    if unresolved.is_empty() {
        return None;
    }
    Some(ctx.finding(
        Code::NameUnresolvable,
        Urgency::Upcoming,
        format!(
            "{}: {} of this certificate in use resolve{} to no address",
            ctx.name(),
            if unresolved.len() == 1 {
                "a name"
            } else {
                "names"
            },
            if unresolved.len() == 1 { "s" } else { "" },
        ),
        format!(
            "DNS answered {}. Restore the A/AAAA (or CNAME) record if the name should be \
             served by {}; otherwise leave the name out of the certificate's next request.",
            unresolved.join("; "),
            ctx.users()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{Answer, Code, Urgency};

    #[test]
    fn fires_for_nxdomain_and_nodata_of_a_certificate_in_use() {
        let mut c = checked(healthy());
        c.checks.as_mut().unwrap().names[1].answer = Answer::NxDomain;
        c.checks.as_mut().unwrap().names[1].addresses.clear();
        c.checks.as_mut().unwrap().names[1].endpoints.clear();
        let f = check(&c, &[(Code::NameUnresolvable, Urgency::Upcoming)]);
        assert!(
            f[0].remedy.contains("www.shop.example.com: NXDOMAIN"),
            "{}",
            f[0].remedy
        );
        let names = &mut c.checks.as_mut().unwrap().names;
        names[1].answer = Answer::NoData;
        names[1].cnames = vec!["shop.cdn.example.net.".into()];
        let f = check(&c, &[(Code::NameUnresolvable, Urgency::Upcoming)]);
        assert!(f[0]
            .remedy
            .contains("via CNAME shop.cdn.example.net.: no records (NODATA)"));
        // A lookup that failed is not a finding.
        c.checks.as_mut().unwrap().names[1].answer = Answer::Failed;
        check(&c, &[]);
        // Not in use: nothing depends on the name.
        let mut unused = checked(healthy());
        unused.checks.as_mut().unwrap().names[0].answer = Answer::NxDomain;
        unused.in_use = false;
        unused.in_use_by.clear();
        check(&unused, &[(Code::NotInUse, Urgency::Upcoming)]);
    }
}
