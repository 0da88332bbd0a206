//! A server-certificate verifier that records the WebPKI verdict instead of enforcing it.
//!
//! A probe wants to see what an endpoint serves even when it is expired, self-signed or for
//! another name, so the handshake must complete; the verdict is recorded as a fact for the
//! rules. Only the trust decision is relaxed: the handshake signatures are still checked with the
//! provider's algorithms, so the server must prove it holds the served certificate's key.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
use std::sync::{Arc, Mutex, PoisonError};

/// One handshake's verifier: the shared WebPKI verifier and the slot its verdict goes to.
#[derive(Debug)]
pub(crate) struct Recording {
    webpki: Arc<WebPkiServerVerifier>,
    algorithms: WebPkiSupportedAlgorithms,
    verdict: Mutex<Option<String>>,
}

impl Recording {
    pub(crate) fn new(
        webpki: Arc<WebPkiServerVerifier>,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Recording {
        Recording {
            webpki,
            algorithms,
            verdict: Mutex::new(None),
        }
    }

    /// The verdict on the served chain, once the handshake has got that far.
    pub(crate) fn verdict(&self) -> Option<String> {
        self.verdict
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(_) => "valid".to_owned(),
            Err(error) => verdict(&error),
        };
        *self.verdict.lock().unwrap_or_else(PoisonError::into_inner) = Some(verdict);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The verdict's word for the common WebPKI outcomes, else the error's text.
pub(crate) fn verdict(error: &Error) -> String {
    let word = match error {
        Error::InvalidCertificate(cert) => match cert {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired",
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "not_yet_valid"
            }
            CertificateError::UnknownIssuer => "unknown_issuer",
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "name_mismatch"
            }
            CertificateError::Revoked => "revoked",
            _ => return error.to_string(),
        },
        _ => return error.to_string(),
    };
    word.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_have_one_word_each() {
        let word = |e: CertificateError| verdict(&Error::InvalidCertificate(e));
        assert_eq!(word(CertificateError::Expired), "expired");
        assert_eq!(word(CertificateError::NotValidYet), "not_yet_valid");
        assert_eq!(word(CertificateError::UnknownIssuer), "unknown_issuer");
        assert_eq!(word(CertificateError::NotValidForName), "name_mismatch");
        assert_eq!(word(CertificateError::Revoked), "revoked");
        assert!(word(CertificateError::BadSignature).starts_with("invalid peer certificate"));
    }
}
