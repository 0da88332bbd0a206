//! The served leaf certificate, read with x509-parser: what the rules compare with ACM's copy.

use chrono::{DateTime, Utc};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The facts of a leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leaf {
    /// Lowercase colon hex, as ACM writes `Serial`, without DER's leading `00` sign byte.
    pub(crate) serial: String,
    pub(crate) not_before: DateTime<Utc>,
    pub(crate) not_after: DateTime<Utc>,
    pub(crate) subject: String,
    pub(crate) issuer: String,
    /// DNS names of the subjectAltName extension.
    pub(crate) names: Vec<String>,
}

/// Reads a DER certificate; the error says what is wrong with it.
pub(crate) fn parse(der: &[u8]) -> Result<Leaf, String> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| format!("the served certificate cannot be read: {e}"))?;
    let validity = cert.validity();
    let time = |ts: i64| {
        DateTime::<Utc>::from_timestamp(ts, 0)
            .ok_or_else(|| format!("the served certificate has a date out of range ({ts})"))
    };
    let names = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                _ => None,
            })
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => {
            return Err(format!(
                "the served certificate's names cannot be read: {e}"
            ))
        }
    };
    Ok(Leaf {
        serial: serial_text(&cert.raw_serial_as_string()),
        not_before: time(validity.not_before.timestamp())?,
        not_after: time(validity.not_after.timestamp())?,
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        names,
    })
}

/// Drops the `00` byte DER puts before a serial whose first bit is set (ACM shows the number).
fn serial_text(raw: &str) -> String {
    match raw.strip_prefix("00:") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_byte_is_dropped() {
        assert_eq!(serial_text("00:ab:01"), "ab:01");
        assert_eq!(serial_text("0a:01"), "0a:01");
        assert_eq!(serial_text("00"), "00");
    }

    #[test]
    fn a_generated_leaf_reads_back() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(vec![
            "shop.example.test".into(),
            "*.example.test".into(),
        ])
        .unwrap();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x00, 0xab, 0x01]));
        params.not_before = rcgen::date_time_ymd(2026, 1, 2);
        params.not_after = rcgen::date_time_ymd(2026, 7, 1);
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, "shop.example.test");
        params.distinguished_name = dn;
        let cert = params.self_signed(&key).unwrap();
        let leaf = parse(cert.der()).unwrap();
        assert_eq!(leaf.serial, "ab:01");
        assert_eq!(leaf.not_before.to_rfc3339(), "2026-01-02T00:00:00+00:00");
        assert_eq!(leaf.not_after.to_rfc3339(), "2026-07-01T00:00:00+00:00");
        assert_eq!(leaf.subject, "CN=shop.example.test");
        assert_eq!(leaf.issuer, "CN=shop.example.test");
        assert_eq!(leaf.names, ["shop.example.test", "*.example.test"]);
        assert!(parse(b"not a certificate").is_err());
    }
}
