//! What the bench binaries share: the generated organization's shape, and measurements of
//! their own process.

pub mod org;
pub mod process;
