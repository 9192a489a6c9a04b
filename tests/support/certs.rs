//! Throwaway certificates for the certificate-credential tests, made at test time by the `openssl` command (Debian's
//! `openssl` package, on every machine image this project runs on), so no private key is committed. One
//! [`CertSet`] is a folder holding one RSA key with its self-signed certificate in every file form azure-identity
//! reads — PEM (PKCS#8, PKCS#1, encrypted PKCS#8), PKCS#12 (OpenSSL 3's AES default, Windows-style 3DES/SHA-1,
//! RC2 legacy, no password) — plus the broken forms the error tests need.
// Each test binary that includes this file uses a different part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// The PKCS#12 and encrypted-PEM password of every [`CertSet`].
pub const PASSWORD: &str = "pfx-Pa55 word!";

pub struct CertSet {
    pub dir: tempfile::TempDir,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The certificate's SHA-1 fingerprint as openssl prints it, upper-case hex without colons: an oracle
    /// independent of drift's own hashing.
    pub sha1_hex: String,
    /// The private key's PEM body (base64 lines), to check that nothing prints it.
    pub key_base64: String,
}

pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command (Debian package openssl) makes the test certificates");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cat(dir: &Path, parts: &[&str], out: &str) {
    let mut text = String::new();
    for p in parts {
        text.push_str(&std::fs::read_to_string(dir.join(p)).unwrap());
    }
    std::fs::write(dir.join(out), text).unwrap();
}

