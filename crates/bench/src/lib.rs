//! What the bench binaries share: measurements of their own process.

pub mod process;
