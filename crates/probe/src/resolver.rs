//! The nameservers: one hickory name-server pool per nameserver, each paced by a rate limiter of
//! its own, so `queries_per_second` holds for every nameserver separately.
//!
//! A question for name N goes to nameserver hash(N) % n (always the same one for a name, and
//! names spread evenly over the nameservers); if that one gives no answer (timeout, SERVFAIL,
//! REFUSED, a network error) it is asked of the next one, once, through that one's limiter.
//! hickory's own retries and cache are not used: the pool is asked directly, one attempt per
//! question, so each query sent is counted, paced and cached by this crate (see `lookup`), and
//! the raw answer keeps the CNAME chain even where its target does not exist.

use crate::{seconds, ProbeConfig, ProbeError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::{DnsHandle, FirstAnswer};
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::{DnsRequestOptions, Message, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RecordType};
use hickory_resolver::{NameServerPool, PoolContext, TlsConfig};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Extra time past hickory's own timeout before a query is abandoned: hickory enforces the
/// timeout itself; this only guarantees that nothing waits longer whatever happens inside it.
const GRACE: Duration = Duration::from_millis(500);

/// What a nameserver answered.
pub(crate) enum Reply {
    /// A response with answers (NOERROR, or NXDOMAIN at the end of a CNAME chain).
    Message(Box<Message>),
    /// NXDOMAIN: the name does not exist.
    NxDomain,
    /// NOERROR without answers: the name exists, without records of the asked type.
    NoData,
}

struct Nameserver {
    label: String,
    pool: NameServerPool<TokioRuntimeProvider>,
    limiter: DefaultDirectRateLimiter,
    clock: DefaultClock,
    /// Waiters for the limiter queue here, first come first served: only the head of the queue
    /// polls the limiter, instead of every waiter waking at each free slot.
    turn: tokio::sync::Mutex<()>,
}

impl Nameserver {
    /// Waits for this nameserver's next free slot. The wait is a tokio timer (governor's own
    /// `until_ready` would wake through a timer thread of its own at every query).
    async fn pace(&self) {
        let _turn = self.turn.lock().await;
        while let Err(not_until) = self.limiter.check() {
            tokio::time::sleep(not_until.wait_time_from(self.clock.now())).await;
        }
    }
}

/// The nameservers of one scan.
pub(crate) struct Nameservers {
    servers: Vec<Nameserver>,
    permits: Arc<Semaphore>,
    timeout: Duration,
    sent: AtomicU64,
}

impl Nameservers {
    /// The configured nameservers (the caller's: this crate reads no file, so the binary passes
    /// in the system resolver's when the configuration names none).
    pub(crate) fn new(
        config: &ProbeConfig,
        permits: Arc<Semaphore>,
    ) -> Result<Nameservers, ProbeError> {
        if config.nameservers.is_empty() {
            return Err(ProbeError::Config("no nameserver to ask".to_owned()));
        }
        let configs: Vec<NameServerConfig> = config
            .nameservers
            .iter()
            .map(|addr| {
                let mut server = NameServerConfig::udp_and_tcp(addr.ip());
                for connection in &mut server.connections {
                    connection.port = addr.port();
                }
                server
            })
            .collect();
        let quota = quota(config.queries_per_second)?;
        let options = Arc::new(options(config));
        let servers = configs
            .into_iter()
            .map(|server| {
                let port = server.connections.first().map_or(53, |c| c.port);
                let label = std::net::SocketAddr::new(server.ip, port).to_string();
                let context = PoolContext::new((*options).clone(), no_tls());
                let pool = NameServerPool::from_config(
                    [server],
                    Arc::new(context),
                    TokioRuntimeProvider::default(),
                );
                let clock = DefaultClock::default();
                Nameserver {
                    label,
                    pool,
                    limiter: RateLimiter::direct_with_clock(quota, clock.clone()),
                    clock,
                    turn: tokio::sync::Mutex::new(()),
                }
            })
            .collect();
        Ok(Nameservers {
            servers,
            permits,
            timeout: config.timeout,
            sent: AtomicU64::new(0),
        })
    }

    /// Queries sent so far (a fallback is a second query).
    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Asks one question (`name` fully qualified, lowercase), falling back once to the next
    /// nameserver when the first gives no answer. The error says who was asked and what
    /// happened.
    pub(crate) async fn query(
        &self,
        name: &Name,
        record_type: RecordType,
    ) -> Result<Reply, String> {
        let first = pick(&name.to_ascii(), self.servers.len());
        let mut errors = Vec::new();
        let tries = self.servers.len().min(2);
        for i in 0..tries {
            let server = &self.servers[(first + i) % self.servers.len()];
            match self.ask(server, name, record_type).await {
                Ok(reply) => return Ok(reply),
                Err(error) => errors.push(format!("{} ({error})", server.label)),
            }
        }
        Err(format!("no answer from {}", errors.join(", then from ")))
    }

    async fn ask(
        &self,
        server: &Nameserver,
        name: &Name,
        record_type: RecordType,
    ) -> Result<Reply, String> {
        // Paced first, then a permit: nothing waits for the rate limit while holding a permit.
        server.pace().await;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| "the prober is shutting down".to_owned())?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        let query = Query::query(name.clone(), record_type);
        let answer = server.pool.lookup(query, request_options()).first_answer();
        match tokio::time::timeout(self.timeout + GRACE, answer).await {
            Err(_) => Err(format!("timed out after {}", seconds(self.timeout))),
            Ok(Ok(response)) => Ok(Reply::Message(Box::new(response.into_message()))),
            Ok(Err(error)) => classify(&error, self.timeout),
        }
    }
}

