//! Certificate service principals, read the way azure-identity's `EnvironmentCredential` reads them:
//! `AZURE_CLIENT_CERTIFICATE_PATH` names a PEM file (private key and certificate) or a PKCS#12 / .pfx file,
//! `AZURE_CLIENT_CERTIFICATE_PASSWORD` opens a password-protected one, and `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`
//! adds the `x5c` header (subject name / issuer authentication). This module loads the key and certificate once and
//! signs a fresh client assertion (a JWT) for every token request.
//!
//! The assertion follows Microsoft Learn, "Microsoft identity platform application authentication certificate
//! credentials" (learn.microsoft.com/entra/identity-platform/certificate-credentials): header `alg`, `typ` `JWT` and
//! the certificate's thumbprint; claims `aud` (the token endpoint), `iss` = `sub` = the client id, `jti` (unique),
//! `nbf`, `exp` ("keep it short - 5-10 minutes after nbf at most") and `iat`. That page now shows `PS256` with
//! `x5t#S256` (SHA-256); its earlier versions, and every azure-identity `EnvironmentCredential` (Python
//! `CertificateCredential`: "this credential signs assertions using RS256", thumbprint = SHA-1 fingerprint; Go
//! `azidentity`), send `RS256` with `x5t` (SHA-1). MSAL.NET and MSAL Node send PS256 + `x5t#S256` to Entra and keep
//! RS256 + `x5t` for ADFS (AzureAD/microsoft-authentication-library-for-dotnet#4428, -for-js#7200), and a report
//! against the docs (MicrosoftDocs/entra-docs#1301) found `x5t#S256` refused where `x5t` worked. Entra accepts both;
//! drift sends RS256 + `x5t`, the form every Azure SDK credential and every Entra-compatible authority accepts.
//! Switching is one constant each (ring signs PSS too) should Entra ever stop accepting SHA-1 thumbprints.
//!
//! Crypto: ring signs (RSA PKCS#1 v1.5 with SHA-256; constant-time, unlike the `rsa` crate, whose private-key
//! operations carry RUSTSEC-2023-0071, the Marvin timing side channel, with no fixed release); rustls-pki-types
//! decodes PEM (constant-time base64 for key sections); pkcs8 decrypts an `ENCRYPTED PRIVATE KEY` (PBES2);
//! p12-keystore opens PKCS#12; x509-parser reads the certificate's validity and public key. The key bytes are
//! wiped (`Zeroizing`) once ring holds the key; ring's key pair never prints its private half.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use zeroize::Zeroizing;

use crate::secret::Secret;

/// The variables, as azure-identity names them (Python `EnvironmentVariables`, Go `azidentity`, .NET and Java
/// `EnvironmentCredential` alike).
pub const CERTIFICATE_PATH_ENV: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
pub const CERTIFICATE_PASSWORD_ENV: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";
pub const SEND_CHAIN_ENV: &str = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN";

/// How long a signed assertion is valid. MSAL uses ten minutes ("exp": now + 10 min, msal `application.py`); the
/// Learn page says at most 5-10 minutes after `nbf`. Each token request signs a new one.
pub const ASSERTION_LIFETIME_SECS: i64 = 600;

/// A certificate this close to its end still works, but drift says so: renewing one takes an Entra change.
pub const EXPIRY_WARNING_SECS: i64 = 14 * 24 * 3600;

/// `rsaEncryption` (RFC 8017 appendix A.1), the algorithm of an RSA key in PKCS#8 and of an RSA certificate key.
const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";

