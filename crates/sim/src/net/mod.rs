//! What the world sees of certificates, on loopback: an authoritative DNS server ([`dns`]) and
//! TLS endpoints serving generated certificates ([`tls`]).
//!
//! These are reusable primitives with no knowledge of the simulated organization, so tests of
//! other crates can stand up exactly the DNS answers and served certificates they need (against
//! moto, say). The simulator itself builds its world from a scenario in `crate::network` and
//! starts them from `serve()` when the scenario's `[network]` is enabled.
//!
//! Everything listens on `127.0.0.1` and ephemeral ports, and nothing here sends a packet
//! anywhere else: a test can never reach the internet through these servers.

pub mod dns;
pub mod tls;
