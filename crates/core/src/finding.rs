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
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
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
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Code {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_uppercase().replace('-', "_");
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == wanted)
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