impl CertSet {
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// One RSA key (`key.pem`, PKCS#8) and its certificate valid for 30 days (`cert.pem`, `cert.der`).
    pub fn basic() -> CertSet {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(d, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem"]);
        openssl(d, &["req", "-x509", "-key", "key.pem", "-subj", "/CN=drift-test", "-days", "30", "-out", "cert.pem"]);
        openssl(d, &["x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der"]);
        let fingerprint = openssl(d, &["x509", "-in", "cert.pem", "-noout", "-fingerprint", "-sha1"]);
        let sha1_hex = fingerprint.trim().rsplit('=').next().unwrap_or_default().replace(':', "").to_uppercase();
        let key_pem = std::fs::read_to_string(d.join("key.pem")).unwrap();
        let key_base64 = key_pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>();
        CertSet { der: std::fs::read(d.join("cert.der")).unwrap(), sha1_hex, key_base64, dir }
    }

    /// The private key as unencrypted PKCS#8 DER, for tests that sign with it themselves.
    pub fn pkcs8_der(&self) -> Vec<u8> {
        let d = self.dir.path();
        openssl(d, &["pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out", "key.der"]);
        std::fs::read(d.join("key.der")).unwrap()
    }

    /// [`CertSet::basic`] in every file form drift reads, and the broken ones its error tests need.
    pub fn new() -> CertSet {
        let set = CertSet::basic();
        let d = set.dir.path();
        // PEM with the key first (azure-identity's documented form), and with the certificate first.
        cat(d, &["key.pem", "cert.pem"], "combined.pem");
        cat(d, &["cert.pem", "key.pem"], "cert-first.pem");
        openssl(d, &["rsa", "-in", "key.pem", "-traditional", "-out", "key-pkcs1.pem"]);
        cat(d, &["key-pkcs1.pem", "cert.pem"], "pkcs1.pem");
        let pass = format!("pass:{PASSWORD}");
        openssl(
            d,
            &["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "key.pem", "-passout", &pass, "-out", "key-enc.pem"],
        );
        cat(d, &["key-enc.pem", "cert.pem"], "encrypted.pem");
        openssl(
            d,
            &["rsa", "-in", "key.pem", "-traditional", "-aes256", "-passout", &pass, "-out", "key-legacy-enc.pem"],
        );
        cat(d, &["key-legacy-enc.pem", "cert.pem"], "legacy-encrypted.pem");
        let p12 = |out: &str, pass: &str, extra: &[&str]| {
            let mut args =
                vec!["pkcs12", "-export", "-inkey", "key.pem", "-in", "cert.pem", "-out", out, "-passout", pass];
            args.extend_from_slice(extra);
            openssl(d, &args);
        };
        // OpenSSL 3 default: PBES2 / PBKDF2 / AES-256-CBC, MAC HMAC-SHA-256.
        p12("aes.pfx", &pass, &[]);
        // What Windows' Export-PfxCertificate writes by default: PKCS#12 PBE with 3DES, MAC SHA-1.
        p12("tdes.pfx", &pass, &["-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"]);
        // OpenSSL 1.x default: certificates under 40-bit RC2.
        p12("legacy.pfx", &pass, &["-legacy"]);
        p12("nopass.pfx", "pass:", &[]);
        set
    }

    /// `mismatched.pem`: this set's key with `other`'s certificate.
    pub fn mismatched_with(&self, other: &CertSet) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("key.pem")).unwrap()
            + &std::fs::read_to_string(other.dir.path().join("cert.pem")).unwrap();
        let path = self.dir.path().join("mismatched.pem");
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    /// `expired.pem`: this set's key with a certificate valid only on 1 January 2020 (OpenSSL 3.0's `req -x509`
    /// cannot set past dates; `ca -selfsign` can). Returns the path and the certificate's DER.
    pub fn expired(&self) -> (String, Vec<u8>) {
        let d = self.dir.path();
        std::fs::write(
            d.join("ca.cnf"),
            "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\n\
             policy = p\n[p]\ncommonName = supplied\n",
        )
        .unwrap();
        std::fs::write(d.join("index.txt"), "").unwrap();
        std::fs::write(d.join("serial"), "01\n").unwrap();
        openssl(d, &["req", "-new", "-key", "key.pem", "-subj", "/CN=drift-expired", "-out", "req.csr"]);
        openssl(
            d,
            &[
                "ca",
                "-batch",
                "-selfsign",
                "-config",
                "ca.cnf",
                "-keyfile",
                "key.pem",
                "-in",
                "req.csr",
                "-out",
                "expired-cert.pem",
                "-startdate",
                "20200101000000Z",
                "-enddate",
                "20200102000000Z",
                "-notext",
            ],
        );
        cat(d, &["key.pem", "expired-cert.pem"], "expired.pem");
        openssl(d, &["x509", "-in", "expired-cert.pem", "-outform", "DER", "-out", "expired-cert.der"]);
        (self.path("expired.pem"), std::fs::read(d.join("expired-cert.der")).unwrap())
    }

    /// `chain.pem`: a CA certificate first, then this set's key and a leaf certificate the CA signed (with this
    /// set's key). Returns the path and the DER of (leaf, CA).
    pub fn chain(&self) -> (String, Vec<u8>, Vec<u8>) {
        let d = self.dir.path();
        openssl(d, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "ca-key.pem"]);
        openssl(
            d,
            &["req", "-x509", "-key", "ca-key.pem", "-subj", "/CN=drift-test-ca", "-days", "30", "-out", "ca.pem"],
        );
        openssl(d, &["req", "-new", "-key", "key.pem", "-subj", "/CN=drift-leaf", "-out", "leaf.csr"]);
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-set_serial",
                "7",
                "-days",
                "30",
                "-out",
                "leaf.pem",
            ],
        );
        cat(d, &["ca.pem", "key.pem", "leaf.pem"], "chain.pem");
        let der = |pem: &str| {
            let out = format!("{pem}.der");
            openssl(d, &["x509", "-in", pem, "-outform", "DER", "-out", &out]);
            std::fs::read(d.join(out)).unwrap()
        };
        (self.path("chain.pem"), der("leaf.pem"), der("ca.pem"))
    }

    /// `ec.pem`: an EC (P-256) key with its certificate.
    pub fn ec(&self) -> String {
        let d = self.dir.path();
        openssl(d, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec-key.pem"]);
        openssl(
            d,
            &["req", "-x509", "-key", "ec-key.pem", "-subj", "/CN=drift-ec", "-days", "30", "-out", "ec-cert.pem"],
        );
        cat(d, &["ec-key.pem", "ec-cert.pem"], "ec.pem");
        self.path("ec.pem")
    }
}
