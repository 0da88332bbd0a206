//! The demo's simulated world (`[network]`), looked at the way certwatch's network checks look
//! at it: ACM's view through the real SDK (DescribeCertificate), the world's through DNS
//! queries and TLS handshakes with SNI. Each of the six network findings must show on the one
//! demo certificate made for it, and on no other.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_acm::types::{
    CertificateDetail, CertificateStatus, CertificateType, KeyAlgorithm, RenewalEligibility,
    ValidationMethod,
};
use certwatch_sim::{serve, Scenario, SimServer};
use chrono::{DateTime, SubsecRound, Utc};
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const AMAZON: [&str; 4] = [
    "amazon.com",
    "amazontrust.com",
    "awstrust.com",
    "amazonaws.com",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Code {
    ValidationRecordMissing,
    ValidationRecordWrong,
    CaaForbidsAmazon,
    NameUnresolvable,
    EndpointUnreachable,
    ServedStale,
}

async fn sdk(server: &SimServer, region: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .endpoint_url(server.endpoint())
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

async fn acm_in(server: &SimServer, account: &str, region: &str) -> aws_sdk_acm::Client {
    let ambient = Credentials::new("sim", "sim", None, None, "test");
    let sts = aws_sdk_sts::Client::new(&sdk(server, "us-east-1", ambient).await);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/certwatch-read-only"))
        .role_session_name("world")
        .send()
        .await
        .expect("assume role");
    let c = out.credentials().expect("credentials");
    let credentials = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    );
    aws_sdk_acm::Client::new(&sdk(server, region, credentials).await)
}

/// Every certificate ACM describes in the reachable accounts of the demo: (account name,
/// `Exported` from the listing, which DescribeCertificate lacks, the detail).
async fn described(server: &SimServer) -> Vec<(String, bool, CertificateDetail)> {
    let demo = Scenario::demo();
    let regions = demo.organization.regions.clone().expect("demo regions");
    let mut out = Vec::new();
    for account in &demo.accounts {
        if account.deny_assume_role || account.state.as_deref().is_some_and(|s| s != "ACTIVE") {
            continue;
        }
        for region in &regions {
            let acm = acm_in(server, &account.id, region).await;
            let Ok(list) = acm
                .list_certificates()
                .includes(
                    aws_sdk_acm::types::Filters::builder()
                        .set_key_types(Some(
                            KeyAlgorithm::values()
                                .iter()
                                .map(|v| KeyAlgorithm::from(*v))
                                .collect(),
                        ))
                        .build(),
                )
                .send()
                .await
            else {
                continue; // an opt-in region the account has not enabled
            };
            for summary in list.certificate_summary_list() {
                let detail = acm
                    .describe_certificate()
                    .certificate_arn(summary.certificate_arn().expect("ARN"))
                    .send()
                    .await
                    .expect("describe");
                out.push((
                    account.name.clone(),
                    summary.exported() == Some(true),
                    detail.certificate.expect("detail"),
                ));
            }
        }
    }
    out
}

fn resolver(server: SocketAddr) -> TokioResolver {
    let mut ns = NameServerConfig::udp_and_tcp(server.ip());
    for connection in &mut ns.connections {
        connection.port = server.port();
    }
    let mut builder = TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![ns]),
        TokioRuntimeProvider::default(),
    );
    builder.options_mut().timeout = Duration::from_secs(2);
    builder.build().expect("resolver")
}

fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// None: NXDOMAIN or NODATA. Panics on a failed lookup: the simulator always answers.
async fn lookup(dns: &TokioResolver, name: &str, kind: RecordType) -> Option<Vec<RData>> {
    match dns.lookup(fqdn(name), kind).await {
        Ok(lookup) => Some(
            lookup
                .answers()
                .iter()
                .filter(|r| r.record_type() == kind)
                .map(|r| r.data.clone())
                .collect(),
        ),
        Err(e) if e.is_nx_domain() || e.is_no_records_found() => None,
        Err(e) => panic!("{name} {kind}: {e}"),
    }
}

