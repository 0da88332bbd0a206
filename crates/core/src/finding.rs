//! Findings: why a certificate will not renew by itself, how urgent that is, and what to do.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How soon a human must act. Ordered: `Upcoming < Action < Urgent < Expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    Upcoming,
    Action,
    Urgent,
    Expired,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [
        Urgency::Expired,
        Urgency::Urgent,
        Urgency::Action,
        Urgency::Upcoming,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Upcoming => "upcoming",
            Urgency::Action => "action",
            Urgency::Urgent => "urgent",
            Urgency::Expired => "expired",
        }
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseUrgencyError(pub String);

impl fmt::Display for ParseUrgencyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown urgency {:?}: expected one of expired, urgent, action, upcoming",
            self.0
        )
    }
}

impl std::error::Error for ParseUrgencyError {}

impl FromStr for Urgency {
    type Err = ParseUrgencyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Urgency::ALL
            .into_iter()
            .find(|u| u.as_str() == text)
            .ok_or_else(|| ParseUrgencyError(text.to_owned()))
    }
}

macro_rules! codes {
    ($($variant:ident = $text:literal),* $(,)?) => {
        /// A stable finding code: part of the JSON contract, never renamed.
        ///
        /// Open: a code this version does not know (written by a newer certwatch into a store
        /// or report) loads as [`Code::Other`], is shown as it is, and sorts by its finding's
        /// urgency like any other. So a rollback never makes a store unreadable.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
            /// A code this version does not know, kept verbatim.
            Other(String),
        }

        impl Code {
            /// Every code this version knows, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(&self) -> &str {
                match self {
                    $(Code::$variant => $text,)*
                    Code::Other(text) => text,
                }
            }

            /// The known code spelled `text` exactly, or `Other(text)`.
            pub fn parse(text: &str) -> Code {
                match text {
                    $($text => Code::$variant,)*
                    other => Code::Other(other.to_owned()),
                }
            }
        }
    };
}

codes! {
    Expired = "EXPIRED",
    Revoked = "REVOKED",
    Imported = "IMPORTED",
    RenewalFailed = "RENEWAL_FAILED",
    CaaBlocked = "CAA_BLOCKED",
    PrivateCaError = "PRIVATE_CA_ERROR",
    DomainBlocked = "DOMAIN_BLOCKED",
    PendingValidationDns = "PENDING_VALIDATION_DNS",
    PendingValidationEmail = "PENDING_VALIDATION_EMAIL",
    PendingValidationHttp = "PENDING_VALIDATION_HTTP",
    NotInUse = "NOT_IN_USE",
    EmailValidation = "EMAIL_VALIDATION",
    RenewalNotStarted = "RENEWAL_NOT_STARTED",
    RenewalStalled = "RENEWAL_STALLED",
    RequestStuck = "REQUEST_STUCK",
    ValidationRecordMissing = "VALIDATION_RECORD_MISSING",
    ValidationRecordWrong = "VALIDATION_RECORD_WRONG",
    CaaForbidsAmazon = "CAA_FORBIDS_AMAZON",
    NameUnresolvable = "NAME_UNRESOLVABLE",
    EndpointUnreachable = "ENDPOINT_UNREACHABLE",
    ServedStale = "SERVED_STALE",
}

impl Code {
    /// The terminal codes: a certificate that has one gets no other finding (see `classify`), so
    /// its earlier findings are hidden, not resolved ([`crate::changes::resolves`]).
    pub const TERMINAL: &'static [Code] = &[Code::Expired, Code::Revoked];

    /// The codes that judge what the network checks (DNS, CAA, TLS) saw; without checks they
    /// never fire.
    pub const NETWORK: &'static [Code] = &[
        Code::ValidationRecordMissing,
        Code::ValidationRecordWrong,
        Code::CaaForbidsAmazon,
        Code::NameUnresolvable,
        Code::EndpointUnreachable,
        Code::ServedStale,
    ];
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(Code::parse(&text))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Code {
    type Err = String;

    /// A known code, leniently spelled (`not-in-use`, `Not_In_Use`); what people type.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_uppercase().replace('-', "_");
        Code::ALL
            .iter()
            .find(|c| c.as_str() == wanted)
            .cloned()
            .ok_or_else(|| format!("unknown finding code {text:?}"))
    }
}

/// One reason a certificate will not renew by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub urgency: Urgency,
    /// One line: what is wrong.
    pub summary: String,
    /// What a human must do, concretely (records, addresses, dates, console link).
    pub remedy: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_load_and_show_as_they_are() {
        let finding: Finding = serde_json::from_str(
            r#"{"code":"QUANTUM_KEY_WEAK","urgency":"urgent","summary":"s","remedy":"r"}"#,
        )
        .unwrap();
        assert_eq!(finding.code, Code::Other("QUANTUM_KEY_WEAK".into()));
        assert_eq!(finding.code.to_string(), "QUANTUM_KEY_WEAK");
        assert_eq!(
            serde_json::to_value(&finding).unwrap()["code"],
            "QUANTUM_KEY_WEAK"
        );
        let known: Code = serde_json::from_str("\"SERVED_STALE\"").unwrap();
        assert_eq!(known, Code::ServedStale);
        assert!(
            "quantum_key_weak".parse::<Code>().is_err(),
            "people type known codes"
        );
        assert_eq!(Code::ALL.len(), 21);
    }
}
