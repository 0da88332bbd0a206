//! Who is calling: the ambient (management) identity or a session the simulator
//! issued with `AssumeRole`.
//!
//! Any access key id the simulator did not issue is the management account (like
//! moto), so `AWS_ACCESS_KEY_ID=sim AWS_SECRET_ACCESS_KEY=sim` just works. Issued
//! keys map to the assumed account and must come with their session token, so a
//! scanner that mixes up credentials gets the error AWS would give, not another
//! account's data.

use crate::ids;
use crate::protocol::AuthFailure;
use crate::world::World;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// The principal of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub arn: String,
    pub user_id: String,
    /// A role session (its `AssumeRole` calls are role chaining).
    pub assumed_role: bool,
}

impl Caller {
    /// The ambient identity: an IAM user in the management account.
    pub fn ambient(management: &str) -> Caller {
        Caller {
            account: management.to_owned(),
            arn: format!("arn:aws:iam::{management}:user/certwatch-sim"),
            user_id: ids::access_key_id("AIDA", &["user", management]),
            assumed_role: false,
        }
    }
}

/// Temporary credentials issued by `AssumeRole`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: DateTime<Utc>,
    pub account: String,
    pub role_name: String,
    pub session_name: String,
    pub role_id: String,
}

impl Session {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            self.account, self.role_name, self.session_name
        )
    }

    pub fn assumed_role_id(&self) -> String {
        format!("{}:{}", self.role_id, self.session_name)
    }
}

/// Every session issued by one server.
#[derive(Debug, Default)]
pub struct Sessions {
    by_key: Mutex<HashMap<String, Session>>,
    issued: AtomicU64,
}

impl Sessions {
    pub fn issue(
        &self,
        account: &str,
        role_name: &str,
        session_name: &str,
        expiration: DateTime<Utc>,
    ) -> Session {
        // Keys are unique per call (the counter) but reproducible for a given
        // sequence of calls.
        let n = self.issued.fetch_add(1, Ordering::Relaxed).to_string();
        let parts = [account, role_name, session_name, n.as_str()];
        let session = Session {
            access_key_id: ids::access_key_id("ASIA", &parts),
            secret_access_key: ids::chars(
                &[&["secret"][..], &parts].concat(),
                40,
                ids::LOWER_ALNUM,
            ),
            session_token: format!(
                "IQoJb3JpZ2luX2VjE{}",
                ids::chars(&[&["token"][..], &parts].concat(), 120, ids::LOWER_ALNUM)
            ),
            expiration,
            account: account.to_owned(),
            role_name: role_name.to_owned(),
            session_name: session_name.to_owned(),
            role_id: ids::access_key_id("AROA", &["role", account, role_name]),
        };
        self.by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(session.access_key_id.clone(), session.clone());
        session
    }

    /// Resolves the caller of a request signed with `access_key_id`, checking an
    /// issued key's session token and expiry against the wall clock `wall_now`.
    pub fn caller(
        &self,
        world: &World,
        access_key_id: &str,
        session_token: Option<&str>,
        wall_now: DateTime<Utc>,
    ) -> Result<Caller, AuthFailure> {
        let sessions = self.by_key.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(session) = sessions.get(access_key_id) else {
            return Ok(Caller::ambient(&world.management));
        };
        if session_token != Some(session.session_token.as_str()) {
            return Err(AuthFailure::Invalid);
        }
        // A little grace, like AWS, so a request signed just before expiry passes.
        if wall_now > session.expiration + Duration::seconds(30) {
            return Err(AuthFailure::Expired);
        }
        Ok(Caller {
            account: session.account.clone(),
            arn: session.arn(),
            user_id: session.assumed_role_id(),
            assumed_role: true,
        })
    }

    pub fn len(&self) -> usize {
        self.by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