/// RFC 8659: the first non-empty CAA set climbing from the name (X for `*.X`) to the TLD.
async fn caa_allows_amazon(dns: &TokioResolver, domain: &str) -> bool {
    let wildcard = domain.starts_with("*.");
    let mut at = domain.trim_start_matches("*.").to_owned();
    let set = loop {
        if let Some(records) = lookup(dns, &at, RecordType::CAA).await {
            if !records.is_empty() {
                break records;
            }
        }
        match at.split_once('.') {
            Some((_, parent)) if !parent.is_empty() => at = parent.to_owned(),
            _ => return true,
        }
    };
    let properties: Vec<(u8, String, String)> = set
        .iter()
        .filter_map(|r| match r {
            RData::CAA(c) => Some((
                c.flags(),
                c.tag.to_ascii_lowercase(),
                String::from_utf8_lossy(&c.value).into_owned(),
            )),
            _ => None,
        })
        .collect();
    let known = ["issue", "issuewild", "iodef"];
    if properties
        .iter()
        .any(|(flags, tag, _)| flags & 0x80 != 0 && !known.contains(&tag.as_str()))
    {
        return false;
    }
    let tag = if wildcard && properties.iter().any(|(_, t, _)| t == "issuewild") {
        "issuewild"
    } else {
        "issue"
    };
    let applicable: Vec<&str> = properties
        .iter()
        .filter(|(_, t, _)| t == tag)
        .map(|(_, _, v)| v.split(';').next().unwrap_or("").trim())
        .collect();
    applicable.is_empty() || applicable.iter().any(|issuer| AMAZON.contains(issuer))
}

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

/// What an endpoint served: (serial as integer bytes, NotAfter, SANs), or None if no
/// handshake succeeded.
async fn served(
    connector: &TlsConnector,
    addr: SocketAddr,
    sni: &str,
) -> Option<(Vec<u8>, i64, Vec<String>)> {
    let tcp = TcpStream::connect(addr).await.ok()?;
    let name = ServerName::try_from(sni.to_owned()).expect("server name");
    let tls = connector.connect(name, tcp).await.ok()?;
    let leaf = tls.get_ref().1.peer_certificates()?.first()?.clone();
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf).expect("X.509");
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
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
    Some((
        integer(cert.raw_serial()),
        cert.validity().not_after.timestamp(),
        names,
    ))
}

