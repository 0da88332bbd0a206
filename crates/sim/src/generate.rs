//! Large scenarios for benchmarks, built in code instead of TOML.
//!
//! The mix is a fixed table of certificate kinds with weights (mostly healthy, a
//! few of every failure mode); which kind a certificate gets is a hash of
//! (seed, account, region, index), so the same [`GeneratorSpec`] always gives the
//! same scenario and the same ARNs.

use crate::ids;
use crate::regions::{self, RegionKind};
use crate::scenario::{AccountSpec, CertificateSpec, OrganizationSpec, RenewalSpec, Scenario};

/// What to generate. `Scenario::generate(&GeneratorSpec::default())` gives 100
/// members × 3 regions × 5 certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorSpec {
    /// Member accounts; the management account comes on top.
    pub members: usize,
    /// Regions of the partition. Certificates are spread over all of them; opt-in
    /// regions are enabled in every third account only.
    pub regions: Vec<String>,
    /// Certificates in each account-region.
    pub certificates_per_region: usize,
    /// Varies the mix; the same seed gives the same scenario.
    pub seed: u64,
    /// Percent of members whose AssumeRole is denied (not onboarded).
    pub denied_percent: u8,
    /// Percent of members that are SUSPENDED.
    pub suspended_percent: u8,
    /// Percent of account-regions that hold certificates at all (real organizations
    /// keep most regions empty). Below 100, an occupied account-region holds 1 to
    /// `2 × certificates_per_region − 1` certificates (the same mean); at 100 each
    /// holds exactly `certificates_per_region`.
    pub occupied_percent: u8,
    /// This many members (the first ones) hold `large_target_certificates` in their
    /// first region, so paging and the DescribeCertificate quota bite.
    pub large_targets: usize,
    pub large_target_certificates: usize,
}

impl GeneratorSpec {
    /// The account id of member `i` (0-based).
    pub fn member_id(i: usize) -> String {
        format!("{:012}", 200_000_000_000u64 + i as u64)
    }
}

impl Default for GeneratorSpec {
    fn default() -> Self {
        GeneratorSpec {
            members: 100,
            regions: vec![
                "us-east-1".into(),
                "eu-west-1".into(),
                "ap-northeast-1".into(),
            ],
            certificates_per_region: 5,
            seed: 0,
            denied_percent: 1,
            suspended_percent: 1,
            occupied_percent: 100,
            large_targets: 0,
            large_target_certificates: 0,
        }
    }
}

/// The management account of generated scenarios.
pub const GENERATED_MANAGEMENT: &str = "100000000000";

/// Certificate kinds and their weight out of 100.
const MIX: &[(Kind, u64)] = &[
    (Kind::Healthy, 74),
    (Kind::HealthyEc, 3),
    (Kind::Imported, 3),
    (Kind::RenewalFailed, 2),
    (Kind::PendingDns, 3),
    (Kind::Email, 2),
    (Kind::NotInUse, 3),
    (Kind::Expired, 1),
    (Kind::PendingRequest, 1),
    (Kind::PrivateExported, 1),
    (Kind::Stalled, 1),
    (Kind::NotStarted, 2),
    (Kind::PrivateCaFailed, 1),
    (Kind::Revoked, 1),
    (Kind::PendingEmail, 1),
    (Kind::PendingHttp, 1),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Healthy,
    HealthyEc,
    Imported,
    RenewalFailed,
    PendingDns,
    Email,
    NotInUse,
    Expired,
    PendingRequest,
    PrivateExported,
    Stalled,
    NotStarted,
    PrivateCaFailed,
    Revoked,
    PendingEmail,
    PendingHttp,
}

fn pick(roll: u64) -> Kind {
    let total: u64 = MIX.iter().map(|(_, w)| w).sum();
    let mut roll = roll % total;
    for (kind, weight) in MIX {
        if roll < *weight {
            return *kind;
        }
        roll -= weight;
    }
    Kind::Healthy
}

