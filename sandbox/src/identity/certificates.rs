//! Certificate credentials of app registrations, and the verification of the client assertions signed with them
//! (the `private_key_jwt` client authentication of the client-credentials grant).
//!
//! The assertion's format is Microsoft Learn's, "Microsoft identity platform application authentication
//! certificate credentials" (learn.microsoft.com/entra/identity-platform/certificate-credentials): header `alg`,
//! `typ`, and the certificate's thumbprint, `x5t` (base64url SHA-1 of the DER certificate) or, in the page's
//! current version, `x5t#S256` (SHA-256) with `PS256`; claims `aud` = the token endpoint, `iss` = `sub` = the client
//! id, `jti`, `nbf`, `exp`, `iat`. Entra accepts both thumbprint forms (MSAL.NET and MSAL Node send PS256 +
//! `x5t#S256`, azure-identity for Python and Go send RS256 + `x5t`), so the sandbox does too.
//!
//! Each rule below names where its error code and wording come from. The Entra error-code reference
//! (learn.microsoft.com/entra/identity-platform/reference-error-codes) documents AADSTS700027 ("Client assertion
//! failed signature validation"), AADSTS50048 ("SubjectMismatchesIssuer") and AADSTS50027 ("InvalidJwtToken");
//! AADSTS700023 and AADSTS700024 are not in its table and are taken from the messages Entra returned in public bug
//! reports, cited at each rule. Where the text says "from memory" nothing public was found to check it against.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::Value;

/// `rsaEncryption` (RFC 8017 appendix A.1): the only key type drift and azure-identity sign assertions with.
const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";

/// A certificate registered on an application (Entra's `keyCredentials` entry of type `AsymmetricX509Cert`,
/// usage `Verify`), with what verification needs. Its validity is the certificate's own: the portal's upload takes
/// the start and end dates from the certificate.
#[derive(Clone)]
pub(crate) struct RegisteredCertificate {
    der: Vec<u8>,
    sha1: [u8; 20],
    sha256: [u8; 32],
    /// DER RSAPublicKey (RFC 8017 A.1.1), as ring verifies with it.
    public_key: Vec<u8>,
    not_before: i64,
    not_after: i64,
}

impl RegisteredCertificate {
    /// A certificate from its DER encoding, or from PEM text (the first `CERTIFICATE` section). RSA keys only:
    /// the signature algorithms Entra names for client assertions (RS256, PS256) are RSA's.
    pub fn parse(bytes: &[u8]) -> Result<RegisteredCertificate, String> {
        let der = match pem_certificate(bytes) {
            Some(der) => der?,
            None => bytes.to_vec(),
        };
        let (_, cert) =
            x509_parser::parse_x509_certificate(&der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        let spki = cert.public_key();
        if spki.algorithm.algorithm.to_id_string() != RSA_ENCRYPTION_OID {
            return Err(format!("the certificate's key is not RSA (algorithm {})", spki.algorithm.algorithm));
        }
        let public_key = spki.subject_public_key.data.to_vec();
        let (not_before, not_after) = (cert.validity().not_before.timestamp(), cert.validity().not_after.timestamp());
        let mut sha1 = [0; 20];
        sha1.copy_from_slice(digest(&SHA1_FOR_LEGACY_USE_ONLY, &der).as_ref());
        let mut sha256 = [0; 32];
        sha256.copy_from_slice(digest(&SHA256, &der).as_ref());
        Ok(RegisteredCertificate { der, sha1, sha256, public_key, not_before, not_after })
    }

    pub fn same_as(&self, other: &RegisteredCertificate) -> bool {
        self.der == other.der
    }

    /// The SHA-1 thumbprint in upper-case hex, as Entra prints it in AADSTS700027.
    fn thumbprint_hex(&self) -> String {
        self.sha1.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// `Found key 'Start=…, End=…'`, as Entra describes the key it found (azure-sdk-for-java#25109: "Found key
    /// 'Start=02/07/2021 17:00:39, End=02/06/2026 17:00:39'").
    fn found_key(&self) -> String {
        let at = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string())
                .unwrap_or_default()
        };
        format!("Found key 'Start={}, End={}'", at(self.not_before), at(self.not_after))
    }
}

