//! Random identifiers: access tokens, request/trace ids, secret versions. Random rather than counters so that
//! nothing in drift can come to depend on their order or shape.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use serde_json::{Value, json};

/// An access token shaped like Entra ID's: a JWT, `header.payload.signature` in base64url without padding, whose
/// payload holds `claims`. Real tokens are JWTs and the official clients read them: azure-ai-ml decodes the token
/// it sends in `x-azureml-token` and refuses to submit a pipeline job unless its `aud` is `https://ml.azure.com`
/// (`azure/ai/ml/operations/_job_operations.py`, `_set_headers_with_user_aml_token`: `jwt.decode(aml_token,
/// options={"verify_signature": False, ...})`, then `decoded_token.get("aud") != aml_resource_id`). The signature
/// is 32 random bytes: nothing can verify it, and the services recognise a token only by finding the whole string
/// in the table of issued tokens, so the claims carry no authority (drift treats tokens as opaque anyway).
pub(crate) fn access_token(claims: &Value) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "drift-sandbox"});
    let signature: [u8; 32] = rand::rng().random();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A random (version 4) UUID in its usual lower-case text form.
pub(crate) fn uuid() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = to_hex(&bytes);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// 32 lower-case hex digits, the shape of a Key Vault object version.
pub(crate) fn hex32() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    to_hex(&bytes)
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The payload of a token, as a JWT library would read it without verifying.
    pub(crate) fn claims_of(token: &str) -> Value {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url")).expect("JSON claims")
    }

    #[test]
    fn shapes() {
        let token = access_token(&json!({"aud": "https://ml.azure.com"}));
        assert_eq!(claims_of(&token), json!({"aud": "https://ml.azure.com"}));
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap())
            .expect("JSON header");
        assert_eq!(header["typ"], "JWT");
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{token}");
        assert_ne!(access_token(&json!({})), access_token(&json!({})));
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert_eq!(hex32().len(), 32);
        assert_ne!(hex32(), hex32());
    }
}