/// A certificate credential: the private key (held by ring), the certificate chain and what is derived from it.
pub struct ClientCertificate {
    path: PathBuf,
    key: RsaKeyPair,
    /// DER certificates, the key's own first, then the rest of the file's in their order (`x5c` order, RFC 7515
    /// §4.1.6: "The certificate containing the public key ... MUST be the first certificate").
    chain: Vec<Vec<u8>>,
    /// SHA-1 of the certificate's DER encoding: the thumbprint Entra shows and `x5t` carries.
    thumbprint: [u8; 20],
    not_after: i64,
    send_chain: bool,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("path", &self.path)
            .field("thumbprint", &self.thumbprint_hex())
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// Whether a certificate may be used at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    /// Valid, but ends within [`EXPIRY_WARNING_SECS`]; the value is the seconds left.
    EndsSoon(i64),
    Expired,
    NotYetValid,
}

impl Validity {
    /// Pure: the verdict for a certificate valid from `not_before` to `not_after` (Unix seconds, inclusive as RFC
    /// 5280 §4.1.2.5 defines the period) at `now`.
    pub fn at(not_before: i64, not_after: i64, now: i64) -> Validity {
        if now < not_before {
            Validity::NotYetValid
        } else if now > not_after {
            Validity::Expired
        } else if not_after - now < EXPIRY_WARNING_SECS {
            Validity::EndsSoon(not_after - now)
        } else {
            Validity::Valid
        }
    }
}

/// `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN` is on when it is `1` or `true` in any case: Go `azidentity`
/// (`v == "1" || strings.ToLower(v) == "true"`) and JS `getSendCertificateChain` read it that way.
pub fn send_chain_enabled(value: Option<&str>) -> bool {
    value.map(str::trim).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

impl ClientCertificate {
    /// Reads the file at `path` and loads it. Errors name the file, never the key or the password.
    pub async fn load(
        path: &Path,
        password: Option<&Secret>,
        send_chain: bool,
        now: SystemTime,
    ) -> Result<ClientCertificate, String> {
        let bytes = Zeroizing::new(
            tokio::fs::read(path)
                .await
                .map_err(|e| format!("{CERTIFICATE_PATH_ENV} {}: cannot read the file: {e}", path.display()))?,
        );
        Self::from_bytes(path, &bytes, password, send_chain, now)
            .map_err(|why| format!("{CERTIFICATE_PATH_ENV} {}: {why}", path.display()))
    }

    /// Loads a certificate credential from the bytes of a PEM or PKCS#12 file. As azure-identity (Python
    /// `get_client_credential`) decides: a file holding `-----BEGIN` is PEM, anything else PKCS#12.
    pub fn from_bytes(
        path: &Path,
        bytes: &[u8],
        password: Option<&Secret>,
        send_chain: bool,
        now: SystemTime,
    ) -> Result<ClientCertificate, String> {
        let is_pem = bytes.windows(b"-----BEGIN".len()).any(|w| w == b"-----BEGIN");
        let (key_der, certs) = if is_pem { read_pem(bytes, password)? } else { read_pkcs12(bytes, password)? };
        let key = rsa_key(&key_der)?;
        drop(key_der);
        let (leaf, not_before, not_after) = matching_certificate(&key, &certs)?;
        let now = unix_secs(now);
        match Validity::at(not_before, not_after, now) {
            Validity::Expired => {
                // Entra refuses an assertion signed with an expired key credential (AADSTS700027, "The key used
                // is expired", from memory); saying so here, with the date, beats that message.
                return Err(format!(
                    "the certificate (SHA-1 thumbprint {}) expired on {}; renew it and register the new one on the \
                     application",
                    hex_upper(&sha1(&certs[leaf])),
                    rfc3339(not_after)
                ));
            }
            Validity::NotYetValid => {
                return Err(format!(
                    "the certificate (SHA-1 thumbprint {}) is not valid before {}",
                    hex_upper(&sha1(&certs[leaf])),
                    rfc3339(not_before)
                ));
            }
            Validity::EndsSoon(left) => tracing::warn!(
                target: "drift::auth",
                "{CERTIFICATE_PATH_ENV} {}: the certificate expires on {} ({} days left)",
                path.display(),
                rfc3339(not_after),
                left / 86_400
            ),
            Validity::Valid => {}
        }
        let mut chain = Vec::with_capacity(certs.len());
        chain.push(certs[leaf].clone());
        chain.extend(certs.iter().enumerate().filter(|(i, _)| *i != leaf).map(|(_, c)| c.clone()));
        let thumbprint = sha1(&chain[0]);
        Ok(ClientCertificate { path: path.to_path_buf(), key, chain, thumbprint, not_after, send_chain })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The SHA-1 thumbprint in upper-case hex, as the Azure portal and `az ad app credential list` show it.
    pub fn thumbprint_hex(&self) -> String {
        hex_upper(&self.thumbprint)
    }

    /// The end of the certificate's validity, RFC 3339.
    pub fn not_after(&self) -> String {
        rfc3339(self.not_after)
    }

    /// A client assertion for `client_id` at the token endpoint `audience`, valid from `now` for
    /// [`ASSERTION_LIFETIME_SECS`], with a fresh random `jti`.
    pub fn assertion(&self, client_id: &str, audience: &str, now: SystemTime) -> Result<Secret, String> {
        let now = unix_secs(now);
        let mut header = json!({
            "alg": "RS256",
            "typ": "JWT",
            // RFC 7515 §4.1.7: base64url of the SHA-1 digest of the DER certificate.
            "x5t": URL_SAFE_NO_PAD.encode(self.thumbprint),
        });
        if self.send_chain {
            // RFC 7515 §4.1.6: standard base64 (not base64url) DER, the signing certificate first.
            header["x5c"] = json!(self.chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>());
        }
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": random_uuid(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature).map_err(
            |_| format!("{CERTIFICATE_PATH_ENV} {}: signing the client assertion failed", self.path.display()),
        )?;
        Ok(Secret::new(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))))
    }
}

