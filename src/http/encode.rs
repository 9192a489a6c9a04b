//! Percent-encoding of URL parts, one rule for every client: ARM path segments, blob names, DFS paths and
//! storage query values. Everything but ASCII letters, digits and `-._*` is encoded, spaces as `%20` (what
//! `application/x-www-form-urlencoded` leaves alone, minus its `+` for space, which storage would not read back
//! as a space). Built on the `percent-encoding` crate (already in the tree through `url`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// The bytes left as they are: letters, digits, `-`, `.`, `_`, `*`.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'*');

/// One path segment or query value. A name that passed validation comes out unchanged; a stray character cannot
/// change the path's shape.
pub fn component(s: &str) -> String {
    utf8_percent_encode(s, KEEP).to_string()
}

/// A path of several segments (a blob name, a DFS path): each segment encoded, its `/` separators kept.
pub fn path(p: &str) -> String {
    p.split('/').map(component).collect::<Vec<_>>().join("/")
}

/// Decodes `%XX` escapes; malformed escapes stay as they are. `None` when the result is not UTF-8.
pub fn decode(s: &str) -> Option<String> {
    percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_paths_and_decoding() {
        assert_eq!(component("sales_v2-mltable.1*"), "sales_v2-mltable.1*");
        assert_eq!(component("a b+c/d?e#f%~ü"), "a%20b%2Bc%2Fd%3Fe%23f%25%7E%C3%BC");
        assert_eq!(path("delta/sales daily/_delta_log/00.json"), "delta/sales%20daily/_delta_log/00.json");
        assert_eq!(path("a/../b"), "a/../b", "dots are kept: names are validated before they get here");
        assert_eq!(decode("a%20b%2Fc").as_deref(), Some("a b/c"));
        assert_eq!(decode("100%").as_deref(), Some("100%"));
        assert_eq!(decode("%zz%4").as_deref(), Some("%zz%4"));
        assert_eq!(decode("%C3%BC").as_deref(), Some("ü"));
        assert_eq!(decode("%FF"), None);
        for s in ["plain", "with space", "ü/ß?&=", "%41"] {
            assert_eq!(decode(&component(s)).as_deref(), Some(s), "round trip of {s:?}");
        }
    }
}