impl Scenario {
    /// A deterministic organization of `spec.members` members with a realistic mix
    /// of certificates (see the module docs). Serve it like any other scenario.
    pub fn generate(spec: &GeneratorSpec) -> Scenario {
        let seed = spec.seed.to_string();
        let mut accounts = vec![AccountSpec {
            id: GENERATED_MANAGEMENT.to_owned(),
            name: "management".to_owned(),
            ..AccountSpec::default()
        }];
        let opt_in: Vec<String> = spec
            .regions
            .iter()
            .filter(|r| regions::kind(r) == Some(RegionKind::OptIn))
            .cloned()
            .collect();
        for i in 0..spec.members {
            let id = GeneratorSpec::member_id(i);
            let name = format!("member-{i:05}");
            let roll = ids::hash64(1, &[&seed, &id]) % 100;
            let denied = roll < u64::from(spec.denied_percent);
            let suspended = !denied
                && roll < u64::from(spec.denied_percent) + u64::from(spec.suspended_percent);
            let opt_in_regions = if i % 3 == 0 {
                opt_in.clone()
            } else {
                Vec::new()
            };
            let mut certificates = Vec::new();
            for (r, region) in spec.regions.iter().enumerate() {
                let count = if i < spec.large_targets && r == 0 {
                    spec.large_target_certificates
                } else if spec.occupied_percent >= 100 {
                    spec.certificates_per_region
                } else {
                    let roll = ids::hash64(3, &[&seed, &id, region]);
                    if roll % 100 < u64::from(spec.occupied_percent) {
                        let spread = (2 * spec.certificates_per_region).max(2) as u64 - 1;
                        1 + ((roll >> 8) % spread) as usize
                    } else {
                        0
                    }
                };
                for j in 0..count {
                    let index = j.to_string();
                    let roll = ids::hash64(2, &[&seed, &id, region, &index]);
                    let domain = format!("svc-{j}.{region}.{name}.example.com");
                    certificates.push(certificate(pick(roll), &id, region, domain, roll));
                }
            }
            accounts.push(AccountSpec {
                id,
                name,
                state: suspended.then(|| "SUSPENDED".to_owned()),
                deny_assume_role: denied,
                opt_in_regions,
                certificates,
                ..AccountSpec::default()
            });
        }
        Scenario {
            organization: OrganizationSpec {
                management_account_id: GENERATED_MANAGEMENT.to_owned(),
                regions: Some(spec.regions.clone()),
                ..OrganizationSpec::default()
            },
            // Benchmarks of the AWS calls pay nothing for a world they do not look at.
            network: None,
            organizational_units: Vec::new(),
            accounts,
        }
    }
}