/// The key (PKCS#8 or PKCS#1 DER) and the certificates of a PEM file.
fn read_pem(bytes: &[u8], password: Option<&Secret>) -> Result<(KeyDer, Vec<Vec<u8>>), String> {
    let text = String::from_utf8_lossy(bytes);
    // The traditional OpenSSL encryption (`Proc-Type: 4,ENCRYPTED` headers inside `RSA PRIVATE KEY`, RFC 1421) is
    // what `openssl rsa -aes256` wrote before OpenSSL 3; only PKCS#8 encryption is read here.
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err("the private key is encrypted in the legacy OpenSSL format (Proc-Type: 4,ENCRYPTED); convert it \
                    to an encrypted PKCS#8 key with `openssl pkcs8 -topk8 -v2 aes-256-cbc` (or to a PKCS#12 file)"
            .to_string());
    }
    let certs = CertificateDer::pem_slice_iter(bytes)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a readable PEM file ({e})"))?;
    const ENCRYPTED_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
    const ENCRYPTED_END: &str = "-----END ENCRYPTED PRIVATE KEY-----";
    let key = if let Some(start) = text.find(ENCRYPTED_BEGIN) {
        // azure-identity applies the password to PEM keys too (Python: `load_pem_private_key(data, password)`).
        let password = password.filter(|p| !p.is_empty()).ok_or_else(|| {
            format!("the private key is encrypted (ENCRYPTED PRIVATE KEY); set {CERTIFICATE_PASSWORD_ENV}")
        })?;
        let end = text[start..]
            .find(ENCRYPTED_END)
            .map(|e| start + e + ENCRYPTED_END.len())
            .ok_or("the ENCRYPTED PRIVATE KEY section has no end line")?;
        let (_, der) = pkcs8::der::pem::decode_vec(text[start..end].as_bytes())
            .map_err(|e| format!("the ENCRYPTED PRIVATE KEY section cannot be read ({e})"))?;
        let encrypted = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice())
            .map_err(|e| format!("the ENCRYPTED PRIVATE KEY section cannot be read ({e})"))?;
        let document = encrypted.decrypt(password.expose()).map_err(|_| {
            format!("cannot decrypt the private key: wrong password ({CERTIFICATE_PASSWORD_ENV}) or an encryption scheme drift does not support")
        })?;
        KeyDer::Pkcs8(Zeroizing::new(document.as_bytes().to_vec()))
    } else {
        match PrivateKeyDer::from_pem_slice(bytes) {
            Ok(PrivateKeyDer::Pkcs8(k)) => KeyDer::Pkcs8(Zeroizing::new(k.secret_pkcs8_der().to_vec())),
            Ok(PrivateKeyDer::Pkcs1(k)) => KeyDer::Pkcs1(Zeroizing::new(k.secret_pkcs1_der().to_vec())),
            Ok(PrivateKeyDer::Sec1(_)) => return Err(not_rsa("an EC key (EC PRIVATE KEY)")),
            Ok(_) => return Err("the private key is in a form drift does not read".to_string()),
            Err(rustls_pki_types::pem::Error::NoItemsFound) => {
                return Err("no private key in the file (azure-identity expects the certificate and its private \
                            key in one PEM file)"
                    .to_string());
            }
            Err(e) => return Err(format!("the private key cannot be read ({e})")),
        }
    };
    Ok((key, certs))
}

