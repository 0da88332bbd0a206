//! The loopback DNS server and TLS endpoints of `certwatch_sim::net`, queried the way the
//! network checks query them: hickory-resolver for DNS, a tokio-rustls client with SNI for TLS.

use certwatch_sim::net::dns::{DnsServer, Record, SilentDns};
use certwatch_sim::net::tls::{sim_ca_pem, CertSpec, TlsServer};
use chrono::{Duration, SubsecRound, TimeZone, Utc};
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

// ── DNS ──────────────────────────────────────────────────────────────────────

fn resolver(server: SocketAddr, tcp_only: bool, timeout: std::time::Duration) -> TokioResolver {
    let mut ns = if tcp_only {
        NameServerConfig::tcp(server.ip())
    } else {
        NameServerConfig::udp_and_tcp(server.ip())
    };
    for connection in &mut ns.connections {
        connection.port = server.port();
    }
    let mut builder = TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![ns]),
        TokioRuntimeProvider::default(),
    );
    builder.options_mut().timeout = timeout;
    builder.options_mut().attempts = 1;
    builder.options_mut().cache_size = 0;
    builder.build().expect("resolver")
}

fn world() -> Vec<Record> {
    vec![
        Record::A {
            name: "www.example.test".into(),
            addr: Ipv4Addr::new(192, 0, 2, 10),
        },
        Record::Aaaa {
            name: "www.example.test.".into(),
            addr: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 10),
        },
        Record::Cname {
            name: "Alias.Example.Test".into(),
            target: "www.example.test".into(),
        },
        Record::Cname {
            name: "_abc.example.test.".into(),
            target: "_def.xyz.acm-validations.aws.".into(),
        },
        Record::Caa {
            name: "example.test".into(),
            flags: 0,
            tag: "issue".into(),
            value: "amazon.com; accounturi=https://x".into(),
        },
        Record::Caa {
            name: "example.test".into(),
            flags: 128,
            tag: "tbs".into(),
            value: "unknown".into(),
        },
        Record::Caa {
            name: "deny.example.test".into(),
            flags: 0,
            tag: "issue".into(),
            value: ";".into(),
        },
        Record::Txt {
            name: "example.test".into(),
            value: "v=spf1 -all".into(),
        },
    ]
}

