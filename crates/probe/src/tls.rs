//! TLS probes: one handshake per (address, name) per scan, SNI = the name, then close.
//!
//! Nothing is sent after the handshake (no HTTP request) and nothing is written. The served
//! chain and the recorded WebPKI verdict are kept per (address, name); whether the served copy
//! is ACM's current one depends on the asking certificate and is worked out by the caller.
//! A probe that cannot be made from this host (no route, no IPv6, no local address) is told
//! apart from an endpoint that does not answer: only the latter is the endpoint's fault.

use crate::cache::OnceMap;
use crate::leaf::{self, Leaf};
use crate::verifier::Recording;
use crate::{seconds, ProbeError};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::TlsConnector;

/// What one handshake found, as cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Served {
        leaf: Leaf,
        verdict: String,
        chain_length: usize,
    },
    /// No handshake: why, and whether the cause is on this host.
    Failed { error: String, local: bool },
}

/// The TLS side of a scan.
pub(crate) struct Tls {
    provider: Arc<CryptoProvider>,
    webpki: Arc<WebPkiServerVerifier>,
    timeout: Duration,
    permits: Arc<Semaphore>,
    attempted: AtomicU64,
    outcomes: OnceMap<(SocketAddr, Box<str>), Arc<Outcome>>,
}

impl Tls {
    /// WebPKI roots (webpki-roots) plus any `extra_roots` (PEM), with the aws-lc-rs provider.
    pub(crate) fn new(
        timeout: Duration,
        permits: Arc<Semaphore>,
        extra_roots: &str,
    ) -> Result<Tls, ProbeError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in CertificateDer::pem_slice_iter(extra_roots.as_bytes()) {
            let cert = cert.map_err(|e| ProbeError::Tls(format!("a trust anchor: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| ProbeError::Tls(format!("a trust anchor: {e}")))?;
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| ProbeError::Tls(e.to_string()))?;
        Ok(Tls {
            provider,
            webpki,
            timeout,
            permits,
            attempted: AtomicU64::new(0),
            outcomes: OnceMap::new(),
        })
    }

    /// Handshakes attempted so far.
    pub(crate) fn attempted(&self) -> u64 {
        self.attempted.load(Ordering::Relaxed)
    }

    /// The outcome of the handshake with `address:port` for `name` (made once per scan).
    pub(crate) async fn probe(&self, address: IpAddr, port: u16, name: &str) -> Arc<Outcome> {
        let host = name.trim_end_matches('.').to_ascii_lowercase();
        let endpoint = SocketAddr::new(address, port);
        self.outcomes
            .get_or_run((endpoint, host.clone().into_boxed_str()), || async {
                Arc::new(self.handshake(endpoint, host).await)
            })
            .await
    }

    async fn handshake(&self, endpoint: SocketAddr, host: String) -> Outcome {
        let local = |error: String| Outcome::Failed { error, local: true };
        let server_name = match ServerName::try_from(host.clone()) {
            Ok(name) => name,
            Err(_) => return local(format!("{host} is not a name TLS can ask for (SNI)")),
        };
        let verifier = Arc::new(Recording::new(
            self.webpki.clone(),
            self.provider.signature_verification_algorithms,
        ));
        let config = match self.config(verifier.clone()) {
            Ok(config) => config,
            Err(error) => return local(format!("the TLS client cannot be set up: {error}")),
        };
        let Ok(_permit) = self.permits.acquire().await else {
            return local("the prober is shutting down".to_owned());
        };
        self.attempted.fetch_add(1, Ordering::Relaxed);
        let attempt = async {
            let tcp = TcpStream::connect(endpoint)
                .await
                .map_err(|e| connect_error(&e, endpoint))?;
            TlsConnector::from(Arc::new(config))
                .connect(server_name, tcp)
                .await
                .map_err(|e| (handshake_error(&e), false))
        };
        let stream = match tokio::time::timeout(self.timeout, attempt).await {
            Err(_) => {
                return Outcome::Failed {
                    error: format!("timed out after {}", seconds(self.timeout)),
                    local: false,
                }
            }
            Ok(Err((error, local))) => return Outcome::Failed { error, local },
            Ok(Ok(stream)) => stream,
        };
        let (_, connection) = stream.get_ref();
        let chain = connection.peer_certificates().unwrap_or_default();
        let outcome = match chain.first().map(|der| leaf::parse(der)) {
            Some(Ok(leaf)) => Outcome::Served {
                leaf,
                verdict: verifier
                    .verdict()
                    .unwrap_or_else(|| "not verified".to_owned()),
                chain_length: chain.len(),
            },
            Some(Err(error)) => Outcome::Failed {
                error,
                local: false,
            },
            None => Outcome::Failed {
                error: "the handshake completed without a certificate".to_owned(),
                local: false,
            },
        };
        // Closed without a word: dropping the stream closes the socket.
        drop(stream);
        outcome
    }

    /// A client config of its own per handshake (the verdict slot is per handshake); no
    /// session resumption, so every probe sees the full served chain.
    fn config(&self, verifier: Arc<Recording>) -> Result<ClientConfig, rustls::Error> {
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.resumption = Resumption::disabled();
        Ok(config)
    }
}

/// Linux's EAFNOSUPPORT: the address family (IPv6, typically) is not available on this host.
const EAFNOSUPPORT: i32 = 97;

/// Why a TCP connection failed, and whether the cause is on this host.
fn connect_error(error: &io::Error, endpoint: SocketAddr) -> (String, bool) {
    use io::ErrorKind::*;
    let (text, local) = match error.kind() {
        ConnectionRefused => ("connection refused", false),
        ConnectionReset => ("connection reset", false),
        ConnectionAborted => ("connection aborted", false),
        TimedOut => ("connection timed out", false),
        NetworkUnreachable => ("network unreachable from this host", true),
        HostUnreachable if endpoint.is_ipv6() => {
            ("no route to this IPv6 address from this host", true)
        }
        HostUnreachable => ("host unreachable", false),
        AddrNotAvailable => ("no local address to connect from", true),
        _ if error.raw_os_error() == Some(EAFNOSUPPORT) => {
            ("this address family is not supported on this host", true)
        }
        _ => return (format!("cannot connect: {error}"), false),
    };
    (text.to_owned(), local)
}

/// Why a TLS handshake failed: an alert the server sent, or what went wrong on the wire.
fn handshake_error(error: &io::Error) -> String {
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("TLS alert: {}", words(&format!("{alert:?}")))
        }
        Some(other) => format!("TLS handshake failed: {other}"),
        None => match error.kind() {
            io::ErrorKind::UnexpectedEof => "connection closed during the TLS handshake".to_owned(),
            io::ErrorKind::ConnectionReset => {
                "connection reset during the TLS handshake".to_owned()
            }
            _ => format!("TLS handshake failed: {error}"),
        },
    }
}

/// `HandshakeFailure` → `handshake failure`.
fn words(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_causes_are_told_apart() {
        let v4: SocketAddr = "192.0.2.1:443".parse().unwrap();
        let v6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        let kind = |k: io::ErrorKind, at| connect_error(&io::Error::from(k), at);
        assert_eq!(
            kind(io::ErrorKind::ConnectionRefused, v4),
            ("connection refused".into(), false)
        );
        assert!(kind(io::ErrorKind::NetworkUnreachable, v4).1);
        assert!(kind(io::ErrorKind::HostUnreachable, v6).1);
        assert!(!kind(io::ErrorKind::HostUnreachable, v4).1);
        assert!(kind(io::ErrorKind::AddrNotAvailable, v6).1);
        assert!(connect_error(&io::Error::from_raw_os_error(EAFNOSUPPORT), v6).1);
    }

    #[test]
    fn alerts_read_as_words() {
        let alert = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        );
        assert_eq!(handshake_error(&alert), "TLS alert: handshake failure");
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert_eq!(
            handshake_error(&eof),
            "connection closed during the TLS handshake"
        );
    }
}
