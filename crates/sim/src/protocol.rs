//! The AWS wire protocols, as far as the simulator needs them: which service and
//! operation a request is for, who signed it, and how an answer or an error looks
//! on the wire for each protocol.
//!
//! - awsJson1_1 (Organizations, ACM): `POST /`, `X-Amz-Target: <Prefix>.<Op>`, JSON
//!   body; errors are HTTP 4xx/5xx with `{"__type": code, "message": …}` and
//!   `x-amzn-ErrorType`.
//! - restJson1 (Account): the operation is the path (`POST /listRegions`); errors
//!   carry the code in `x-amzn-ErrorType` and `{"message": …}`.
//! - awsQuery (STS): form-encoded `Action=…&Version=2011-06-15`, XML answers and
//!   `<ErrorResponse>` errors.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub const STS_XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    AwsJson,
    RestJson,
    AwsQuery,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Organizations,
    Acm,
    Account,
    Sts,
}

impl Service {
    pub fn protocol(self) -> Protocol {
        match self {
            Service::Organizations | Service::Acm => Protocol::AwsJson,
            Service::Account => Protocol::RestJson,
            Service::Sts => Protocol::AwsQuery,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Service::Organizations => "organizations",
            Service::Acm => "acm",
            Service::Account => "account",
            Service::Sts => "sts",
        }
    }
}

/// What a request asks for. `operation` is the AWS operation name (`ListAccounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub service: Service,
    pub operation: String,
}

/// Classifies a request by its protocol markers; `Err` carries the protocol to
/// answer the "unknown operation" error in.
pub fn route(path: &str, headers: &HeaderMap, body: &[u8]) -> Result<Route, (Protocol, String)> {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, operation) = target.split_once('.').unwrap_or((target, ""));
        let service = match prefix {
            "AWSOrganizationsV20161128" => Service::Organizations,
            "CertificateManager" => Service::Acm,
            _ => return Err((Protocol::AwsJson, target.to_owned())),
        };
        return Ok(Route {
            service,
            operation: operation.to_owned(),
        });
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        let action = form_params(body)
            .into_iter()
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v)
            .unwrap_or_default();
        return Ok(Route {
            service: Service::Sts,
            operation: action,
        });
    }
    // restJson1: the path names the operation.
    match path {
        "/listRegions" => Ok(Route {
            service: Service::Account,
            operation: "ListRegions".to_owned(),
        }),
        other => Err((Protocol::RestJson, other.to_owned())),
    }
}

pub fn form_params(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The parts of a SigV4 `Authorization` header the simulator uses:
/// `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
}

/// `None` when the header is missing or not SigV4. The signature itself is not
/// verified: the simulator trusts whoever claims a key (like moto).
pub fn signature(headers: &HeaderMap) -> Option<Signature> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256")?;
    let start = rest.find("Credential=")? + "Credential=".len();
    let credential = rest[start..].split([',', ' ']).next().unwrap_or_default();
    let mut scope = credential.split('/');
    let access_key_id = scope.next()?.to_owned();
    let _date = scope.next()?;
    let region = scope.next()?.to_owned();
    let service = scope.next()?.to_owned();
    if access_key_id.is_empty() {
        return None;
    }
    Some(Signature {
        access_key_id,
        region,
        service,
    })
}

/// A successful answer body.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Json(Value),
    /// A complete XML document.
    Xml(String),
}

/// An AWS error. `code` is the wire code (`AccessDeniedException` for JSON services,
/// `AccessDenied` for STS), `status` the HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Further members of the error shape (e.g. Organizations' `Reason`).
    pub fields: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// HTTP 400, the usual status of a client error.
    pub fn client(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn with_field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// The status AWS uses for an error code in the JSON services (an injected
    /// fault names only the code).
    pub fn from_code(code: &str, message: impl Into<String>) -> Self {
        let status = match code {
            "InternalFailure"
            | "InternalServerException"
            | "InternalServerError"
            | "ServiceException" => StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceUnavailable" | "ServiceUnavailableException" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, code, message)
    }

    pub fn unknown_operation(protocol: Protocol, what: &str) -> Self {
        match protocol {
            Protocol::AwsQuery => ApiError::client(
                "InvalidAction",
                format!("Could not find operation {what} for version 2011-06-15"),
            ),
            Protocol::AwsJson => ApiError::client(
                "UnknownOperationException",
                format!("The simulator does not implement {what}"),
            ),
            Protocol::RestJson => ApiError::new(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                format!("The simulator does not implement {what}"),
            ),
        }
    }

    pub fn malformed(protocol: Protocol, detail: &str) -> Self {
        match protocol {
            Protocol::AwsQuery => ApiError::client("MalformedInput", detail.to_owned()),
            _ => ApiError::client("SerializationException", detail.to_owned()),
        }
    }
}

/// Failures of the credentials themselves, worded per protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No SigV4 `Authorization` header.
    Missing,
    /// An issued key with a wrong session token, or a region the account has not
    /// enabled (AWS cannot tell the two apart either).
    Invalid,
    /// An issued session past its expiration.
    Expired,
}