/// The key and certificates of a PKCS#12 file.
fn read_pkcs12(bytes: &[u8], password: Option<&Secret>) -> Result<(KeyDer, Vec<Vec<u8>>), String> {
    // No password is an empty one: what `openssl pkcs12 -export -passout pass:` writes (azure-identity passes
    // `None`, which `cryptography` treats the same way for a MAC over an empty password).
    let password = password.map(Secret::expose).unwrap_or("");
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(bytes, password).map_err(|e| match e {
        p12_keystore::error::Error::MacError(_) => {
            format!("wrong password for the PKCS#12 file (set {CERTIFICATE_PASSWORD_ENV} to the password it was exported with)")
        }
        p12_keystore::error::Error::DerError(_) | p12_keystore::error::Error::InvalidVersion => {
            "neither PEM (no -----BEGIN line) nor a PKCS#12 file".to_string()
        }
        // Decryption failures of a MAC-less file also mean a wrong password; the library's words say which step.
        other => format!("cannot open the PKCS#12 file ({other}); check {CERTIFICATE_PASSWORD_ENV}"),
    })?;
    let mut keys = archive.keys.into_iter();
    let key = keys.next().ok_or("the PKCS#12 file holds no private key (export it with its private key)")?;
    if keys.next().is_some() {
        return Err("the PKCS#12 file holds more than one private key; export only the one to use".to_string());
    }
    let key = KeyDer::Pkcs8(Zeroizing::new(key.key.as_der().to_vec()));
    let certs = archive.certs.iter().map(|c| c.cert.as_der().to_vec()).collect();
    Ok((key, certs))
}

/// Private key DER, wiped when dropped.
enum KeyDer {
    Pkcs8(Zeroizing<Vec<u8>>),
    Pkcs1(Zeroizing<Vec<u8>>),
}

fn not_rsa(what: &str) -> String {
    format!(
        "the private key is {what}, not RSA: drift signs the client assertion with RS256, as azure-identity does, \
         which needs an RSA key"
    )
}

fn rsa_key(key: &KeyDer) -> Result<RsaKeyPair, String> {
    let rejected = |e: ring::error::KeyRejected| format!("the RSA private key is not usable ({e})");
    match key {
        KeyDer::Pkcs8(der) => {
            let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_slice())
                .map_err(|e| format!("the private key is not valid PKCS#8 ({e})"))?;
            let oid = info.algorithm.oid.to_string();
            if oid != RSA_ENCRYPTION_OID {
                let what = match oid.as_str() {
                    "1.2.840.10045.2.1" => "an EC key".to_string(),
                    "1.3.101.112" => "an Ed25519 key".to_string(),
                    "1.2.840.113549.1.1.10" => "an RSASSA-PSS-only key".to_string(),
                    other => format!("a key of algorithm {other}"),
                };
                return Err(not_rsa(&what));
            }
            RsaKeyPair::from_pkcs8(der).map_err(rejected)
        }
        KeyDer::Pkcs1(der) => RsaKeyPair::from_der(der).map_err(rejected),
    }
}

