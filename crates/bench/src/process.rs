//! A process's peak memory and CPU time, from /proc (Linux); 0 where /proc is missing.

/// Peak resident set (`VmHWM`) of this process, KiB.
pub fn peak_rss_kib() -> u64 {
    status_kib("self", "VmHWM:")
}

/// CPU time (user + system) of this process so far, seconds.
pub fn cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

/// Peak resident set (`VmHWM`) of process `pid` (another process of this user: a child), KiB.
pub fn peak_rss_kib_of(pid: u32) -> u64 {
    status_kib(&pid.to_string(), "VmHWM:")
}

/// Resident set now (`VmRSS`) of process `pid`, KiB.
pub fn rss_kib_of(pid: u32) -> u64 {
    status_kib(&pid.to_string(), "VmRSS:")
}

/// CPU time (user + system) of process `pid` so far, seconds.
pub fn cpu_seconds_of_pid(pid: u32) -> f64 {
    cpu_seconds_of(&pid.to_string())
}

/// A `kB` line of `/proc/<proc>/status`.
fn status_kib(proc: &str, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{proc}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn cpu_seconds_of(proc: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{proc}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Linux reports these in USER_HZ, 100 per second on every architecture it supports.
    (ticks(11) + ticks(12)) / 100.0
}
