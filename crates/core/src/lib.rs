//! certwatch-core: what a certificate is, what can go wrong with its renewal, and what a human
//! must do about it.
//!
//! Architecture invariant: this crate does no I/O, has no async, never reads the clock (`now` is a
//! parameter) and names no AWS or Slack type. The scanner converts SDK types into [`CertificateFacts`]
//! at its edge; everything downstream (CLI, Slack) consumes [`Report`].

mod account;
pub mod changes;
mod checks;
pub mod decisions;
pub mod expiry;
mod facts;
mod finding;
pub mod history;
mod inventory;
pub mod order;
mod policy;
pub mod regions;
mod report;
pub mod reuse;
mod rules;

pub use account::{Account, OrgUnit};
pub use changes::{Change, ChangeKind, Changes};
pub use checks::{
    name_covers, same_name, serial_value, Answer, CaaCheck, CaaRecord, CheckPlan, Checks,
    EndpointProbe, NameCheck, ServedCertificate, ValidationRecordCheck,
};
pub use decisions::{
    resend_allowed, AuditAction, AuditEntry, Decision, DecisionKind, Resurfaced, Visibility,
    RESEND_INTERVAL,
};
pub use facts::{
    CertStatus, CertType, CertificateFacts, DomainValidation, HttpRedirect, Reason,
    RenewalEligibility, RenewalStatus, RenewalSummary, ResourceRecord, SearchMetadata,
    ValidationMethod, ValidationStatus,
};
pub use finding::{Code, Finding, ParseUrgencyError, Urgency};
pub use history::{CertificateHistory, FindingHistory};
pub use inventory::Inventory;
pub use policy::{Policy, PolicyError, RenewalWindow};
pub use report::{CallTime, CertificateRecord, CheckStats, Failure, Report, Stage, Stats};
pub use rules::{caa_allows_amazon, classify, needs_detail, CaaVerdict, AMAZON_ISSUERS};
