//! Certificates for a stack's host names, issued by a local CA of its own (rcgen), so a
//! browser that trusts the CA once trusts every name the stack routes.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};
use serde::{Deserialize, Serialize};

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
    set_validity(&mut params, today - 1, today + CA_DAYS);
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
    set_validity(&mut params, today - 1, today + LEAF_DAYS);
    let cert = params.signed_by(&key, &issuer).map_err(|e| format!("cannot sign the certificate for {names:?}: {e}"))?;
    Ok((Pair { cert: cert.pem(), key: key.serialize_pem() }, Issued { names: names.to_vec(), expires_day: today + LEAF_DAYS }))
}

fn set_validity(params: &mut CertificateParams, from: i64, to: i64) {
    let (y, m, d) = civil(from);
    params.not_before = date_time_ymd(y, m, d);
    let (y, m, d) = civil(to);
    params.not_after = date_time_ymd(y, m, d);
}

/// Days since 1970-01-01, today (UTC).
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    (secs / 86_400) as i64
}

/// The civil date of a day number (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_778), (2026, 11, 21));
        assert_eq!(civil(11_016), (2000, 2, 29));
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
