//! Peers the end-to-end tests start on 127.0.0.1 and stop again.

pub mod moto;
