//! Wire details the SDK hides: raw status lines, headers and bodies.

use certwatch_sim::{serve, Scenario};
use chrono::{TimeZone, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const AUTH_ACM: &str = "AWS4-HMAC-SHA256 Credential=sim/20260601/us-east-1/acm/aws4_request, SignedHeaders=host;x-amz-date, Signature=0";
const AUTH_STS: &str = "AWS4-HMAC-SHA256 Credential=sim/20260601/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=0";

/// One HTTP/1.1 request on a fresh connection; returns the whole response text.
async fn exchange(endpoint: &str, headers: &[(&str, &str)], body: &str) -> String {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

async fn server() -> certwatch_sim::SimServer {
    let now = Utc
        .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
        .single()
        .expect("date");
    serve(Scenario::demo(), now).await.expect("serve")
}

#[tokio::test]
async fn json_errors_carry_type_header_and_body() {
    let server = server().await;
    let unsigned = exchange(
        &server.endpoint(),
        &[
            ("x-amz-target", "CertificateManager.ListCertificates"),
            ("content-type", "application/x-amz-json-1.1"),
        ],
        "{}",
    )
    .await;
    assert!(unsigned.starts_with("HTTP/1.1 400"), "{unsigned}");
    assert!(unsigned.contains("x-amzn-errortype: MissingAuthenticationTokenException"));
    assert!(unsigned.contains(r#""__type":"MissingAuthenticationTokenException""#));

    let wrong_scope = exchange(
        &server.endpoint(),
        &[
            ("x-amz-target", "CertificateManager.ListCertificates"),
            ("authorization", AUTH_STS),
        ],
        "{}",
    )
    .await;
    assert!(
        wrong_scope.contains("InvalidSignatureException"),
        "{wrong_scope}"
    );

    let malformed = exchange(
        &server.endpoint(),
        &[
            ("x-amz-target", "CertificateManager.ListCertificates"),
            ("authorization", AUTH_ACM),
        ],
        "{not json",
    )
    .await;
    assert!(malformed.starts_with("HTTP/1.1 400"), "{malformed}");
    assert!(malformed.contains("SerializationException"));

    let listed = exchange(
        &server.endpoint(),
        &[
            ("x-amz-target", "CertificateManager.ListCertificates"),
            ("authorization", AUTH_ACM),
        ],
        r#"{"MaxItems": 1}"#,
    )
    .await;
    assert!(listed.starts_with("HTTP/1.1 200"), "{listed}");
    assert!(listed.contains("x-amzn-requestid: "));
    // awsJson timestamps are epoch seconds, as numbers.
    assert!(listed.contains(r#""NotAfter":17"#), "{listed}");
    assert!(listed.contains(r#""NextToken":""#));
    server.shutdown().await;
}

#[tokio::test]
async fn sts_speaks_xml() {
    let server = server().await;
    let form = [(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )];
    let ok = exchange(
        &server.endpoint(),
        &[form[0], ("authorization", AUTH_STS)],
        "Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    ));
    assert!(ok.contains("<Account>210987654321</Account>"));

    let unknown = exchange(
        &server.endpoint(),
        &[form[0], ("authorization", AUTH_STS)],
        "Action=DecodeAuthorizationMessage&Version=2011-06-15",
    )
    .await;
    assert!(unknown.starts_with("HTTP/1.1 400"), "{unknown}");
    assert!(unknown.contains("<Type>Sender</Type>"));
    assert!(unknown.contains("<Code>InvalidAction</Code>"));
    assert!(unknown.contains("<RequestId>"));
    assert_eq!(server.request_count(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn search_results_are_unions_without_nulls() {
    let server = server().await;
    let searched = exchange(
        &server.endpoint(),
        &[
            ("x-amz-target", "CertificateManager.SearchCertificates"),
            ("content-type", "application/x-amz-json-1.1"),
            ("authorization", AUTH_ACM),
        ],
        r#"{"MaxResults": 1}"#,
    )
    .await;
    assert!(searched.starts_with("HTTP/1.1 200"), "{searched}");
    let body = searched.split("\r\n\r\n").nth(1).expect("body");
    assert!(
        !body.contains("null"),
        "absent members are left out: {body}"
    );
    assert!(body.contains(r#""CertificateMetadata":{"AcmCertificateMetadata":{"#));
    assert!(body.contains(r#""Subject":{"CommonName":"www.example.com"}"#));
    assert!(body.contains(
        r#""SubjectAlternativeNames":[{"DnsName":"www.example.com"},{"DnsName":"example.com"}]"#
    ));
    assert!(body.contains(r#""KeyAlgorithm":"RSA_2048""#));
    assert!(body.contains(r#""RenewalStatus":"SUCCESS""#));
    assert!(body.contains(r#""NextToken":""#));
    server.shutdown().await;
}
