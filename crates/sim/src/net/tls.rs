//! TLS endpoints on loopback that serve generated certificates, chosen by SNI.
//!
//! Certificates are made with rcgen and signed by one simulator CA per process
//! ([`sim_ca_pem`]), or self-signed. Every leaf shares one ECDSA P-256 key pair, generated once:
//! a leaf then costs one signature (tens of microseconds), so thousands of names are cheap, and
//! what a probe compares (serial, validity, names, issuer) does not depend on the key anyway.
//! Configs are built with the aws-lc-rs provider explicitly, so nothing depends on (or installs)
//! a process-wide rustls provider.

use chrono::{DateTime, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::{CertifiedKey, SigningKey};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// A client that connects and never finishes its handshake is cut off after this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After the handshake the server waits this long for the client to close, then closes.
const LINGER: Duration = Duration::from_secs(3);

/// One certificate to serve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertSpec {
    /// DNS subjectAltNames; the first is also the subject CN.
    pub names: Vec<String>,
    /// Big-endian serial number bytes (leading zero bytes are dropped and a sign byte added as
    /// DER requires, so `[0x00, 0xab]` and `[0xab]` give the same certificate serial).
    pub serial: Vec<u8>,
    /// Validity, to the second (X.509 has no fractions).
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// false: signed by the simulator's CA (one CA per process, [`sim_ca_pem`]).
    pub self_signed: bool,
}

/// The simulator's CA and the key pair every leaf uses, made once per process.
struct Authority {
    issuer: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    /// The leaves' key pair, for rcgen (to sign self-signed leaves and embed the public key).
    leaf_key: KeyPair,
    /// The same key, for rustls.
    leaf_signing: Arc<dyn SigningKey>,
    provider: Arc<CryptoProvider>,
}

static AUTHORITY: OnceLock<Result<Authority, String>> = OnceLock::new();

fn authority() -> io::Result<&'static Authority> {
    AUTHORITY
        .get_or_init(|| Authority::new().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| io::Error::other(format!("cannot make the simulator's CA: {e}")))
}

impl Authority {
    fn new() -> Result<Authority, Box<dyn std::error::Error + Send + Sync>> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "certwatch simulator");
        dn.push(DnType::CommonName, "certwatch simulator CA");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        // Wide enough for any date a scenario or test gives its leaves, so a client that trusts
        // this CA judges a leaf by the leaf's own dates.
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2199, 12, 31);
        params.serial_number = Some(SerialNumber::from_slice(&[0x5c, 0xa0, 0x01]));
        let ca_cert = params.self_signed(&ca_key)?;
        let ca_der = ca_cert.der().clone();
        let ca_pem = ca_cert.pem();
        let issuer = Issuer::new(params, ca_key);

        let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let leaf_signing = provider.key_provider.load_private_key(der)?;
        Ok(Authority {
            issuer,
            ca_der,
            ca_pem,
            leaf_key,
            leaf_signing,
            provider,
        })
    }

    /// The chain to serve for `spec`: the leaf, then the CA unless self-signed.
    fn certified(&self, spec: &CertSpec) -> io::Result<Arc<CertifiedKey>> {
        let bad = |e: rcgen::Error| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot make a certificate for {:?}: {e}", spec.names),
            )
        };
        let first = spec.names.first().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a certificate needs at least one name",
            )
        })?;
        let mut params = CertificateParams::new(spec.names.clone()).map_err(bad)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, first.as_str());
        params.distinguished_name = dn;
        params.serial_number = Some(SerialNumber::from_slice(&spec.serial));
        params.not_before = x509_time(spec.not_before)?;
        params.not_after = x509_time(spec.not_after)?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let chain = if spec.self_signed {
            vec![params
                .self_signed(&self.leaf_key)
                .map_err(bad)?
                .der()
                .clone()]
        } else {
            params.use_authority_key_identifier_extension = true;
            let leaf = params
                .signed_by(&self.leaf_key, &self.issuer)
                .map_err(bad)?;
            vec![leaf.der().clone(), self.ca_der.clone()]
        };
        Ok(Arc::new(CertifiedKey::new(
            chain,
            Arc::clone(&self.leaf_signing),
        )))
    }
}

/// An instant as rcgen's time type, whole seconds.
fn x509_time(at: DateTime<Utc>) -> io::Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(at.timestamp()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{at} cannot be a certificate date: {e}"),
        )
    })
}

/// The simulator's CA certificate (PEM), which signs every leaf that is not self-signed. One per
/// process: trust it in a test client to see the served chains verify.
///
/// # Panics
/// If aws-lc-rs cannot generate an ECDSA P-256 key pair (a broken crypto library, not an input
/// error). [`TlsServer::start`] reports the same condition as an error instead.
pub fn sim_ca_pem() -> String {
    match authority() {
        Ok(authority) => authority.ca_pem.clone(),
        Err(error) => panic!("{error}"),
    }
}

/// Chooses the served chain by SNI.
#[derive(Debug)]
struct BySni {
    /// Lowercase names without the final dot.
    names: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for BySni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello
            .server_name()
            .and_then(|name| self.names.get(&normalise(name)))
            .or(self.default.as_ref())
            .cloned()
    }
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A TLS listener serving generated certificates. Dropping it stops it too (without waiting).
pub struct TlsServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TlsServer {
    /// A TLS listener on ip:port (port 0 = ephemeral) choosing the certificate by SNI
    /// (case-insensitive exact match of a name in `by_sni`; then `default` when given; else the
    /// handshake fails with an alert). After the handshake it sends nothing and closes once the
    /// client closes or after a few seconds. TLS 1.2 and 1.3.
    ///
    /// A name listed twice in `by_sni` serves the first of its entries. Equal specs share one
    /// certificate, made once here, before the listener accepts anything.
    pub async fn start(
        ip: IpAddr,
        port: u16,
        by_sni: Vec<(String, CertSpec)>,
        default: Option<CertSpec>,
    ) -> io::Result<TlsServer> {
        let authority = authority()?;
        let mut made: HashMap<CertSpec, Arc<CertifiedKey>> = HashMap::new();
        let mut make = |spec: CertSpec| -> io::Result<Arc<CertifiedKey>> {
            if let Some(key) = made.get(&spec) {
                return Ok(Arc::clone(key));
            }
            let key = authority.certified(&spec)?;
            made.insert(spec, Arc::clone(&key));
            Ok(key)
        };
        let mut names = HashMap::with_capacity(by_sni.len());
        for (name, spec) in by_sni {
            let name = normalise(&name);
            if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(name) {
                slot.insert(make(spec)?);
            }
        }
        let default = default.map(&mut make).transpose()?;
        let resolver = BySni { names, default };

        let config = rustls::ServerConfig::builder_with_provider(Arc::clone(&authority.provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind((ip, port)).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // Connection tasks live in this set: when the accept loop ends (shutdown or drop),
            // the set is dropped and every connection with it.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            while connections.try_join_next().is_some() {}
                            connections.spawn(serve_connection(acceptor.clone(), stream));
                        }
                        Err(error) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            tracing::debug!(%error, "simulated TLS accept failed");
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    },
                }
            }
        });
        tracing::debug!(%addr, "simulated TLS listening");
        Ok(TlsServer {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes every connection.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// One client: the handshake, then nothing until the client closes (or [`LINGER`] passes).
async fn serve_connection(acceptor: TlsAcceptor, stream: TcpStream) {
    let mut tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        // A failed handshake already sent its alert; a probe that never finishes is dropped.
        Ok(Err(_)) | Err(_) => return,
    };
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(tls.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(1), tls.shutdown()).await;
}
