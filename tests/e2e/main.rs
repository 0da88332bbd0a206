//! End-to-end tests: the built `certwatch` binary against real peers on 127.0.0.1.

mod architecture;
mod changes_moto;
mod checks_moto;
mod checks_sim;
mod cli;
mod demo;
mod faults;
mod logs;
mod memory_moto;
mod metrics;
mod org_metadata;
mod permissions;
mod repeat_scan_moto;
mod report_html;
mod resend_sim;
mod routing_moto;
mod scan_moto;
mod search;
mod serve;
mod support;
