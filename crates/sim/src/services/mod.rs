//! One module per AWS service. Each answers `(context, operation, body)` with a
//! [`Reply`] or an [`ApiError`]; none of them knows about HTTP or axum.

pub mod account;
pub mod acm;
pub mod organizations;
pub mod sts;

use crate::identity::{Caller, Sessions};
use crate::protocol::{ApiError, Protocol};
use crate::world::World;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

/// Everything an operation may read about its request.
pub struct Ctx<'a> {
    pub world: &'a World,
    pub caller: &'a Caller,
    /// The region from the SigV4 credential scope.
    pub region: &'a str,
    pub sessions: &'a Sessions,
    /// The real clock, for credential expiry (the SDK compares expirations with it);
    /// certificate dates use `world.now`.
    pub wall_now: DateTime<Utc>,
    pub request_id: &'a str,
    /// The validation emails ACM accepted to send again (the one write the simulator serves).
    pub resends: &'a acm::Resends,
}

/// Parses a JSON request body; an empty body is an empty input.
pub fn json_input<T: DeserializeOwned + Default>(
    protocol: Protocol,
    body: &[u8],
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::malformed(protocol, &format!("Malformed request body: {e}")))
}

/// `"1 validation error detected: …"`, the wording AWS's request validation uses.
pub fn validation_message(value: impl std::fmt::Display, member: &str, constraint: &str) -> String {
    format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}")
}
