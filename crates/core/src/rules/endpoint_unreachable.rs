//! ENDPOINT_UNREACHABLE: a name of the certificate resolves, but no TLS handshake with any of
//! its addresses succeeds on the probed port: whatever should serve the certificate does not
//! answer from where certwatch runs. Check the resource (load balancer, distribution, API) the
//! name points at, its listener and its security groups.

use super::Ctx;
use crate::checks::Answer;
use crate::finding::{Code, Finding, Urgency};

pub(super) fn check(ctx: &Ctx) -> Option<Finding> {
    let unreachable: Vec<String> = ctx
        .checks()?
        .names
        .iter()
        .filter(|n| {
            n.answer == Answer::Records
                && n.endpoints.iter().any(|e| !e.local_failure)
                && n.endpoints.iter().all(|e| e.served.is_none())
        })
        .map(|n| {
            let tried: Vec<String> = n
                .endpoints
                .iter()
                .filter(|e| !e.local_failure)
                .map(|e| {
                    format!(
                        "{}:{} ({})",
                        e.address,
                        e.port,
                        e.error.as_deref().unwrap_or("no answer")
                    )
                })
                .collect();
            format!("{}: {}", n.name, tried.join(", "))
        })
        .collect();
    if unreachable.is_empty() {
        return None;
    }
    Some(ctx.finding(
        Code::EndpointUnreachable,
        Urgency::Upcoming,
        format!(
            "{}: no TLS handshake succeeds with {} of this certificate",
            ctx.name(),
            if unreachable.len() == 1 {
                "a name"
            } else {
                "names"
            }
        ),
        format!(
            "Tried {}. Check that the resource the name points at ({}) listens on that port \
             and that its security groups or firewall let the internet in.",
            unreachable.join("; "),
            ctx.users()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;
    use crate::{Code, Urgency};

    #[test]
    fn fires_when_no_address_answers() {
        let mut c = checked(healthy());
        for e in &mut c.checks.as_mut().unwrap().names[0].endpoints {
            e.served = None;
            e.error = Some("connection refused".into());
        }
        let f = check(&c, &[(Code::EndpointUnreachable, Urgency::Upcoming)]);
        assert!(f[0]
            .remedy
            .contains("shop.example.com: 192.0.2.10:443 (connection refused)"));
        assert!(!f[0].remedy.contains("www.shop"));
    }

    #[test]
    fn one_answering_address_or_a_local_failure_is_not_a_finding() {
        let mut c = checked(healthy());
        let endpoints = &mut c.checks.as_mut().unwrap().names[0].endpoints;
        let mut v6 = endpoints[0].clone();
        v6.address = "2001:db8::10".into();
        v6.served = None;
        v6.error = Some("timed out after 5 s".into());
        endpoints.push(v6);
        check(&c, &[]);
        let endpoints = &mut c.checks.as_mut().unwrap().names[0].endpoints;
        endpoints.remove(0);
        endpoints[0].local_failure = true;
        endpoints[0].error = Some("network unreachable".into());
        check(&c, &[]);
    }
}
