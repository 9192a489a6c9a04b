//! Random identifiers: access tokens, request/trace ids, secret versions. Random rather than counters so that
//! nothing in drift can come to depend on their order or shape.

use rand::Rng;
use rand::distr::Alphanumeric;

/// An opaque bearer token: `sbx.` + 40 alphanumerics. Deliberately not a JWT, so drift never parses tokens it
/// should treat as opaque.
pub(crate) fn access_token() -> String {
    let tail: String = rand::rng().sample_iter(&Alphanumeric).take(40).map(char::from).collect();
    format!("sbx.{tail}")
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
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let token = access_token();
        assert!(token.starts_with("sbx.") && token.len() == 44, "{token}");
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert_eq!(hex32().len(), 32);
        assert_ne!(hex32(), hex32());
    }
}
