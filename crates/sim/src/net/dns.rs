//! A loopback authoritative DNS server (hickory-server) for a fixed set of records, and a
//! "nameserver" that never answers.
//!
//! The zone's origin is the root, so every name is inside it: a name without records gets
//! NXDOMAIN, a name with records of other types gets NODATA, and nothing is ever REFUSED. That
//! is what a CAA climb needs (RFC 8659 queries every parent up to the top-level domain), and
//! what public DNS answers for names that do not exist.

use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::rdata::{A, AAAA, CAA, CNAME, SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record as DnsRecord, RecordType};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use hickory_server::Server;
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;

/// Every record's TTL: short, so a resolver that caches does not hide a changed world for long.
const TTL: u32 = 60;
/// How long a TCP client may stay idle before the server closes the connection.
const TCP_IDLE: Duration = Duration::from_secs(10);
/// How long `shutdown` waits for in-flight queries before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// Binding UDP and then TCP on the same ephemeral port can lose a race with another process
/// taking that TCP port; a few tries make that vanishingly unlikely.
const BIND_ATTEMPTS: usize = 16;

/// One record of the zone. Names may be given with or without the final dot; case does not
/// matter.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    A {
        name: String,
        addr: Ipv4Addr,
    },
    Aaaa {
        name: String,
        addr: Ipv6Addr,
    },
    Cname {
        name: String,
        target: String,
    },
    /// Any tag, including unknown ones (e.g. "tbs") and the critical flag 128; value as written
    /// ("amazon.com", ";", "amazon.com; accounturi=https://x").
    Caa {
        name: String,
        flags: u8,
        tag: String,
        value: String,
    },
    Txt {
        name: String,
        value: String,
    },
}

impl Record {
    /// The name the record is at.
    pub fn name(&self) -> &str {
        match self {
            Record::A { name, .. }
            | Record::Aaaa { name, .. }
            | Record::Cname { name, .. }
            | Record::Caa { name, .. }
            | Record::Txt { name, .. } => name,
        }
    }
}

/// An authoritative DNS server on `127.0.0.1`, UDP and TCP on one ephemeral port. Dropping it
/// stops it too (without waiting).
pub struct DnsServer {
    addr: SocketAddr,
    server: Server<Catalog>,
}

impl DnsServer {
    /// Serves `records` authoritatively from ONE zone whose origin is the root ".", so that every
    /// name (including a CAA climb up to a top-level domain like "com.") gets NXDOMAIN or NODATA,
    /// never REFUSED. UDP and TCP on 127.0.0.1, one ephemeral port for both.
    ///
    /// A record that DNS cannot hold (a name that is not a domain name, a CNAME beside other
    /// data at its name, a CAA tag that is not 1 to 255 letters and digits) is an
    /// `InvalidInput` error naming it.
    pub async fn start(records: Vec<Record>) -> io::Result<DnsServer> {
        let zone = zone(records)?;
        let mut catalog = Catalog::new();
        catalog.upsert(
            LowerName::new(&Name::root()),
            vec![Arc::new(zone) as Arc<dyn ZoneHandler>],
        );
        let (udp, tcp) = bind_pair().await?;
        let addr = udp.local_addr()?;
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE, 64 * 1024);
        tracing::debug!(%addr, "simulated DNS listening");
        Ok(DnsServer { addr, server })
    }

    /// `127.0.0.1:PORT`, for UDP and TCP alike.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering; waits (briefly) for queries in flight.
    pub async fn shutdown(mut self) {
        // An idle TCP client can hold a graceful shutdown open until its idle timeout; dropping
        // the server after the grace period aborts whatever is left.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, self.server.shutdown_gracefully()).await;
    }
}