fn certificate(
    kind: Kind,
    account: &str,
    region: &str,
    domain: String,
    roll: u64,
) -> CertificateSpec {
    // A second, independent number for dates.
    let spread = ((roll >> 32) % 120) as f64;
    let in_use = vec![format!(
        "arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/alb-{}/{}",
        roll % 1000,
        ids::hex(&[&domain], 16)
    )];
    let base = CertificateSpec {
        region: region.to_owned(),
        domain,
        expires_in_days: Some(60.0 + spread),
        in_use_by: in_use,
        ..CertificateSpec::default()
    };
    let renewal = |status: &str, reason: Option<&str>, hours: f64| {
        Some(RenewalSpec {
            status: status.to_owned(),
            reason: reason.map(str::to_owned),
            updated_hours_ago: Some(hours),
            pending_domains: None,
        })
    };
    match kind {
        Kind::Healthy => CertificateSpec {
            renewal: ((roll >> 40) & 1 == 0).then(|| RenewalSpec {
                status: "SUCCESS".to_owned(),
                ..RenewalSpec::default()
            }),
            ..base
        },
        Kind::HealthyEc => CertificateSpec {
            key_algorithm: Some("EC_prime256v1".to_owned()),
            ..base
        },
        Kind::Imported => CertificateSpec {
            cert_type: Some("IMPORTED".to_owned()),
            expires_in_days: Some(3.0 + spread),
            ..base
        },
        Kind::RenewalFailed => {
            let reasons = [
                "OTHER",
                "CAA_ERROR",
                "DOMAIN_VALIDATION_DENIED",
                "NO_AVAILABLE_CONTACTS",
            ];
            // Bits the kind roll did not use, so every reason occurs.
            let reason = reasons[((roll >> 48) % reasons.len() as u64) as usize];
            CertificateSpec {
                expires_in_days: Some(20.0 + spread / 6.0),
                renewal: renewal("FAILED", Some(reason), 30.0),
                ..base
            }
        }
        Kind::PendingDns => CertificateSpec {
            expires_in_days: Some(15.0 + spread / 4.0),
            renewal: renewal("PENDING_VALIDATION", None, 20.0),
            ..base
        },
        Kind::Email => CertificateSpec {
            validation: Some("EMAIL".to_owned()),
            ..base
        },
        Kind::NotInUse => CertificateSpec {
            in_use_by: Vec::new(),
            ..base
        },
        Kind::Expired => CertificateSpec {
            status: Some("EXPIRED".to_owned()),
            expires_in_days: Some(-1.0 - spread / 10.0),
            renewal_eligibility: Some("INELIGIBLE".to_owned()),
            ..base
        },
        Kind::PendingRequest => CertificateSpec {
            status: Some("PENDING_VALIDATION".to_owned()),
            expires_in_days: None,
            created_days_ago: Some(1.0 + spread / 20.0),
            in_use_by: Vec::new(),
            ..base
        },
        Kind::PrivateExported => CertificateSpec {
            cert_type: Some("PRIVATE".to_owned()),
            exported: true,
            in_use_by: Vec::new(),
            certificate_authority_arn: Some(format!(
                "arn:aws:acm-pca:{region}:{account}:certificate-authority/{}",
                ids::certificate_id(account, region, 9999)
            )),
            ..base
        },
        Kind::Stalled => CertificateSpec {
            expires_in_days: Some(25.0),
            renewal: renewal("PENDING_AUTO_RENEWAL", None, 100.0 + spread),
            ..base
        },
        Kind::NotStarted => CertificateSpec {
            expires_in_days: Some(20.0 + spread / 6.0),
            ..base
        },
        Kind::PrivateCaFailed => CertificateSpec {
            cert_type: Some("PRIVATE".to_owned()),
            expires_in_days: Some(30.0 + spread / 4.0),
            lifetime_days: Some(395.0),
            certificate_authority_arn: Some(format!(
                "arn:aws:acm-pca:{region}:{account}:certificate-authority/{}",
                ids::certificate_id(account, region, 9998)
            )),
            renewal: renewal("FAILED", Some("PCA_INVALID_STATE"), 48.0),
            ..base
        },
        Kind::Revoked => CertificateSpec {
            status: Some("REVOKED".to_owned()),
            revocation_reason: Some("SUPERSEDED".to_owned()),
            in_use_by: Vec::new(),
            ..base
        },
        Kind::PendingEmail => CertificateSpec {
            validation: Some("EMAIL".to_owned()),
            expires_in_days: Some(15.0 + spread / 4.0),
            renewal: renewal("PENDING_VALIDATION", None, 100.0),
            ..base
        },
        Kind::PendingHttp => CertificateSpec {
            validation: Some("HTTP".to_owned()),
            expires_in_days: Some(15.0 + spread / 4.0),
            in_use_by: vec![format!(
                "arn:aws:cloudfront::{account}:distribution/E{}",
                ids::chars(&[&base.domain], 13, ids::UPPER_ALNUM)
            )],
            renewal: renewal("PENDING_VALIDATION", None, 20.0),
            ..base
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_scenarios_are_valid_and_reproducible() {
        let spec = GeneratorSpec {
            members: 60,
            regions: vec!["us-east-1".into(), "eu-south-1".into()],
            certificates_per_region: 7,
            seed: 42,
            denied_percent: 5,
            suspended_percent: 5,
            ..GeneratorSpec::default()
        };
        let a = Scenario::generate(&spec);
        a.validate().expect("valid");
        assert_eq!(a, Scenario::generate(&spec));
        assert_ne!(
            a,
            Scenario::generate(&GeneratorSpec {
                seed: 43,
                ..spec.clone()
            })
        );
        assert_eq!(a.accounts.len(), 61);
        let certificates: usize = a.accounts.iter().map(|x| x.certificates.len()).sum();
        assert_eq!(certificates, 60 * 2 * 7);
        assert!(a.accounts.iter().any(|x| x.deny_assume_role));
        assert!(a
            .accounts
            .iter()
            .any(|x| x.state.as_deref() == Some("SUSPENDED")));
        let kinds: std::collections::BTreeSet<_> = a
            .accounts
            .iter()
            .flat_map(|x| &x.certificates)
            .map(|c| {
                (
                    c.cert_type.clone(),
                    c.status.clone(),
                    c.renewal.as_ref().map(|r| r.status.clone()),
                )
            })
            .collect();
        assert!(kinds.len() >= 6, "a mix, not one kind: {kinds:?}");
    }
}
