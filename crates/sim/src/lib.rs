//! certwatch-sim: a simulated AWS Organization served over the real AWS wire
//! protocols on `127.0.0.1`, so the unmodified AWS SDK clients (Organizations, STS,
//! Account, ACM) can be pointed at it with `endpoint_url`.
//!
//! It powers `certwatch demo` and end-to-end tests, and is meant to grow into a
//! benchmark and fault-injection harness: the organization is data (a
//! [`Scenario`], TOML), every identifier is deterministic, and faults are scenario
//! keys.
//!
//! # Using it
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! let server = certwatch_sim::serve(certwatch_sim::Scenario::demo(), chrono::Utc::now()).await?;
//! // Point SDK clients at server.endpoint() with any region and static credentials.
//! println!("{}", server.endpoint());
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Credentials
//! Use static credentials such as `AWS_ACCESS_KEY_ID=sim`,
//! `AWS_SECRET_ACCESS_KEY=sim` (no session token). **Any access key id the
//! simulator did not issue is the management account** (like moto). Signatures are
//! not verified, but the SigV4 `Authorization` header is required: its credential
//! scope (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`) gives the caller's
//! key and region.
//!
//! `sts:AssumeRole` on `arn:aws:iam::<account>:role/<name>` issues `ASIA…` keys
//! that act in that account; requests signed with them must carry their session
//! token (else `UnrecognizedClientException`), and they expire (by the wall clock,
//! which is what the SDK's credential cache compares with). AssumeRole is denied
//! (`AccessDenied`, 403) for an unknown account, a role the account does not have,
//! a caller account the role does not trust, a wrong external id, or an account
//! with `deny_assume_role`.
//! An account's `denied_actions` (e.g. `["acm:SearchCertificates"]`, or
//! `["acm:ResendValidationEmail"]` for a role deployed read-only) refuse those ACM calls
//! from inside the account with `AccessDeniedException`, as IAM does for a role that lacks
//! the permission.
//!
//! # Served operations
//! | Service | Protocol | Operations |
//! |---|---|---|
//! | Organizations | awsJson1_1 | ListAccounts (≤ 20 per page, `State` and legacy `Status`), DescribeOrganization, ListParents, DescribeOrganizationalUnit, ListTagsForResource (accounts' tags, 10 per page) |
//! | STS | awsQuery | GetCallerIdentity, AssumeRole |
//! | Account | restJson1 | ListRegions (`POST /listRegions`) |
//! | ACM | awsJson1_1 | ListCertificates (AWS's default key-type filter, real paging), SearchCertificates (no default filter; `FilterStatement` refused), DescribeCertificate, ListTagsForCertificate, ResendValidationEmail (checked as ACM does, recorded: [`SimServer::resends`]) |
//!
//! ACM and regional STS answer `UnrecognizedClientException` /
//! `InvalidClientTokenId` in an opt-in region the account has not enabled, as AWS
//! does. Anything else answers `UnknownOperationException` (`InvalidAction` for STS).
//!
//! # Quotas, latency and faults
//! [`serve_with`] takes a [`Behaviour`] (serde, TOML or JSON): AWS's quotas as token
//! buckets keyed the way AWS keys them (ACM per account-region and API, STS per
//! calling account and region, Organizations and Account per calling account),
//! answering the real throttling errors; a log-normal latency (median, p99); and
//! faults per account, account-region or seeded percentage (throttling storms,
//! HTTP 500, connection resets, answers slower than a client timeout, malformed
//! bodies, AccessDenied on AssumeRole or ACM, disabled regions). [`serve`] is
//! `serve_with` and [`Behaviour::default`]: none of these.
//!
//! # What the world sees: DNS and TLS
//! With a scenario's `[network] enabled = true`, [`serve`] also starts an authoritative DNS
//! server ([`SimServer::dns_addr`], UDP and TCP) and one TLS listener on 127.0.0.1
//! ([`SimServer::tls_port`]), so network checks can look at the certificates as the internet
//! would: each certificate's validation CNAMEs, CAA records (`[network].caa`), A records for
//! its names, and by SNI the certificate its endpoint serves, all derived from the scenario
//! (keys `validation_record`, `resolves`, `endpoint`; see `scenarios/demo.toml`). Served
//! certificates are signed by the simulator's own CA ([`net::tls::sim_ca_pem`]), so they are
//! never trusted by WebPKI. Two certificates claiming one name: the first in scenario order
//! decides its address and the certificate served for it. The servers are also usable on
//! their own ([`net`]), e.g. in front of moto.
//!
//! # Layout
//! The modules, lowest first. Each one uses (`crate::…`) only modules listed above
//! it, so services depend on the world and never the reverse, and the file model
//! depends on nothing of the simulator (`tests/layout.rs` checks this list against
//! the code). `lib.rs` only declares and re-exports.
//!
//! - `ids`: deterministic identifiers (ARNs, serials, keys, hashes).
//! - `regions`: the region catalogue of the partition.
//! - `paging`: opaque, stable `NextToken`s.
//! - `protocol`: the wire (awsJson1_1, awsQuery, restJson1): routing, SigV4 scope,
//!   answers and errors.
//! - `net`: the reusable DNS server and SNI TLS listener; knows nothing of scenarios.
//! - `scenario`: the file model (TOML), plain data.
//! - `generate`: large scenarios built in code for benchmarks ([`Scenario::generate`]).
//! - `world`: a scenario resolved against `now` (dates, ARNs, validation records, what
//!   the world shows of each certificate). Every semantic check is made while
//!   resolving, so [`Scenario::from_toml`] and [`Scenario::validate`] are defined here.
//! - `identity`: who is calling; the sessions `AssumeRole` issued.
//! - `behaviour`: quotas, latency and faults.
//! - `services`: one module per AWS service (no HTTP).
//! - `network`: the world's DNS records and the certificates served by SNI.
//! - `server`: axum; authenticates, applies `behaviour` before a service answers, and
//!   starts `net`'s DNS and TLS servers with `network`'s plan.

mod behaviour;
mod generate;
mod identity;
mod ids;
pub mod net;
mod network;
mod paging;
mod protocol;
mod regions;
mod scenario;
mod server;
mod services;
mod world;

pub use behaviour::{Behaviour, Fault, FaultKind, Latency, Quotas};
pub use generate::{GeneratorSpec, GENERATED_MANAGEMENT};
pub use scenario::{
    AccountSpec, CertificateSpec, NetworkSpec, OrganizationSpec, OrganizationalUnitSpec,
    RegionFaults, RenewalSpec, Scenario, ScenarioError,
};
pub use server::{serve, serve_with, SimServer};

/// The regions AWS enables in every account, and the opt-in ones the simulator
/// knows (`organization.regions` must come from these).
pub mod region_catalogue {
    pub use crate::regions::{DEFAULT_ENABLED, OPT_IN};
}
