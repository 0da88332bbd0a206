//! Peers the end-to-end tests start on 127.0.0.1 and stop again.

pub mod fake_slack;
pub mod http;
pub mod moto;
pub mod serve;
pub mod sim;