/// The root zone: an SOA (hickory requires one, and negative answers carry it) and `records`.
fn zone(records: Vec<Record>) -> io::Result<InMemoryZoneHandler<TokioRuntimeProvider>> {
    let mut zone = InMemoryZoneHandler::<TokioRuntimeProvider>::empty(
        Name::root(),
        ZoneType::Primary,
        AxfrPolicy::Deny,
    );
    let soa = SOA::new(
        name("ns.sim.invalid")?,
        name("hostmaster.sim.invalid")?,
        1,
        3600,
        600,
        86_400,
        TTL,
    );
    zone.upsert_mut(DnsRecord::from_rdata(Name::root(), TTL, RData::SOA(soa)), 1);

    // CNAMEs must be alone at their name (RFC 1034 §3.6.2); hickory would silently refuse or
    // merge, so conflicts are caught here and reported.
    let mut types_at: HashMap<LowerName, Vec<RecordType>> = HashMap::new();
    for record in records {
        let at = name(record.name())?;
        let rdata = rdata(&record)?;
        let kind = rdata.record_type();
        let seen = types_at.entry(LowerName::new(&at)).or_default();
        let clash = if kind == RecordType::CNAME {
            !seen.is_empty()
        } else {
            seen.contains(&RecordType::CNAME)
        };
        if clash {
            return Err(invalid(format!(
                "{record:?}: a CNAME cannot share its name with other records"
            )));
        }
        seen.push(kind);
        if !zone.upsert_mut(DnsRecord::from_rdata(at, TTL, rdata), 1) {
            return Err(invalid(format!("{record:?} does not fit in the zone")));
        }
    }
    Ok(zone)
}

fn rdata(record: &Record) -> io::Result<RData> {
    Ok(match record {
        Record::A { addr, .. } => RData::A(A(*addr)),
        Record::Aaaa { addr, .. } => RData::AAAA(AAAA(*addr)),
        Record::Cname { target, .. } => RData::CNAME(CNAME(name(target)?)),
        Record::Txt { value, .. } => RData::TXT(TXT::new(character_strings(value))),
        Record::Caa {
            flags, tag, value, ..
        } => {
            // Tag syntax of RFC 8659 §4.1; hickory would fail only when sending the answer.
            if tag.is_empty() || tag.len() > 255 || !tag.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(invalid(format!(
                    "{record:?}: a CAA tag is 1 to 255 ASCII letters and digits"
                )));
            }
            // The raw property, byte for byte: unknown tags, reserved flag bits and values
            // hickory's issuer parser would rewrite (parameters, ";") go out as written.
            let mut caa = CAA::new_issue(false, None, Vec::new());
            caa.issuer_critical = flags & 0x80 != 0;
            caa.reserved_flags = flags & 0x7f;
            caa.tag = tag.clone();
            caa.value = value.as_bytes().to_vec();
            RData::CAA(caa)
        }
    })
}

/// A TXT value as DNS character-strings of at most 255 bytes each (split on char boundaries).
fn character_strings(value: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    for c in value.chars() {
        if parts.last().is_some_and(|p| p.len() + c.len_utf8() > 255) {
            parts.push(String::new());
        }
        if let Some(part) = parts.last_mut() {
            part.push(c);
        }
    }
    parts
}

/// A fully qualified name from text with or without the final dot.
fn name(text: &str) -> io::Result<Name> {
    let mut parsed =
        Name::from_ascii(text).map_err(|e| invalid(format!("{text:?} is not a DNS name: {e}")))?;
    parsed.set_fqdn(true);
    Ok(parsed)
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// A UDP socket and a TCP listener on the same ephemeral port of 127.0.0.1.
async fn bind_pair() -> io::Result<(UdpSocket, TcpListener)> {
    let mut last = None;
    for _ in 0..BIND_ATTEMPTS {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = udp.local_addr()?.port();
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(error) if error.kind() == io::ErrorKind::AddrInUse => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::AddrInUse, "no free port pair")))
}

/// A "nameserver" that accepts UDP and TCP on 127.0.0.1:port and never answers (for timeout
/// tests). TCP connections are accepted and held open, unread replies never come. Dropping it
/// stops it too.
pub struct SilentDns {
    addr: SocketAddr,
    tasks: JoinSet<()>,
}

impl SilentDns {
    pub async fn start() -> io::Result<SilentDns> {
        let (udp, tcp) = bind_pair().await?;
        let addr = udp.local_addr()?;
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut buf = vec![0u8; 65_535];
            // Queries are read (so the socket buffer never fills) and dropped.
            while udp.recv_from(&mut buf).await.is_ok() {}
        });
        tasks.spawn(async move {
            let mut held = JoinSet::new();
            while let Ok((stream, _)) = tcp.accept().await {
                while held.try_join_next().is_some() {}
                held.spawn(async move {
                    let mut stream = stream;
                    let mut sink = tokio::io::sink();
                    // Reads until the client gives up; never writes.
                    let _ = tokio::io::copy(&mut stream, &mut sink).await;
                });
            }
        });
        Ok(SilentDns { addr, tasks })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}