impl AuthFailure {
    pub fn error(self, protocol: Protocol) -> ApiError {
        let json_status = match protocol {
            Protocol::RestJson => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        match (self, protocol) {
            (AuthFailure::Missing, Protocol::AwsQuery) => ApiError::new(
                StatusCode::FORBIDDEN,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            ),
            (AuthFailure::Missing, _) => ApiError::new(
                json_status,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            (AuthFailure::Invalid, Protocol::AwsQuery) => ApiError::new(
                StatusCode::FORBIDDEN,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
            (AuthFailure::Invalid, _) => ApiError::new(
                json_status,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            (AuthFailure::Expired, Protocol::AwsQuery) => ApiError::new(
                StatusCode::FORBIDDEN,
                "ExpiredToken",
                "The security token included in the request is expired",
            ),
            (AuthFailure::Expired, _) => ApiError::new(
                json_status,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ),
        }
    }
}

/// The credential scope names another service than the one called.
pub fn wrong_service_scope(protocol: Protocol, expected: &str) -> ApiError {
    let message = format!("Credential should be scoped to correct service: '{expected}'. ");
    match protocol {
        Protocol::AwsQuery => {
            ApiError::new(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", message)
        }
        Protocol::RestJson => {
            ApiError::new(StatusCode::FORBIDDEN, "InvalidSignatureException", message)
        }
        Protocol::AwsJson => ApiError::client("InvalidSignatureException", message),
    }
}

/// Renders an answer or an error in `protocol`'s wire format.
pub fn render(protocol: Protocol, result: Result<Reply, ApiError>, request_id: &str) -> Response {
    let mut response = match result {
        Ok(Reply::Json(body)) => {
            let content_type = match protocol {
                Protocol::RestJson => "application/json",
                _ => "application/x-amz-json-1.1",
            };
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, content_type)],
                body.to_string(),
            )
                .into_response()
        }
        Ok(Reply::Xml(body)) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
        }
        Err(error) => render_error(protocol, &error, request_id),
    };
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

fn render_error(protocol: Protocol, error: &ApiError, request_id: &str) -> Response {
    match protocol {
        Protocol::AwsQuery => {
            let kind = if error.status.is_server_error() {
                "Receiver"
            } else {
                "Sender"
            };
            let body = format!(
                "<ErrorResponse xmlns=\"{STS_XMLNS}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
                xml_escape(&error.code),
                xml_escape(&error.message),
                xml_escape(request_id),
            );
            (error.status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
        }
        Protocol::AwsJson | Protocol::RestJson => {
            let mut body = serde_json::Map::new();
            if protocol == Protocol::AwsJson {
                body.insert("__type".to_owned(), Value::from(error.code.clone()));
            }
            body.insert("message".to_owned(), Value::from(error.message.clone()));
            for (name, value) in &error.fields {
                body.insert((*name).to_owned(), Value::from(value.clone()));
            }
            let content_type = match protocol {
                Protocol::RestJson => "application/json",
                _ => "application/x-amz-json-1.1",
            };
            let mut response = (
                error.status,
                [(header::CONTENT_TYPE, content_type)],
                Value::Object(body).to_string(),
            )
                .into_response();
            if let Ok(value) = HeaderValue::from_str(&error.code) {
                response.headers_mut().insert("x-amzn-errortype", value);
            }
            response
        }
    }
}

pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON epoch seconds, the awsJson/restJson default timestamp format.
pub fn epoch(instant: chrono::DateTime<chrono::Utc>) -> Value {
    Value::from(instant.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("header"));
        }
        map
    }

    #[test]
    fn reads_the_credential_scope() {
        let h = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=ASIAXYZ/20260101/eu-west-1/acm/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        )]);
        assert_eq!(
            signature(&h),
            Some(Signature {
                access_key_id: "ASIAXYZ".into(),
                region: "eu-west-1".into(),
                service: "acm".into()
            })
        );
        assert_eq!(signature(&headers(&[("authorization", "Bearer x")])), None);
        assert_eq!(signature(&HeaderMap::new()), None);
    }

    #[test]
    fn routes_by_protocol_markers() {
        let acm = headers(&[("x-amz-target", "CertificateManager.ListCertificates")]);
        assert_eq!(
            route("/", &acm, b"{}"),
            Ok(Route {
                service: Service::Acm,
                operation: "ListCertificates".into()
            })
        );
        let sts = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        assert_eq!(
            route("/", &sts, b"Action=GetCallerIdentity&Version=2011-06-15"),
            Ok(Route {
                service: Service::Sts,
                operation: "GetCallerIdentity".into()
            })
        );
        assert_eq!(
            route("/listRegions", &HeaderMap::new(), b"{}").map(|r| r.service),
            Ok(Service::Account)
        );
        let other = headers(&[("x-amz-target", "DynamoDB_20120810.ListTables")]);
        assert!(route("/", &other, b"{}").is_err());
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }
}
