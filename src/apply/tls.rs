//! Certificates for a stack's host names, issued by a local CA of its own (rcgen), so a
//! browser that trusts the CA once trusts every name the stack routes.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// A leaf certificate lives this long: browsers refuse server certificates of more than
/// 398 days.
const LEAF_DAYS: i64 = 397;
/// A leaf is renewed by the first switch in its last month.
pub const RENEW_DAYS: i64 = 30;
const CA_DAYS: i64 = 3650;

/// What a certificate was issued for, kept beside it so a switch knows when to renew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub names: Vec<String>,
    /// Days since 1970-01-01 of the last day the certificate is valid.
    pub expires_day: i64,
}

impl Issued {
    pub fn needs_renewal(&self, names: &[String], today: i64) -> bool {
        self.names != names || self.expires_day - today < RENEW_DAYS
    }
}

/// A certificate and its private key, PEM.
pub struct Pair {
    pub cert: String,
    pub key: String,
}

fn ca_params(stack: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("obsbuild local CA ({stack})"));
    dn.push(DnType::OrganizationName, "obsbuild");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params
}

/// A new CA for `stack`, valid for ten years from `today`.
pub fn new_ca(stack: &str, today: i64) -> Result<Pair, String> {
    let key = KeyPair::generate().map_err(|e| format!("cannot make the CA's key: {e}"))?;
    let mut params = ca_params(stack);
    set_validity(&mut params, today - 1, today + CA_DAYS)?;
    let cert = params.self_signed(&key).map_err(|e| format!("cannot make the CA certificate: {e}"))?;
    Ok(Pair { cert: cert.pem(), key: key.serialize_pem() })
}

/// A server certificate for `names`, signed by the CA whose key is `ca_key` (PEM).
pub fn issue(stack: &str, ca_key: &str, names: &[String], today: i64) -> Result<(Pair, Issued), String> {
    let ca_key = KeyPair::from_pem(ca_key).map_err(|e| format!("the stack's CA key is unreadable: {e}"))?;
    // The issuer is named by the same distinguished name the CA certificate carries, and
    // identified by its key: the CA's own certificate is not needed to sign.
    let issuer = Issuer::new(ca_params(stack), ca_key);
    let key = KeyPair::generate().map_err(|e| format!("cannot make a key: {e}"))?;
    let mut params = CertificateParams::new(names.to_vec()).map_err(|e| format!("cannot issue a certificate for {names:?}: {e}"))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, names.first().cloned().unwrap_or_default());
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, today - 1, today + LEAF_DAYS)?;
    let cert = params.signed_by(&key, &issuer).map_err(|e| format!("cannot sign the certificate for {names:?}: {e}"))?;
    Ok((Pair { cert: cert.pem(), key: key.serialize_pem() }, Issued { names: names.to_vec(), expires_day: today + LEAF_DAYS }))
}

fn set_validity(params: &mut CertificateParams, from: i64, to: i64) -> Result<(), String> {
    params.not_before = midnight(from)?;
    params.not_after = midnight(to)?;
    Ok(())
}

/// Days since 1970-01-01, today (UTC).
pub fn today() -> i64 {
    (OffsetDateTime::now_utc() - OffsetDateTime::UNIX_EPOCH).whole_days()
}

/// The start (00:00 UTC) of a day counted from 1970-01-01.
fn midnight(day: i64) -> Result<OffsetDateTime, String> {
    day.checked_mul(86_400)
        .and_then(|seconds| OffsetDateTime::UNIX_EPOCH.checked_add(Duration::seconds(seconds)))
        .ok_or_else(|| format!("day {day} after 1970-01-01 is not a date a certificate can carry; is the system clock right?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_midnights_of_civil_dates() {
        let date = |day| midnight(day).map(|t| (t.year(), u8::from(t.month()), t.day(), t.hour()));
        assert_eq!(date(0), Ok((1970, 1, 1, 0)));
        assert_eq!(date(20_778), Ok((2026, 11, 21, 0)));
        assert_eq!(date(11_016), Ok((2000, 2, 29, 0)));
        assert!(midnight(i64::MAX / 86_400).is_err());
        assert!(midnight(i64::MAX).is_err());
    }

    #[test]
    fn issues_a_chain_a_client_accepts() {
        let ca = new_ca("demo", 20_779).unwrap();
        let names = vec!["demo.grafana".to_owned(), "demo.prometheus".to_owned()];
        let (leaf, issued) = issue("demo", &ca.key, &names, 20_779).unwrap();
        assert!(leaf.cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(leaf.key.contains("PRIVATE KEY"));
        assert!(!issued.needs_renewal(&names, 20_779));
        assert!(issued.needs_renewal(&names, 20_779 + LEAF_DAYS - 10));
        assert!(issued.needs_renewal(&names[..1], 20_779));
    }
}
