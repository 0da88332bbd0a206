//! VALIDATION_RECORD_WRONG: a validation CNAME of a certificate ACM will renew exists in public
//! DNS but points somewhere else than ACM expects (often an old certificate's value left behind
//! after a re-request), so the renewal will stall. The DNS owner must change it to ACM's value.

use super::Ctx;
use crate::checks::Answer;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    if !ctx.cert.acm_will_renew(ctx.now) {
        return None;
    }
    let wrong: Vec<_> = ctx
        .checks()?
        .validation_records
        .iter()
        .filter(|r| r.answer == Answer::Records && !r.matches())
        .collect();
    if wrong.is_empty() {
        return None;
    }
    let domains: Vec<&str> = wrong.iter().map(|r| r.domain.as_str()).collect();
    let changes: Vec<String> = wrong
        .iter()
        .map(|r| {
            let found = if r.found.is_empty() {
                "no CNAME".to_owned()
            } else {
                r.found.join(", ")
            };
            format!("{} CNAME is {found}, ACM expects {}", r.name, r.expected)
        })
        .collect();
    Some(ctx.finding(
        Code::ValidationRecordWrong,
        Urgency::Upcoming,
        format!(
            "{}: the DNS validation record of {} points elsewhere than ACM expects, so the \
             renewal will stall; it {}",
            ctx.name(),
            domains.join(", "),
            ctx.expiry_phrase()
        ),
        format!("Change in public DNS: {}", changes.join("; ")),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{Answer, Code, Urgency};

    #[test]
    fn fires_for_another_value_only() {
        let mut c = checked(healthy());
        set_validation(&mut c, 0, Answer::Records, &["_old.acm-validations.aws."]);
        let f = check(&c, &[(Code::ValidationRecordWrong, Urgency::Upcoming)]);
        assert!(f[0].remedy.contains("CNAME is _old.acm-validations.aws."));
        assert!(f[0].remedy.contains("ACM expects _y1.acm-validations.aws."));
        // Case and the final dot do not matter.
        set_validation(&mut c, 0, Answer::Records, &["_Y1.ACM-validations.aws"]);
        check(&c, &[]);
    }
}