/// NXDOMAIN and NODATA are answers; everything else is a failure to get one.
fn classify(error: &NetError, timeout: Duration) -> Result<Reply, String> {
    match error {
        NetError::Dns(DnsError::NoRecordsFound(NoRecords {
            response_code: ResponseCode::NXDomain,
            ..
        })) => Ok(Reply::NxDomain),
        // A referral (NS records, no SOA) comes from a nameserver that does not recurse: it
        // says nothing about the name, so it is no answer.
        NetError::Dns(DnsError::NoRecordsFound(NoRecords { soa: None, ns, .. }))
            if ns.as_ref().is_some_and(|ns| !ns.is_empty()) =>
        {
            Err("referral: the nameserver does not resolve recursively".to_owned())
        }
        NetError::Dns(DnsError::NoRecordsFound(NoRecords {
            response_code: ResponseCode::NoError,
            ..
        })) => Ok(Reply::NoData),
        NetError::Dns(DnsError::ResponseCode(code))
        | NetError::Dns(DnsError::NoRecordsFound(NoRecords {
            response_code: code,
            ..
        })) => Err(rcode(*code)),
        NetError::Timeout => Err(format!("timed out after {}", seconds(timeout))),
        NetError::Io(io) => Err(io.to_string()),
        other => Err(other.to_string()),
    }
}

/// The response code as DNS people write it.
fn rcode(code: ResponseCode) -> String {
    match code {
        ResponseCode::ServFail => "SERVFAIL".to_owned(),
        ResponseCode::Refused => "REFUSED".to_owned(),
        ResponseCode::FormErr => "FORMERR".to_owned(),
        ResponseCode::NotImp => "NOTIMP".to_owned(),
        ResponseCode::NotAuth => "NOTAUTH".to_owned(),
        other => format!("response code {}", u16::from(other)),
    }
}

/// The nameserver for a name: stable for a name within and across scans.
fn pick(name: &str, servers: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    name.hash(&mut hasher);
    (hasher.finish() % servers.max(1) as u64) as usize
}

/// `queries_per_second` as a quota, with a small burst (1/20 of a second's worth) so that the
/// timer's lateness does not accumulate into a lower rate.
fn quota(per_second: f64) -> Result<Quota, ProbeError> {
    if !(per_second.is_finite() && per_second > 0.0) {
        return Err(ProbeError::Config(format!(
            "queries_per_second must be a positive number, not {per_second}"
        )));
    }
    let period = Duration::from_secs_f64(1.0 / per_second);
    let burst =
        NonZeroU32::new((per_second / 20.0).clamp(1.0, 1000.0) as u32).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .map(|q| q.allow_burst(burst))
        .ok_or_else(|| {
            ProbeError::Config(format!(
                "queries_per_second {per_second} is too high to pace"
            ))
        })
}

/// One attempt per question with the probe's timeout; no hosts file (public DNS is what ACM
/// and visitors see); one question at a time per pool.
fn options(config: &ProbeConfig) -> ResolverOpts {
    let mut options = ResolverOpts::default();
    options.timeout = config.timeout;
    options.attempts = 1;
    options.cache_size = 0;
    options.use_hosts_file = ResolveHosts::Never;
    options.num_concurrent_reqs = 1;
    options.preserve_intermediates = true;
    options.max_active_requests = config.max_concurrency.max(32);
    options
}

fn request_options() -> DnsRequestOptions {
    let mut options = DnsRequestOptions::default();
    options.recursion_desired = true;
    options.use_edns = true;
    options
}

/// The DNS transport is plain UDP/TCP; hickory's TLS settings are unused.
fn no_tls() -> TlsConfig {
    // Without a TLS transport compiled in, building it cannot fail.
    TlsConfig::new().unwrap_or_else(|_| unreachable!("no DNS-over-TLS support is compiled in"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_spread_over_nameservers_and_stay_put() {
        let picks: Vec<usize> = (0..1000)
            .map(|i| pick(&format!("n{i}.example.com."), 3))
            .collect();
        for server in 0..3 {
            let share = picks.iter().filter(|p| **p == server).count();
            assert!((250..420).contains(&share), "server {server}: {share}");
        }
        assert_eq!(pick("a.example.", 3), pick("a.example.", 3));
        assert_eq!(pick("a.example.", 1), 0);
    }

    #[test]
    fn negative_answers_are_answers_and_the_rest_failures() {
        let t = Duration::from_secs(5);
        let query = Query::query(Name::from_ascii("x.test.").unwrap(), RecordType::A);
        let nx = NetError::from(NoRecords::new(query.clone(), ResponseCode::NXDomain));
        assert!(matches!(classify(&nx, t), Ok(Reply::NxDomain)));
        let nodata = NetError::from(NoRecords::new(query, ResponseCode::NoError));
        assert!(matches!(classify(&nodata, t), Ok(Reply::NoData)));
        let servfail = NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail));
        assert_eq!(classify(&servfail, t).err().unwrap(), "SERVFAIL");
        let refused = NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused));
        assert_eq!(classify(&refused, t).err().unwrap(), "REFUSED");
        assert_eq!(
            classify(&NetError::Timeout, t).err().unwrap(),
            "timed out after 5 s"
        );
    }

    #[test]
    fn rates_must_be_positive() {
        assert!(quota(200.0).is_ok());
        assert!(quota(0.5).is_ok());
        assert!(quota(0.0).is_err());
        assert!(quota(f64::NAN).is_err());
        assert!(quota(-1.0).is_err());
    }
}