fn integer(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

fn acm_serial(text: &str) -> Vec<u8> {
    integer(
        &text
            .split(':')
            .map(|h| u8::from_str_radix(h, 16).expect("hex"))
            .collect::<Vec<u8>>(),
    )
}

fn covers(pattern: &str, host: &str) -> bool {
    pattern.eq_ignore_ascii_case(host)
        || pattern
            .strip_prefix("*.")
            .zip(host.split_once('.'))
            .is_some_and(|(parent, (_, rest))| parent.eq_ignore_ascii_case(rest))
}

/// The network findings of one described certificate, by the rules certwatch applies.
async fn findings(
    c: &CertificateDetail,
    exported: bool,
    now: DateTime<Utc>,
    dns: &TokioResolver,
    tls: &TlsConnector,
    tls_addr: SocketAddr,
    handshakes: &mut usize,
) -> Vec<Code> {
    let mut codes = Vec::new();
    let not_after = c.not_after().map(|t| t.secs());
    let expired = not_after.is_some_and(|t| t <= now.timestamp());
    let status = c.status().cloned();
    let dead = matches!(
        status,
        Some(
            CertificateStatus::Revoked
                | CertificateStatus::Failed
                | CertificateStatus::ValidationTimedOut
        )
    );
    if expired || dead || c.managed_by().is_some() {
        return codes;
    }
    let in_use = !c.in_use_by().is_empty();
    let amazon = c.r#type() == Some(&CertificateType::AmazonIssued);
    let issued = status == Some(CertificateStatus::Issued);
    let eligible = c.renewal_eligibility() == Some(&RenewalEligibility::Eligible);

    if amazon && issued && (in_use || exported || eligible) {
        let mut records: Vec<(String, String)> = Vec::new();
        let renewal = c
            .renewal_summary()
            .map(|r| r.domain_validation_options())
            .unwrap_or_default();
        for dv in c.domain_validation_options().iter().chain(renewal) {
            if dv.validation_method() != Some(&ValidationMethod::Dns) {
                continue;
            }
            if let Some(rr) = dv.resource_record() {
                if !records.iter().any(|(n, _)| n == rr.name()) {
                    records.push((rr.name().to_owned(), rr.value().to_owned()));
                }
            }
        }
        for (name, value) in records {
            match lookup(dns, &name, RecordType::CNAME).await {
                None => codes.push(Code::ValidationRecordMissing),
                Some(found) => {
                    let matches = found.iter().any(
                        |r| matches!(r, RData::CNAME(t) if t.0.to_string().eq_ignore_ascii_case(&value)),
                    );
                    if !matches {
                        codes.push(Code::ValidationRecordWrong);
                    }
                }
            }
        }
    }
    let names: Vec<String> = c.subject_alternative_names().to_vec();
    if amazon {
        for name in &names {
            if !caa_allows_amazon(dns, name).await {
                codes.push(Code::CaaForbidsAmazon);
            }
        }
    }
    let imported = c.r#type() == Some(&CertificateType::Imported);
    if issued && (in_use || exported || imported) {
        for host in names.iter().filter(|n| !n.starts_with("*.")) {
            let Some(addresses) = lookup(dns, host, RecordType::A).await else {
                if in_use {
                    codes.push(Code::NameUnresolvable);
                }
                continue;
            };
            let mut any = false;
            for address in addresses {
                let RData::A(a) = address else { continue };
                *handshakes += 1;
                let at = SocketAddr::new(IpAddr::V4(a.0), tls_addr.port());
                let Some((serial, served_not_after, san)) = served(tls, at, host).await else {
                    continue;
                };
                any = true;
                let current = serial == acm_serial(c.serial().unwrap_or_default())
                    && Some(served_not_after) == not_after;
                if !current
                    && san.iter().any(|n| covers(n, host))
                    && not_after.is_some_and(|acm| served_not_after < acm)
                {
                    codes.push(Code::ServedStale);
                }
            }
            if !any {
                codes.push(Code::EndpointUnreachable);
            }
        }
    }
    codes.dedup();
    codes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_world_shows_each_network_finding_on_its_certificate_only() {
    let _ = aws_lc_rs::default_provider().install_default();
    let now = Utc::now().trunc_subsecs(0);
    let started = Instant::now();
    let server = serve(Scenario::demo(), now).await.expect("simulator");
    let with_world = started.elapsed();
    let dns_addr = server.dns_addr().expect("the demo serves DNS");
    let tls_port = server.tls_port().expect("the demo serves TLS");
    let tls_addr = SocketAddr::new(dns_addr.ip(), tls_port);
    eprintln!("demo with its world started in {with_world:?} (DNS {dns_addr}, TLS :{tls_port})");

    let dns = resolver(dns_addr);
    let provider = Arc::new(aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    let tls = TlsConnector::from(Arc::new(config));

    let certificates = described(&server).await;
    assert!(certificates.len() > 40, "{}", certificates.len());
    let mut found: BTreeMap<(String, String), Vec<Code>> = BTreeMap::new();
    let mut handshakes = 0;
    for (account, exported, c) in &certificates {
        let codes = findings(c, *exported, now, &dns, &tls, tls_addr, &mut handshakes).await;
        if !codes.is_empty() {
            let domain = c.domain_name().unwrap_or_default().to_owned();
            found.insert((account.clone(), domain), codes);
        }
    }
    let expected: BTreeMap<(String, String), Vec<Code>> = [
        (
            "marketing-web",
            "checkout.example.com",
            Code::ValidationRecordMissing,
        ),
        (
            "example-corp-management",
            "status.example.com",
            Code::ValidationRecordWrong,
        ),
        ("marketing-web", "www.example.de", Code::CaaForbidsAmazon),
        ("sandbox", "beta.example.com", Code::NameUnresolvable),
        (
            "shared-networking",
            "admin.example.com",
            Code::EndpointUnreachable,
        ),
        ("payments-prod", "sftp.example.com", Code::ServedStale),
    ]
    .into_iter()
    .map(|(a, d, code)| ((a.to_owned(), d.to_owned()), vec![code]))
    .collect();
    assert_eq!(found, expected);
    assert!(handshakes > 20, "{handshakes} handshakes");

    // The stale copy expires when the scenario says, 9 days from now.
    let (_, sftp_not_after, _) = served(&tls, tls_addr, "sftp.example.com")
        .await
        .expect("served");
    assert_eq!(
        sftp_not_after,
        (now + chrono::Duration::days(9)).timestamp()
    );

    let stopping = Instant::now();
    server.shutdown().await;
    assert!(stopping.elapsed() < Duration::from_secs(10));
    assert!(
        TcpStream::connect(tls_addr).await.is_err(),
        "TLS stops with the simulator"
    );

    // What the world costs at start-up: the same organization without it.
    let mut without = Scenario::demo();
    without.network = None;
    let started = Instant::now();
    let plain = serve(without, now).await.expect("simulator");
    let plain_elapsed = started.elapsed();
    assert_eq!((plain.dns_addr(), plain.tls_port()), (None, None));
    plain.shutdown().await;
    eprintln!("the demo without its world started in {plain_elapsed:?}");
}