fn ips(lookup: &hickory_resolver::lookup::Lookup) -> Vec<IpAddr> {
    lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn dns_answers_records_cnames_and_negative_answers() {
    let server = DnsServer::start(world()).await.expect("DNS server");
    assert_eq!(server.addr().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    let dns = resolver(server.addr(), false, std::time::Duration::from_secs(2));

    let a = dns
        .lookup("www.example.test.", RecordType::A)
        .await
        .expect("A");
    assert_eq!(ips(&a), [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))]);
    let aaaa = dns
        .lookup("WWW.example.test.", RecordType::AAAA)
        .await
        .expect("AAAA, any case");
    assert_eq!(ips(&aaaa), ["2001:db8::a".parse::<IpAddr>().unwrap()]);

    // A CNAME is followed, and kept in the answers.
    let via = dns
        .lookup("alias.example.test.", RecordType::A)
        .await
        .expect("A via CNAME");
    assert_eq!(ips(&via), [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))]);
    assert!(via
        .answers()
        .iter()
        .any(|r| r.record_type() == RecordType::CNAME));
    let cname = dns
        .lookup("_abc.example.test.", RecordType::CNAME)
        .await
        .expect("CNAME");
    let targets: Vec<String> = cname
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::CNAME(c) => Some(c.0.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(targets, ["_def.xyz.acm-validations.aws."]);

    // CAA properties go out as written: an unknown critical tag, parameters, ";".
    let caa = dns
        .lookup("example.test.", RecordType::CAA)
        .await
        .expect("CAA");
    let mut properties: Vec<(u8, String, String)> = caa
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::CAA(c) => Some((
                c.flags(),
                c.tag.clone(),
                String::from_utf8_lossy(&c.value).into_owned(),
            )),
            _ => None,
        })
        .collect();
    properties.sort();
    assert_eq!(
        properties,
        [
            (0, "issue".into(), "amazon.com; accounturi=https://x".into()),
            (128, "tbs".into(), "unknown".into()),
        ]
    );
    let deny = dns
        .lookup("deny.example.test.", RecordType::CAA)
        .await
        .expect("CAA ;");
    assert!(matches!(&deny.answers()[0].data, RData::CAA(c) if c.value == b";"));
    let txt = dns
        .lookup("example.test.", RecordType::TXT)
        .await
        .expect("TXT");
    assert!(matches!(&txt.answers()[0].data, RData::TXT(t) if t.to_string() == "v=spf1 -all"));

    // A name without records is NXDOMAIN; a name with records of other types is NODATA.
    let nx = dns
        .lookup("missing.example.test.", RecordType::A)
        .await
        .expect_err("no such name");
    assert!(nx.is_nx_domain(), "{nx:?}");
    let nodata = dns
        .lookup("www.example.test.", RecordType::CAA)
        .await
        .expect_err("no CAA at www");
    assert!(
        nodata.is_no_records_found() && !nodata.is_nx_domain(),
        "{nodata:?}"
    );
    // The whole climb to the top-level domain stays inside the zone: never REFUSED.
    for name in ["test.", "com.", "example.com."] {
        let error = dns
            .lookup(name, RecordType::CAA)
            .await
            .expect_err("nothing there");
        assert!(
            error.is_nx_domain() || error.is_no_records_found(),
            "{name}: {error:?}"
        );
    }

    // TCP answers on the same port.
    let tcp = resolver(server.addr(), true, std::time::Duration::from_secs(2));
    let a = tcp
        .lookup("www.example.test.", RecordType::A)
        .await
        .expect("A over TCP");
    assert_eq!(ips(&a).len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn dns_rejects_records_it_cannot_hold() {
    let clash = vec![
        Record::Cname {
            name: "a.example.test".into(),
            target: "b.example.test".into(),
        },
        Record::A {
            name: "a.example.test.".into(),
            addr: Ipv4Addr::LOCALHOST,
        },
    ];
    let error = DnsServer::start(clash).await.err().expect("CNAME beside A");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    let bad_tag = vec![Record::Caa {
        name: "example.test".into(),
        flags: 0,
        tag: "is sue".into(),
        value: "x".into(),
    }];
    assert!(DnsServer::start(bad_tag).await.is_err());
}

#[tokio::test]
async fn silent_nameserver_never_answers() {
    let silent = SilentDns::start().await.expect("silent nameserver");
    for tcp_only in [false, true] {
        let dns = resolver(
            silent.addr(),
            tcp_only,
            std::time::Duration::from_millis(300),
        );
        let started = std::time::Instant::now();
        let error = dns
            .lookup("www.example.test.", RecordType::A)
            .await
            .expect_err("no answer");
        assert!(
            !error.is_nx_domain() && !error.is_no_records_found(),
            "{error:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
    silent.shutdown().await;
}

// ── TLS ──────────────────────────────────────────────────────────────────────

fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// Records nothing and accepts every chain (the server must still prove its key): the tests
/// look at what was served, trusted or not.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn any_chain(versions: &[&'static rustls::SupportedProtocolVersion]) -> TlsConnector {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider())))
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

fn trusting_sim_ca() -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let ca = CertificateDer::from_pem_slice(sim_ca_pem().as_bytes()).expect("CA PEM");
    roots.add(ca).expect("CA");
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// The served chain for `sni`, or the handshake error.
async fn handshake(
    connector: &TlsConnector,
    addr: SocketAddr,
    sni: &str,
) -> Result<Vec<CertificateDer<'static>>, std::io::Error> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(sni.to_owned()).expect("server name");
    let tls = connector.connect(name, tcp).await?;
    let (_, connection) = tls.get_ref();
    Ok(connection
        .peer_certificates()
        .map(|chain| chain.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default())
}

/// (serial as lowercase colon hex, NotBefore, NotAfter, DNS SANs, issuer == subject).
fn leaf(chain: &[CertificateDer<'_>]) -> (String, i64, i64, Vec<String>, bool) {
    let (_, cert) = x509_parser::parse_x509_certificate(&chain[0]).expect("X.509");
    let names = cert
        .subject_alternative_name()
        .expect("SAN extension parses")
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    (
        cert.raw_serial_as_string(),
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
        names,
        cert.issuer() == cert.subject(),
    )
}

fn spec(names: &[&str], serial: &[u8], days_left: i64) -> CertSpec {
    let now = Utc::now().trunc_subsecs(0);
    CertSpec {
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        serial: serial.to_vec(),
        not_before: now - Duration::days(30),
        not_after: now + Duration::days(days_left),
        self_signed: false,
    }
}

#[tokio::test]
async fn tls_serves_the_certificate_of_the_sni_name() {
    let shop = spec(
        &["shop.example.test", "www.shop.example.test"],
        &[0x0a, 0xff, 0x01],
        90,
    );
    let api = CertSpec {
        self_signed: true,
        ..spec(&["api.example.test"], &[0x9c, 0x00], 10)
    };
    let fallback = spec(&["*.example.test"], &[0x01], 200);
    let server = TlsServer::start(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        0,
        vec![
            ("shop.example.test".into(), shop.clone()),
            ("WWW.Shop.Example.Test.".into(), shop.clone()),
            ("api.example.test".into(), api.clone()),
            // A name listed twice serves its first entry.
            ("api.example.test".into(), shop.clone()),
        ],
        Some(fallback.clone()),
    )
    .await
    .expect("TLS listener");
    let addr = server.addr();
    assert_ne!(addr.port(), 0);
    let client = any_chain(&[&rustls::version::TLS13]);

    let chain = handshake(&client, addr, "shop.example.test")
        .await
        .expect("handshake");
    assert_eq!(chain.len(), 2, "leaf and the simulator's CA");
    let (serial, not_before, not_after, names, self_issued) = leaf(&chain);
    assert_eq!(serial, "0a:ff:01");
    assert_eq!(not_before, shop.not_before.timestamp());
    assert_eq!(not_after, shop.not_after.timestamp());
    assert_eq!(names, ["shop.example.test", "www.shop.example.test"]);
    assert!(!self_issued);
    let again = handshake(&client, addr, "www.SHOP.example.test")
        .await
        .expect("handshake");
    assert_eq!(again[0], chain[0], "one certificate for equal specs");

    let chain = handshake(&client, addr, "api.example.test")
        .await
        .expect("handshake");
    assert_eq!(chain.len(), 1);
    let (serial, _, not_after, names, self_issued) = leaf(&chain);
    // DER adds a sign byte to a serial whose high bit is set.
    assert_eq!(serial, "00:9c:00");
    assert_eq!(not_after, api.not_after.timestamp());
    assert_eq!(names, ["api.example.test"]);
    assert!(self_issued);

    // Unknown SNI: the default certificate.
    let chain = handshake(&client, addr, "other.example.test")
        .await
        .expect("handshake");
    assert_eq!(leaf(&chain).3, ["*.example.test"]);

    // TLS 1.2 too.
    let tls12 = any_chain(&[&rustls::version::TLS12]);
    let chain = handshake(&tls12, addr, "shop.example.test")
        .await
        .expect("TLS 1.2 handshake");
    assert_eq!(leaf(&chain).0, "0a:ff:01");
    server.shutdown().await;
}

#[tokio::test]
async fn tls_chains_verify_against_the_simulator_ca() {
    let server = TlsServer::start(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        0,
        vec![
            (
                "good.example.test".into(),
                spec(&["good.example.test"], &[7], 30),
            ),
            (
                "old.example.test".into(),
                CertSpec {
                    not_before: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
                    not_after: Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap(),
                    ..spec(&["old.example.test"], &[8], 0)
                },
            ),
        ],
        None,
    )
    .await
    .expect("TLS listener");
    let client = trusting_sim_ca();
    handshake(&client, server.addr(), "good.example.test")
        .await
        .expect("a CA-signed leaf verifies");
    let expired = handshake(&client, server.addr(), "old.example.test")
        .await
        .expect_err("expired");
    assert!(expired.to_string().contains("xpired"), "{expired}");
    server.shutdown().await;
}

#[tokio::test]
async fn tls_without_a_default_refuses_unknown_names_with_an_alert() {
    let server = TlsServer::start(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        0,
        vec![(
            "known.example.test".into(),
            spec(&["known.example.test"], &[1], 30),
        )],
        None,
    )
    .await
    .expect("TLS listener");
    let client = any_chain(&[&rustls::version::TLS13, &rustls::version::TLS12]);
    let error = handshake(&client, server.addr(), "unknown.example.test")
        .await
        .expect_err("no certificate for that name");
    assert!(
        error.to_string().to_ascii_lowercase().contains("alert"),
        "{error}"
    );
    handshake(&client, server.addr(), "known.example.test")
        .await
        .expect("the known name still works");
    server.shutdown().await;
}

#[tokio::test]
async fn many_names_through_one_wildcard_and_many_leaves_are_cheap() {
    let started = std::time::Instant::now();
    let wildcard = TlsServer::start(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        0,
        Vec::new(),
        Some(spec(&["*.bench.example.test"], &[1], 90)),
    )
    .await
    .expect("TLS listener");
    let client = any_chain(&[&rustls::version::TLS13]);
    for i in 0..20 {
        let chain = handshake(
            &client,
            wildcard.addr(),
            &format!("host{i}.bench.example.test"),
        )
        .await
        .expect("handshake");
        assert_eq!(leaf(&chain).3, ["*.bench.example.test"]);
    }
    wildcard.shutdown().await;

    let leaves: Vec<(String, CertSpec)> = (0..500u32)
        .map(|i| {
            let name = format!("n{i}.example.test");
            let spec = spec(&[name.as_str()], &i.to_be_bytes(), 90);
            (name, spec)
        })
        .collect();
    let many = TlsServer::start(IpAddr::V4(Ipv4Addr::LOCALHOST), 0, leaves, None)
        .await
        .expect("TLS listener");
    let chain = handshake(&client, many.addr(), "n499.example.test")
        .await
        .expect("handshake");
    assert_eq!(leaf(&chain).0, "01:f3");
    many.shutdown().await;

    let records: Vec<Record> = (0..5_000u32)
        .map(|i| Record::A {
            name: format!("host{i}.bench.example.test"),
            addr: Ipv4Addr::LOCALHOST,
        })
        .collect();
    let zone = DnsServer::start(records).await.expect("DNS server");
    let dns = resolver(zone.addr(), false, std::time::Duration::from_secs(2));
    let a = dns
        .lookup("host4999.bench.example.test.", RecordType::A)
        .await
        .expect("A");
    assert_eq!(ips(&a), [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    zone.shutdown().await;
    let elapsed = started.elapsed();
    eprintln!("20 handshakes, 501 leaves and a zone of 5,000 names in {elapsed:?}");
    assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
}