/// The first PEM `CERTIFICATE` section's DER; `None` when the bytes are not PEM.
fn pem_certificate(bytes: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let Some(end) = text[start..].find("-----END CERTIFICATE-----") else {
        return Some(Err("the PEM CERTIFICATE section has no end line".to_string()));
    };
    let body: String = text[start..start + end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    Some(STANDARD.decode(body).map_err(|e| format!("the PEM CERTIFICATE section is not base64: {e}")))
}

/// A client assertion, split and decoded (not yet verified).
pub(crate) struct ClientAssertion<'a> {
    header: Value,
    claims: Value,
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// Why an assertion is refused: the AADSTS number and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub code: u32,
    pub message: String,
}

fn reject(code: u32, message: impl Into<String>) -> Rejection {
    Rejection { code, message: message.into() }
}

impl<'a> ClientAssertion<'a> {
    /// A compact JWS (RFC 7515 §7.1): three base64url parts, header and payload JSON objects. `None` for anything
    /// else.
    pub fn parse(assertion: &'a str) -> Option<ClientAssertion<'a>> {
        let (signing_input, signature) = assertion.rsplit_once('.')?;
        let (header, claims) = signing_input.split_once('.')?;
        let json = |part: &str| -> Option<Value> {
            let value: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()?;
            value.is_object().then_some(value)
        };
        Some(ClientAssertion {
            header: json(header)?,
            claims: json(claims)?,
            signing_input,
            signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
        })
    }

    /// Whether the client signed it itself (`iss` is its client id): a certificate credential's assertion. A
    /// federated assertion is issued by another identity provider (GitHub, AKS, …) and is matched against the
    /// federated credentials instead (workload identity federation).
    pub fn is_self_issued(&self, client_id: &str) -> bool {
        self.claim("iss").is_some_and(|iss| iss.eq_ignore_ascii_case(client_id))
    }

    fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// Verifies a self-issued assertion against the application's certificates, for a request to
    /// `token_endpoint` at `now`. The order: signature algorithm, key lookup, key validity, signature, then the
    /// claims (nothing in the claims is trusted before the signature is).
    pub fn verify(
        &self,
        certificates: &[RegisteredCertificate],
        token_endpoint: &str,
        now: SystemTime,
    ) -> Result<(), Rejection> {
        let alg = self.header("alg").unwrap_or("none");
        // RS256 (PKCS#1 v1.5) and PS256 (PSS) with SHA-256, the two algorithms of the Learn page's versions (JWA,
        // RFC 7518 §3.3 and §3.5). The code and wording for others are from memory ("AADSTS5002738: Invalid JWT
        // token. 'ES256' is not a supported signature algorithm.").
        let algorithm: &'static dyn ring::signature::VerificationAlgorithm = match alg {
            "RS256" => &RSA_PKCS1_2048_8192_SHA256,
            "PS256" => &RSA_PSS_2048_8192_SHA256,
            other => {
                return Err(reject(
                    5002738,
                    format!(
                        "Invalid JWT token. '{other}' is not a supported signature algorithm. Supported signing \
                         algorithms are: 'RS256, PS256'"
                    ),
                ));
            }
        };
        // The key is named by its thumbprint: `x5t#S256` (RFC 7515 §4.1.8) when present, else `x5t` (§4.1.7).
        let named = match (self.header("x5t#S256"), self.header("x5t")) {
            (Some(s256), _) => URL_SAFE_NO_PAD.decode(s256).ok().map(|d| (d, true)),
            (None, Some(s1)) => URL_SAFE_NO_PAD.decode(s1).ok().map(|d| (d, false)),
            (None, None) => None,
        };
        let client_thumbprint =
            named.as_ref().map(|(d, _)| d.iter().map(|b| format!("{b:02X}")).collect::<String>()).unwrap_or_default();
        let found = named.as_ref().and_then(|(digest, sha256)| {
            certificates.iter().find(|c| if *sha256 { c.sha256[..] == digest[..] } else { c.sha1[..] == digest[..] })
        });
        // Wording as Entra answered for an unregistered certificate (keycloak/keycloak#19425: "AADSTS700027: The
        // certificate with identifier used to sign the client assertion is not registered on application.
        // [Reason - The key was not found., ...]"; Azure/azure-sdk-for-net#29007 adds the client's thumbprint).
        let Some(key) = found else {
            return Err(reject(
                700027,
                format!(
                    "The certificate with identifier used to sign the client assertion is not registered on \
                     application. [Reason - The key was not found., Thumbprint of key used by client: \
                     '{client_thumbprint}']"
                ),
            ));
        };
        // A registered key outside its validity: code as for any key problem; the reason text is from memory.
        let now_secs = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        if now_secs > key.not_after || now_secs < key.not_before {
            return Err(reject(
                700027,
                format!(
                    "Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint \
                     of key used by client: '{}', {}]",
                    key.thumbprint_hex(),
                    key.found_key()
                ),
            ));
        }
        // RFC 7515 §4.1.6: in `x5c` "the certificate containing the public key corresponding to the key used to
        // digitally sign the JWS MUST be the first certificate". A chain that starts elsewhere is refused (the
        // reason text is the sandbox's; Entra uses x5c only for subject name / issuer authentication).
        if let Some(chain) = self.header.get("x5c") {
            let first = chain.as_array().and_then(|c| c.first()).and_then(Value::as_str);
            if first.and_then(|c| STANDARD.decode(c).ok()).as_deref() != Some(&key.der[..]) {
                return Err(reject(
                    700027,
                    format!(
                        "Client assertion contains an invalid signature. [Reason - The first certificate of the x5c \
                         header is not the certificate of the key, Thumbprint of key used by client: '{}']",
                        key.thumbprint_hex()
                    ),
                ));
            }
        }
        // Wording as Entra answers a signature that does not verify (Azure/azure-sdk-for-java#25109: "[Reason -
        // The provided signature value did not match the expected signature value., Thumbprint of key used by
        // client: '…', Found key 'Start=…, End=…']"); code 700027 per the reference table.
        UnparsedPublicKey::new(algorithm, &key.public_key)
            .verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| {
                reject(
                    700027,
                    format!(
                        "Client assertion contains an invalid signature. [Reason - The provided signature value did \
                         not match the expected signature value., Thumbprint of key used by client: '{}', {}]",
                        key.thumbprint_hex(),
                        key.found_key()
                    ),
                )
            })?;
        // Reference table: "AADSTS50048 | SubjectMismatchesIssuer - Subject mismatches Issuer claim in the client
        // assertion."
        if self.claim("sub") != self.claim("iss") {
            return Err(reject(50048, "Subject mismatches Issuer claim in the client assertion."));
        }
        // `aud` must be the token endpoint the request was sent to (the Learn page: "aud |
        // https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token"). For the sandbox that is its own URL, as
        // the client addressed it: a client that hard-codes the public cloud's host would fail in the sovereign
        // clouds, and Entra answers it so (AzureAD/microsoft-authentication-library-for-dotnet#2746: "AADSTS700023:
        // Client assertion audience claim does not match Realm issuer.").
        let audience_ok = match self.claims.get("aud") {
            Some(Value::String(aud)) => aud == token_endpoint,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(token_endpoint)),
            _ => false,
        };
        if !audience_ok {
            return Err(reject(
                700023,
                format!(
                    "Client assertion audience claim does not match Realm issuer. (drift-sandbox: expected aud \
                     '{token_endpoint}', got {})",
                    self.claims.get("aud").map(Value::to_string).unwrap_or_else(|| "none".to_string())
                ),
            ));
        }
        // RFC 7523 §3: the JWT "MUST contain an exp claim" and may carry `nbf`; Entra's message lists both
        // (Azure/login#180, AzureAD/microsoft-authentication-library-for-java#984: "AADSTS700024: Client assertion
        // is not within its valid time range. Current time: …, assertion valid from 1970-01-01T00:00:00.0000000Z,
        // expiry time of assertion …" — a missing `nbf` shows as 1970). MSAL Python sends no `nbf`, so it is
        // optional.
        let Some(exp) = self.claims.get("exp").and_then(Value::as_i64) else {
            return Err(reject(50027, "Invalid JWT token. The token has no numeric 'exp' claim."));
        };
        let nbf = self.claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
        if now_secs >= exp || now_secs < nbf {
            let at = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0)
                    .map(|d| d.format("%Y-%m-%dT%H:%M:%S.0000000Z").to_string())
                    .unwrap_or_default()
            };
            return Err(reject(
                700024,
                format!(
                    "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, \
                     expiry time of assertion {}. Review the documentation at \
                     https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                    at(now_secs),
                    at(nbf),
                    at(exp)
                ),
            ));
        }
        // The Learn page lists `jti` ("a GUID") among the claims; whether Entra refuses an assertion without one is
        // not documented. The sandbox requires it, so a client that forgets it is caught here (stricter than what is
        // known of Entra; the code is the reference table's InvalidJwtToken).
        if self.claim("jti").is_none_or(str::is_empty) {
            return Err(reject(50027, "Invalid JWT token. The token has no 'jti' claim."));
        }
        Ok(())
    }
}