/// The index of the certificate whose public key is `key`'s, with its validity (Unix seconds). A file's other
/// certificates are its chain; which one is the key's is decided by the key, not by the order or by PKCS#12
/// `localKeyId` attributes (which some exporters leave out).
fn matching_certificate(key: &RsaKeyPair, certs: &[Vec<u8>]) -> Result<(usize, i64, i64), String> {
    if certs.is_empty() {
        return Err("no certificate in the file (azure-identity expects the certificate and its private key together)"
            .to_string());
    }
    for (i, der) in certs.iter().enumerate() {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| format!("certificate {} of the file cannot be read ({e})", i + 1))?;
        let spki = cert.public_key();
        // `subjectPublicKey` of an RSA certificate is the DER RSAPublicKey (RFC 8017 A.1.1), the form ring gives.
        if spki.algorithm.algorithm.to_id_string() == RSA_ENCRYPTION_OID
            && spki.subject_public_key.data.as_ref() == key.public().as_ref()
        {
            let validity = cert.validity();
            return Ok((i, validity.not_before.timestamp(), validity.not_after.timestamp()));
        }
    }
    Err(format!(
        "none of the file's {} certificate(s) belongs to its private key (their public keys differ): the key and \
         the certificate come from different pairs",
        certs.len()
    ))
}

fn sha1(der: &[u8]) -> [u8; 20] {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    let mut out = [0; 20];
    out.copy_from_slice(digest.as_ref());
    out
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

/// A random (version 4, RFC 9562 §5.4) UUID: the `jti` Entra's page asks for ("a GUID").
fn random_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex_upper(&b).to_ascii_lowercase();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_verdicts() {
        let day = 86_400;
        assert_eq!(Validity::at(0, 100 * day, 50 * day), Validity::Valid);
        assert_eq!(Validity::at(0, 100 * day, 100 * day), Validity::EndsSoon(0));
        assert_eq!(Validity::at(0, 100 * day, 90 * day), Validity::EndsSoon(10 * day));
        assert_eq!(Validity::at(0, 100 * day, 86 * day), Validity::Valid);
        assert_eq!(Validity::at(0, 100 * day, 100 * day + 1), Validity::Expired);
        assert_eq!(Validity::at(10, 100 * day, 9), Validity::NotYetValid);
    }

    #[test]
    fn send_chain_values() {
        for on in ["1", "true", "TRUE", " True "] {
            assert!(send_chain_enabled(Some(on)), "{on}");
        }
        for off in ["0", "false", "yes", "", "2"] {
            assert!(!send_chain_enabled(Some(off)), "{off}");
        }
        assert!(!send_chain_enabled(None));
    }

    #[test]
    fn uuids_are_v4_and_differ() {
        let a = random_uuid();
        let b = random_uuid();
        assert_ne!(a, b);
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(groups[2].starts_with('4'), "{a}");
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'), "{a}");
    }

    #[test]
    fn not_pem_and_not_pkcs12_is_named() {
        let err = ClientCertificate::from_bytes(Path::new("x"), b"garbage", None, false, SystemTime::now())
            .err()
            .unwrap_or_default();
        assert!(err.contains("neither PEM"), "{err}");
        let err =
            ClientCertificate::from_bytes(Path::new("x"), b"-----BEGIN NOTHING-----\n", None, false, SystemTime::now())
                .err()
                .unwrap_or_default();
        assert!(!err.is_empty());
    }
}
